// Checks shared by the auditor and the voter (a submission), and by the distributor, the
// distribution auditor, the voter and the claimer (a distribution list).
import type { Cycle } from '@coop/chain'
import { buildDistribution, compareAddresses, type Distribution } from '@coop/protocol'
import { isSandboxError, submissionRoot, valueCid, encodeValue, type AuditVerdict, type DistributionShare } from '@coop/sdk'
import type { Address, Hex } from 'viem'

import { NodeError, errorMessage } from '../errors.ts'
import { PROTOCOLS } from '../p2p/protocols.ts'
import { digestOfCid } from '../runtime/program.ts'
import { callProgram, encodable, requestNode, roundInfo, same, sleep, type TaskEnv } from './env.ts'

export type SubmissionCheck =
  | { ok: true }
  | { ok: false; reason: string; evidence: Record<string, unknown> }
  /** Too little time to tell (fewer than MIN_NO_ANSWER_ATTEMPTS tries): accuse nobody. */
  | { ok: 'unknown'; reason: string }

/** A silent submitter is only accused after this many failed tries (spread over ≥ 1 s). */
export const MIN_NO_ANSWER_ATTEMPTS = 3

/**
 * Fetches `submitter`'s submission of `cycle` over p2p (retrying until `deadlineMs`), checks it
 * hashes to the on-chain root and runs the program's audit. Our own failures (the sandbox) throw;
 * theirs (wrong root, failed audit, no answer) come back as evidence.
 */
export async function checkSubmission(
  env: TaskEnv,
  input: { cycle: bigint; submitter: Address; root: Hex; seed: Hex; deadlineMs: number },
): Promise<SubmissionCheck> {
  const { cycle, submitter, root, seed } = input
  const base = { taskId: env.id, cycle: Number(cycle), accused: submitter, auditor: env.node.address, onchainRoot: root }
  let attempts = 0
  let lastError = 'no attempt'
  while (!env.node.signal.aborted) {
    const left = input.deadlineMs - Date.now()
    if (left <= 200 && attempts > 0) break
    attempts++
    try {
      const message = await requestNode(env, submitter, PROTOCOLS.submission, { taskId: env.id, cycle: Number(cycle) }, Math.max(500, Math.min(3_000, left)))
      const value = (message.body as { value?: unknown } | null)?.value
      if (value === undefined) throw new Error('the answer has no value')
      const digest = submissionRoot(value).digest
      if (digest.toLowerCase() !== root.toLowerCase()) {
        return {
          ok: false,
          reason: 'the served submission does not hash to the on-chain root',
          evidence: { type: 'coop/evidence/root-mismatch/1', ...base, servedRoot: digest, response: message.signed },
        }
      }
      const verdict = (await callProgram(env, 'audit', value, roundInfo(env, cycle + 1n, cycle, seed), submitter)) as AuditVerdict
      if (verdict.ok) return { ok: true }
      return {
        ok: false,
        reason: verdict.reason,
        evidence: { type: 'coop/evidence/audit-failed/1', ...base, reason: verdict.reason, detail: encodable(verdict.evidence), response: message.signed },
      }
    } catch (error) {
      if (isSandboxError(error)) throw error
      lastError = errorMessage(error)
      env.logger.debug({ cycle, submitter, attempt: attempts, err: lastError }, 'submission fetch failed')
      if (input.deadlineMs - Date.now() <= 700) break
      await sleep(500, env.node.signal)
    }
  }
  if (attempts < MIN_NO_ANSWER_ATTEMPTS) return { ok: 'unknown', reason: `only ${attempts} attempt(s) before the deadline (${lastError})` }
  // No valid answer in time: our signed record of asking is the evidence.
  const record = { type: 'coop/evidence/no-answer/1', ...base, attempts, lastError, at: Date.now() }
  const signature = await env.node.chain.account.signMessage({ message: { raw: encodeValue(record) } })
  return { ok: false, reason: `no valid answer from the submitter (${lastError})`, evidence: { ...record, signature } }
}

/** A distribution list as published (JSON and dag-cbor): amounts as decimal strings. */
export type ListDocument = {
  version: 1
  taskId: string
  cycle: number
  merkleRoot: Hex
  rewardTotal: string
  bonusTotal: string
  entries: { node: Address; reward: string; bonus: string }[]
}

export type ComputedList = { distribution: Distribution; doc: ListDocument; cid: string; digest: Hex; json: string }

export function listFromDocument(env: TaskEnv, doc: ListDocument): Distribution {
  return buildDistribution({
    taskId: env.taskId,
    cycle: BigInt(doc.cycle),
    entries: doc.entries.map((entry) => ({ node: entry.node, reward: BigInt(entry.reward), bonus: BigInt(entry.bonus) })),
  })
}

export function documentOf(env: TaskEnv, cycle: bigint, distribution: Distribution): ComputedList {
  const entries = [...distribution.leaves]
    .sort((a, b) => compareAddresses(a.node, b.node))
    .map((leaf) => ({ node: leaf.node, reward: leaf.reward.toString(), bonus: leaf.bonus.toString() }))
  const doc: ListDocument = {
    version: 1,
    taskId: env.id,
    cycle: Number(cycle),
    merkleRoot: distribution.root,
    rewardTotal: distribution.totalReward.toString(),
    bonusTotal: distribution.totalBonus.toString(),
    entries,
  }
  const cid = valueCid(doc)
  return { distribution, doc, cid, digest: digestOfCid(cid), json: JSON.stringify(doc) }
}

/** Recomputes `cycle`'s list with the program's distribution over the on-chain submitters. */
export async function computeList(env: TaskEnv, cycle: bigint, state: Cycle): Promise<ComputedList> {
  const coop = env.node.chain.coop
  // Direct submitters, then batched ones (their entries decoded from the batch transactions).
  const nodes = state.batchCount === 0 ? state.submitters : (await coop.getCycleSubmitters({ taskId: env.taskId, cycle })).submitters.map((s) => s.node)
  const submitters = await Promise.all(
    nodes.map(async (node) => {
      const submission = await coop.getSubmission({ taskId: env.taskId, cycle, node })
      return { node, passed: !submission.convicted, root: submission.root }
    }),
  )
  const shares = (await callProgram(
    env,
    'distribution',
    submitters,
    { reward: state.budget, bonus: state.bonus },
    roundInfo(env, cycle + 2n, cycle, state.seed),
  )) as DistributionShare[]
  const entries = shares.filter((share) => share.reward > 0n || share.bonus > 0n)
  if (entries.length === 0) throw new NodeError('LIST_UNAVAILABLE', `the distribution of cycle ${cycle} pays nobody`)
  const distribution = buildDistribution({ taskId: env.taskId, cycle, entries })
  return documentOf(env, cycle, distribution)
}

/** Parses a fetched list and checks it against the on-chain root and CID digest. */
export function verifyListDocument(env: TaskEnv, cycle: bigint, json: string, expected: { merkleRoot: Hex; listCid?: Hex }): ComputedList {
  const doc = JSON.parse(json) as ListDocument
  if (!doc || doc.version !== 1 || !Array.isArray(doc.entries) || BigInt(doc.cycle) !== cycle || doc.taskId !== env.id) {
    throw new NodeError('LIST_UNAVAILABLE', 'malformed distribution list')
  }
  const distribution = listFromDocument(env, doc)
  if (distribution.root.toLowerCase() !== expected.merkleRoot.toLowerCase()) {
    throw new NodeError('LIST_UNAVAILABLE', 'the list does not match the posted Merkle root', { details: { root: distribution.root, posted: expected.merkleRoot } })
  }
  const cid = valueCid(doc)
  const digest = digestOfCid(cid)
  if (expected.listCid && digest.toLowerCase() !== expected.listCid.toLowerCase()) {
    throw new NodeError('LIST_UNAVAILABLE', 'the list does not match the posted list CID', { details: { digest, posted: expected.listCid } })
  }
  return { distribution, doc, cid, digest, json }
}

/** The list of a posted cycle: local, from the poster, or recomputed (whichever matches the chain). */
export async function obtainList(env: TaskEnv, cycle: bigint, state: Cycle): Promise<ComputedList | undefined> {
  const store = env.node.store
  const local = store.getList(env.id, Number(cycle), { merkleRoot: state.merkleRoot })
  if (local) {
    try {
      return verifyListDocument(env, cycle, local.listJson, { merkleRoot: state.merkleRoot })
    } catch {}
  }
  if (state.poster && !same(state.poster, env.node.address)) {
    try {
      const message = await requestNode(env, state.poster, PROTOCOLS.list, { taskId: env.id, cycle: Number(cycle) })
      const json = (message.body as { list?: unknown } | null)?.list
      if (typeof json !== 'string') throw new Error('the answer has no list')
      const list = verifyListDocument(env, cycle, json, { merkleRoot: state.merkleRoot, listCid: state.listCid })
      store.putList({ taskId: env.id, cycle: Number(cycle), listCid: list.cid, merkleRoot: list.distribution.root, listJson: list.json, source: state.poster })
      return list
    } catch (error) {
      env.logger.debug({ cycle, poster: state.poster, err: errorMessage(error) }, 'list fetch failed; recomputing')
    }
  }
  try {
    const list = await computeList(env, cycle, state)
    if (list.distribution.root.toLowerCase() !== state.merkleRoot.toLowerCase()) return undefined
    store.putList({ taskId: env.id, cycle: Number(cycle), listCid: list.cid, merkleRoot: list.distribution.root, listJson: list.json, source: 'recomputed' })
    return list
  } catch (error) {
    env.logger.debug({ cycle, err: errorMessage(error) }, 'list recomputation failed')
    return undefined
  }
}
