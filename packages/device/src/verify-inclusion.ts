// A device checks that its payload made it into the ledger, trusting only the chain:
//   1. the receipt is signed by the node it names (EIP-191, the node's EVM key);
//   2. the node's leaf at the receipt's position is the payload (same sha2-256 as payloadCid) and
//      its inclusion proof leads to the node's round DAG root (every block re-hashed);
//   3. that root is the node's on-chain submission for (task, cycle) (TaskManager.getSubmission);
//   4. once the cycle's distribution anchored a SCALE head (Cycle.scaleHead), the head's bytes
//      hash to it and list the same root for the node.
// Steps 3–4 are what make the receipt worth something: a node that dropped or replaced the payload
// cannot produce a proof against the root it submitted.
import { createCoopPublicClient, getCycle, getSubmission } from '@coop/chain'
import { type DeviceReceipt, type InclusionProof, decodeScaleHead, headSubmissionRoot, verifyInclusion as verifyLeafInclusion, verifyReceipt } from '@coop/protocol'
import { sha256 } from '@noble/hashes/sha2'
import { CID } from 'multiformats/cid'
import { type Address, type Hex, bytesToHex, hexToBytes, isAddress, isHex } from 'viem'

import { DeviceError } from './errors.ts'
import { baseUrl, refused, requestJson } from './http.ts'

export type InclusionOptions = {
  /** The API of the node that signed the receipt. */
  nodeUrl: string
  rpcUrl: string
  taskManager: Address
  timeoutMs?: number
}

export type CheckStatus = 'ok' | 'failed' | 'pending' | 'unavailable'

export type InclusionReport = {
  /** Receipt, leaf, proof and on-chain submission all check out, and no anchored head disagrees. */
  ok: boolean
  /** How far the payload is anchored: 'head' (a final SCALE head lists the root), 'submission' (the root is on-chain), 'none'. */
  anchored: 'head' | 'submission' | 'none'
  node: Address
  taskId: string
  cycle: number
  position: number
  /** The node's round DAG root (CID) and its digest, as served with the proof. */
  root: string | null
  digest: Hex | null
  checks: { receipt: CheckStatus; leaf: CheckStatus; proof: CheckStatus; submission: CheckStatus; head: CheckStatus }
  /** What went wrong or is still pending, in words. */
  problems: string[]
}

type ProofAnswer = {
  root: string
  digest: Hex
  leafCount: number
  leaf: Hex
  leafCid: string
  proof: { leafCid: string; path: Hex[] }
  head?: { digest: Hex; bytes: Hex } | null
}

function parseProofAnswer(body: unknown, url: string): ProofAnswer {
  const b = body as Partial<ProofAnswer> | null
  const hex = (value: unknown): value is Hex => typeof value === 'string' && isHex(value)
  if (
    !b ||
    typeof b.root !== 'string' ||
    !hex(b.digest) ||
    !hex(b.leaf) ||
    typeof b.leafCount !== 'number' ||
    !b.proof ||
    typeof b.proof.leafCid !== 'string' ||
    !Array.isArray(b.proof.path) ||
    !b.proof.path.every(hex)
  ) {
    throw new DeviceError('BAD_RESPONSE', 'the node\'s proof answer does not have the documented shape', { url })
  }
  return b as ProofAnswer
}

/** Checks a receipt end to end (see the top of this file). Throws DeviceError only when the node or chain cannot be asked. */
export async function verifyInclusion(receipt: DeviceReceipt, options: InclusionOptions): Promise<InclusionReport> {
  if (!isAddress(options.taskManager, { strict: false })) throw new DeviceError('INVALID_OPTIONS', 'taskManager must be an address', { taskManager: options.taskManager })
  const problems: string[] = []
  const checks: InclusionReport['checks'] = { receipt: 'failed', leaf: 'unavailable', proof: 'unavailable', submission: 'unavailable', head: 'unavailable' }
  const report = (extra: Partial<InclusionReport>): InclusionReport => {
    const ok = checks.receipt === 'ok' && checks.leaf === 'ok' && checks.proof === 'ok' && checks.submission === 'ok' && checks.head !== 'failed'
    return {
      ok,
      anchored: ok ? (checks.head === 'ok' ? 'head' : 'submission') : 'none',
      node: receipt.node,
      taskId: receipt.taskId,
      cycle: receipt.round,
      position: receipt.position,
      root: null,
      digest: null,
      checks,
      problems,
      ...extra,
    }
  }

  // 1. receipt signature
  let node: Address
  try {
    node = await verifyReceipt(receipt)
    checks.receipt = 'ok'
  } catch (error) {
    problems.push(`receipt: ${(error as Error).message}`)
    return report({})
  }

  // 2. leaf + proof from the node
  const url = `${baseUrl(options.nodeUrl)}/api/tasks/${encodeURIComponent(receipt.taskId)}/rounds/${receipt.round}/proof/${receipt.position}`
  const { status, body } = await requestJson(url, { timeoutMs: options.timeoutMs ?? 10_000 })
  if (status !== 200) {
    const error = refused(url, status, body)
    const code = error.details.code
    if (code === 'ROUND_NOT_FOUND' || code === 'ROUND_NOT_BUILT') {
      checks.leaf = checks.proof = checks.submission = checks.head = 'pending'
      problems.push(`the node has not built round ${receipt.round} yet (it does at the start of the next round); try again later`)
      return report({})
    }
    problems.push(`proof: ${error.message}`)
    checks.leaf = checks.proof = 'failed'
    return report({})
  }
  const answer = parseProofAnswer(body, url)
  const leaf = hexToBytes(answer.leaf)
  let payloadDigest: string
  try {
    payloadDigest = bytesToHex(CID.parse(receipt.payloadCid).multihash.digest)
  } catch {
    payloadDigest = ''
  }
  checks.leaf = bytesToHex(sha256(leaf)) === payloadDigest ? 'ok' : 'failed'
  if (checks.leaf === 'failed') problems.push(`leaf ${receipt.position} of the node's round ${receipt.round} is not this payload`)
  const proof: InclusionProof = { leafCid: answer.proof.leafCid, path: answer.proof.path.map((block) => ({ block: hexToBytes(block) })) }
  let included = false
  try {
    included = verifyLeafInclusion(answer.digest, receipt.position, leaf, proof) && (() => {
      const root = CID.parse(answer.root)
      return bytesToHex(root.multihash.digest) === answer.digest.toLowerCase()
    })()
  } catch (error) {
    problems.push(`proof: ${(error as Error).message}`)
  }
  checks.proof = included ? 'ok' : 'failed'
  if (!included && checks.proof === 'failed' && !problems.some((p) => p.startsWith('proof:'))) problems.push(`the proof does not lead from leaf ${receipt.position} to the root the node served`)
  const served = { root: answer.root, digest: answer.digest.toLowerCase() as Hex }

  // 3. the root against the node's on-chain submission
  const client = createCoopPublicClient({ rpcUrl: options.rpcUrl, timeout: options.timeoutMs ?? 10_000 })
  let onchain: Hex
  let scaleHead: Hex | undefined
  try {
    const submission = await getSubmission(client, { address: options.taskManager, taskId: BigInt(receipt.taskId), cycle: BigInt(receipt.round), node })
    onchain = (submission as { root: Hex }).root.toLowerCase() as Hex
    const cycle = (await getCycle(client, { address: options.taskManager, taskId: BigInt(receipt.taskId), cycle: BigInt(receipt.round) })) as { scaleHead?: Hex; status?: number }
    scaleHead = cycle.scaleHead
  } catch (cause) {
    throw new DeviceError('CHAIN_UNREACHABLE', `cannot read the submission from ${options.rpcUrl}`, { rpcUrl: options.rpcUrl }, cause)
  }
  if (BigInt(onchain) === 0n) {
    checks.submission = 'pending'
    problems.push(`node ${node} has no submission for cycle ${receipt.round} on-chain yet (it submits in the next round's submission window)`)
  } else if (onchain === served.digest) checks.submission = 'ok'
  else {
    checks.submission = 'failed'
    problems.push(`the node's on-chain root for cycle ${receipt.round} (${onchain}) is not the root it proves against (${served.digest})`)
  }

  // 4. the anchored SCALE head (once the cycle's distribution posted one)
  if (scaleHead === undefined) checks.head = 'unavailable'
  else if (BigInt(scaleHead) === 0n) checks.head = 'pending'
  else if (answer.head && isHex(answer.head.bytes)) {
    try {
      const bytes = hexToBytes(answer.head.bytes)
      const decoded = decodeScaleHead(bytes)
      if (decoded.digest.toLowerCase() !== scaleHead.toLowerCase()) {
        checks.head = 'failed'
        problems.push('the head the node served is not the one anchored on-chain')
      } else if (headSubmissionRoot(decoded.head, node)?.toLowerCase() !== served.digest) {
        checks.head = 'failed'
        problems.push(`the anchored SCALE head of cycle ${receipt.round} does not list this root for node ${node}`)
      } else checks.head = 'ok'
    } catch (error) {
      checks.head = 'failed'
      problems.push(`head: ${(error as Error).message}`)
    }
  } else {
    checks.head = 'unavailable'
    problems.push('a SCALE head is anchored for this cycle but the node did not serve its bytes')
  }
  return report(served)
}
