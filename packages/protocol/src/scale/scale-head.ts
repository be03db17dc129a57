import { type Address, type Hex, bytesToHex, getAddress, hexToBytes } from 'viem'
import * as Digest from 'multiformats/hashes/digest'
import { CID, DAG_CBOR_CODE, SHA2_256, bytesEqual, cidOf, dagCbor, isSupportedCid } from './cid.ts'
import { scaleError } from './errors.ts'

// The SCALE head of a finalized cycle (DESIGN.md §2, docs/scale.md): one dag-cbor block linking
// the accepted submission roots, the distribution list and the previous head. Its CID is CIDv1
// dag-cbor sha2-256; the 32-byte digest is what the poster anchors on-chain with the list
// (postDistribution(..., scaleHead)). Every field is something the chain states, so a verifier
// needs nothing but the chain to check a node's history of heads:
//
//   { v: 1, task: "<decimal>", cycle: <int>, prev: CID | null,
//     submissions: [{ node: <20 bytes>, root: <32 bytes> }]   (accepted = not convicted, sorted by node)
//     distribution: { merkleRoot: <32 bytes>, listCid: <32 bytes> } }
//
// Roots and the list CID are the on-chain 32-byte digests (the chain does not know their codec);
// prev is a real link: heads are always dag-cbor, so the link follows from an anchored digest.

export const SCALE_HEAD_VERSION = 1
/** A head lists every accepted submitter of its cycle; far more than any task network has. */
export const MAX_HEAD_SUBMISSIONS = 10_000
/** Header (< 200 bytes) + 60 bytes per submission, rounded up generously. */
export const MAX_SCALE_HEAD_BYTES = 256 + MAX_HEAD_SUBMISSIONS * 64

export interface HeadSubmission {
  /** Checksummed address of the submitter. */
  readonly node: Address
  /** The on-chain root (32 bytes, 0x lowercase hex): the digest of the node's round DAG root. */
  readonly root: Hex
}

export interface ScaleHeadFields {
  /** uint256 task id (bigint, or decimal string). */
  readonly task: bigint | string
  readonly cycle: number | bigint
  /** The previous anchored head: its CID string, its 32-byte digest (0x hex), or null for the first. */
  readonly prev: string | Hex | null
  /** Accepted submissions, in any order (sorted by node in the head); duplicates are refused. */
  readonly submissions: readonly { readonly node: Address | string; readonly root: Hex | string }[]
  readonly distribution: { readonly merkleRoot: Hex | string; readonly listCid: Hex | string }
}

export interface ScaleHead {
  readonly v: 1
  readonly task: string
  readonly cycle: number
  /** CID string of the previous head, or null. */
  readonly prev: string | null
  readonly submissions: readonly HeadSubmission[]
  readonly distribution: { readonly merkleRoot: Hex; readonly listCid: Hex }
}

export interface EncodedScaleHead {
  readonly head: ScaleHead
  /** CIDv1 dag-cbor sha2-256, base32. */
  readonly cid: string
  /** The 32-byte sha2-256 digest of the block (0x hex): what is anchored on-chain. */
  readonly digest: Hex
  /** The dag-cbor block. */
  readonly bytes: Uint8Array
}

interface WireHead {
  v: number
  task: string
  cycle: number
  prev: CID | null
  submissions: { node: Uint8Array; root: Uint8Array }[]
  distribution: { merkleRoot: Uint8Array; listCid: Uint8Array }
}

const BYTES32 = /^0x[0-9a-fA-F]{64}$/
const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const DECIMAL = /^(0|[1-9][0-9]{0,77})$/
const MAX_UINT256 = (1n << 256n) - 1n

function taskString(task: unknown): string {
  let value: bigint | undefined
  if (typeof task === 'bigint') value = task
  else if (typeof task === 'string' && DECIMAL.test(task)) value = BigInt(task)
  if (value === undefined || value < 0n || value > MAX_UINT256) throw scaleError('MALFORMED', 'task is not a uint256 (bigint or decimal string)', { task: String(task) })
  return value.toString()
}

function cycleNumber(cycle: unknown): number {
  const value = typeof cycle === 'bigint' && cycle <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(cycle) : cycle
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw scaleError('MALFORMED', 'cycle is not a non-negative safe integer', { cycle: String(cycle) })
  return value
}

function bytes32(value: unknown, what: string): Hex {
  if (typeof value !== 'string' || !BYTES32.test(value)) throw scaleError('MALFORMED', `${what} is not 32 bytes of 0x hex`, { [what]: String(value) })
  return value.toLowerCase() as Hex
}

function address(value: unknown, what: string): Address {
  if (typeof value !== 'string' || !ADDRESS.test(value)) throw scaleError('MALFORMED', `${what} is not a 20-byte address`, { [what]: String(value) })
  return getAddress(value.toLowerCase())
}

/** The CID of a head from its anchored digest (heads are always dag-cbor sha2-256). */
export function scaleHeadCidFromDigest(digest: Hex): string {
  return CID.createV1(DAG_CBOR_CODE, Digest.create(SHA2_256, hexToBytes(bytes32(digest, 'digest')))).toString()
}

function prevCid(prev: unknown): CID | null {
  if (prev === null) return null
  if (typeof prev === 'string' && prev.startsWith('0x')) return CID.parse(scaleHeadCidFromDigest(prev as Hex))
  let cid: CID | undefined
  try {
    cid = typeof prev === 'string' ? CID.parse(prev) : undefined
  } catch {
    cid = undefined
  }
  if (cid === undefined || !isSupportedCid(cid, [DAG_CBOR_CODE])) throw scaleError('MALFORMED', 'prev is not a dag-cbor sha2-256 CIDv1 or a 32-byte digest', { prev: String(prev) })
  return cid
}

const compareBytes = (a: Uint8Array, b: Uint8Array): number => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number)
  return a.length - b.length
}

function toScaleHead(wire: WireHead): ScaleHead {
  return {
    v: 1,
    task: wire.task,
    cycle: wire.cycle,
    prev: wire.prev === null ? null : wire.prev.toString(),
    submissions: wire.submissions.map((s) => ({ node: getAddress(bytesToHex(s.node)), root: bytesToHex(s.root) })),
    distribution: { merkleRoot: bytesToHex(wire.distribution.merkleRoot), listCid: bytesToHex(wire.distribution.listCid) },
  }
}

function encode(wire: WireHead): EncodedScaleHead {
  const bytes = dagCbor.encode(wire)
  if (bytes.length > MAX_SCALE_HEAD_BYTES) throw scaleError('TOO_LARGE', 'head exceeds MAX_SCALE_HEAD_BYTES', { bytes: bytes.length })
  const cid = cidOf(DAG_CBOR_CODE, bytes)
  return { head: toScaleHead(wire), cid: cid.toString(), digest: bytesToHex(cid.multihash.digest), bytes }
}

/** Builds the head block of a finalized cycle. Throws ScaleError (MALFORMED, TOO_LARGE). */
export function buildScaleHead(fields: ScaleHeadFields): EncodedScaleHead {
  if (typeof fields !== 'object' || fields === null) throw scaleError('MALFORMED', 'head fields are not an object')
  if (!Array.isArray(fields.submissions)) throw scaleError('MALFORMED', 'submissions is not an array')
  if (fields.submissions.length > MAX_HEAD_SUBMISSIONS) throw scaleError('TOO_LARGE', 'too many submissions', { submissions: fields.submissions.length })
  const submissions = fields.submissions
    .map((s, i) => {
      if (typeof s !== 'object' || s === null) throw scaleError('MALFORMED', 'submission is not { node, root }', { index: i })
      return { node: hexToBytes(address(s.node, 'node')), root: hexToBytes(bytes32(s.root, 'root')) }
    })
    .sort((a, b) => compareBytes(a.node, b.node))
  for (let i = 1; i < submissions.length; i++) {
    if (bytesEqual((submissions[i - 1] as { node: Uint8Array }).node, (submissions[i] as { node: Uint8Array }).node)) {
      throw scaleError('MALFORMED', 'a node appears twice in submissions', { node: bytesToHex((submissions[i] as { node: Uint8Array }).node) })
    }
  }
  const distribution = fields.distribution
  if (typeof distribution !== 'object' || distribution === null) throw scaleError('MALFORMED', 'distribution is not { merkleRoot, listCid }')
  return encode({
    v: SCALE_HEAD_VERSION,
    task: taskString(fields.task),
    cycle: cycleNumber(fields.cycle),
    prev: prevCid(fields.prev),
    submissions,
    distribution: { merkleRoot: hexToBytes(bytes32(distribution.merkleRoot, 'merkleRoot')), listCid: hexToBytes(bytes32(distribution.listCid, 'listCid')) },
  })
}

const isMap = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array) && CID.asCID(value) === null
const keysOf = (value: Record<string, unknown>): string => Object.keys(value).sort().join(',')
const isBytes = (value: unknown, length: number): value is Uint8Array => value instanceof Uint8Array && value.length === length

/**
 * Decodes a head block received from anyone: size first (TOO_LARGE), then dag-cbor, exact shape,
 * sorted unique submitters and canonical encoding (MALFORMED), so one head has exactly one CID.
 */
export function decodeScaleHead(bytes: Uint8Array): EncodedScaleHead {
  if (!(bytes instanceof Uint8Array)) throw scaleError('MALFORMED', 'head is not bytes')
  if (bytes.length > MAX_SCALE_HEAD_BYTES) throw scaleError('TOO_LARGE', 'head exceeds MAX_SCALE_HEAD_BYTES', { bytes: bytes.length })
  let value: unknown
  try {
    value = dagCbor.decode(bytes)
  } catch (cause) {
    throw scaleError('MALFORMED', 'head is not dag-cbor', {}, cause)
  }
  if (!isMap(value) || keysOf(value) !== 'cycle,distribution,prev,submissions,task,v') throw scaleError('MALFORMED', 'head does not have exactly the fields of a v1 SCALE head')
  if (value.v !== SCALE_HEAD_VERSION) throw scaleError('MALFORMED', 'unknown head version', { v: String(value.v) })
  const task = taskString(value.task)
  const cycle = cycleNumber(value.cycle)
  let prev: CID | null = null
  if (value.prev !== null) {
    const link = CID.asCID(value.prev)
    if (link === null || !isSupportedCid(link, [DAG_CBOR_CODE])) throw scaleError('MALFORMED', 'prev is not null or a dag-cbor sha2-256 CIDv1 link')
    prev = link
  }
  if (!Array.isArray(value.submissions) || value.submissions.length > MAX_HEAD_SUBMISSIONS) throw scaleError('MALFORMED', 'submissions is not a bounded array')
  const submissions = value.submissions.map((s: unknown, index: number) => {
    if (!isMap(s) || keysOf(s) !== 'node,root' || !isBytes(s.node, 20) || !isBytes(s.root, 32)) throw scaleError('MALFORMED', 'submission is not { node: 20 bytes, root: 32 bytes }', { index })
    return { node: s.node, root: s.root }
  })
  for (let i = 1; i < submissions.length; i++) {
    if (compareBytes((submissions[i - 1] as { node: Uint8Array }).node, (submissions[i] as { node: Uint8Array }).node) >= 0) {
      throw scaleError('MALFORMED', 'submissions are not sorted by node without duplicates', { index: i })
    }
  }
  const d = value.distribution
  if (!isMap(d) || keysOf(d) !== 'listCid,merkleRoot' || !isBytes(d.merkleRoot, 32) || !isBytes(d.listCid, 32)) {
    throw scaleError('MALFORMED', 'distribution is not { merkleRoot: 32 bytes, listCid: 32 bytes }')
  }
  const encoded = encode({ v: SCALE_HEAD_VERSION, task, cycle, prev, submissions, distribution: { merkleRoot: d.merkleRoot, listCid: d.listCid } })
  if (!bytesEqual(encoded.bytes, bytes)) throw scaleError('MALFORMED', 'head is not canonical dag-cbor')
  return encoded
}

/** The root a head records for `node`, if the node is an accepted submitter of the cycle. */
export function headSubmissionRoot(head: ScaleHead, node: Address | string): Hex | undefined {
  const wanted = address(node, 'node')
  return head.submissions.find((s) => s.node === wanted)?.root
}

// ─── verification against the chain ──────────────────────────────────────────────────────────

/** What the chain says about one cycle of the task (read by the caller; this module does no IO). */
export interface ChainCycleFacts {
  readonly cycle: number | bigint
  /** Cycle.status is Final. */
  readonly final: boolean
  /** Cycle.scaleHead: the anchored digest (zero bytes32 = no head anchored). */
  readonly scaleHead: Hex
  /** Submitted roots of the accepted (not convicted) submitters. */
  readonly submissions: readonly { readonly node: Address | string; readonly root: Hex | string }[]
  readonly merkleRoot: Hex
  readonly listCid: Hex
  /** Timestamp of the block holding the cycle's DistributionFinalized (enables the strict prev rule). */
  readonly finalizedTime?: bigint
  /** roundStart(cycle + 2): the earliest time any list of this cycle can be posted (the prev cutoff). */
  readonly distributionOpensAt?: bigint
}

export type HeadCheckCode =
  | 'MALFORMED' // the bytes are not a v1 head
  | 'WRONG_TASK'
  | 'OUT_OF_ORDER' // heads are not in strictly increasing cycle order (reordered or duplicated)
  | 'NOT_ANCHORED' // the chain has no final head for this cycle
  | 'DIGEST_MISMATCH' // the head's digest is not the one anchored for its cycle
  | 'PREV_MISMATCH' // prev is not the head the prev rule names (see expectedPrev)
  | 'SUBMISSIONS_MISMATCH' // a missing, extra or altered accepted submission
  | 'DISTRIBUTION_MISMATCH' // merkleRoot or listCid differ from the final list
  | 'MISSING_HEAD' // a cycle with an anchored final head is not in the history (gap)

export interface HeadCheck {
  readonly cycle: number
  readonly ok: boolean
  /** Every problem found with this cycle (empty when ok). */
  readonly failures: readonly { readonly code: HeadCheckCode; readonly message: string }[]
  readonly cid?: string
  readonly digest?: Hex
}

export interface HeadChainReport {
  readonly ok: boolean
  /** One entry per served head (in the order given) and per missing cycle, sorted by cycle. */
  readonly cycles: readonly HeadCheck[]
}

export interface VerifyHeadChainOptions {
  readonly task: bigint | string
  /** Anchored cycles from here must be present (default: the first anchored cycle, i.e. the whole history). */
  readonly from?: number | bigint
  /** Anchored cycles up to here must be present (default: the last anchored cycle). */
  readonly through?: number | bigint
}

const ZERO32 = `0x${'00'.repeat(32)}`
export interface AnchoredCycle {
  cycle: number
  digest: Hex
  /** Timestamp of the block that finalized the cycle's list (undefined = unknown). */
  finalizedTime?: bigint
}

/**
 * The prev rule: the head `cycle` links is the anchored head of the highest cycle below it whose
 * list was finalized in a block with timestamp < `opensAt` = roundStart(cycle + 2), the moment the
 * contract first lets any list of `cycle` be posted (DistributionNotOpen before). The cutoff lies
 * before every post of the cycle, and block timestamps never decrease, so once the chain has
 * reached `opensAt` no later block can change the answer: the poster can always compute it (it
 * cannot post earlier anyway) and the verifier checks it from events alone, however many cycles
 * finalize between the poster's read and its post landing. A cycle finalized at or after the
 * cutoff is skipped (it is linked by a later head). Without times (`opensAt` or a candidate's
 * `finalizedTime` undefined) every final cycle below counts: a weaker, loose check.
 */
export function expectedPrev<T extends AnchoredCycle>(anchored: readonly T[], cycle: number, opensAt?: bigint): T | undefined {
  let best: T | undefined
  for (const entry of anchored) {
    if (entry.cycle >= cycle) continue
    if (opensAt !== undefined && entry.finalizedTime !== undefined && entry.finalizedTime >= opensAt) continue
    if (best === undefined || entry.cycle > best.cycle) best = entry
  }
  return best
}

/**
 * Checks a node's history of heads (dag-cbor blocks, ascending cycles) against what the chain
 * says. Never throws for bad heads: every problem is a failure in the report. Detects a wrong
 * digest, a broken prev link, a missing/extra/altered submission, an altered distribution, a gap
 * (an anchored final cycle not served) and reordering or duplicates.
 */
export function verifyHeadChain(heads: readonly Uint8Array[], chain: readonly ChainCycleFacts[], options: VerifyHeadChainOptions): HeadChainReport {
  const task = taskString(options.task)
  const factsByCycle = new Map<number, ChainCycleFacts>()
  for (const facts of chain) factsByCycle.set(cycleNumber(facts.cycle), facts)
  const anchored = [...factsByCycle.entries()]
    .filter(([, facts]) => facts.final && typeof facts.scaleHead === 'string' && facts.scaleHead.toLowerCase() !== ZERO32)
    .map(([cycle, facts]) => ({ cycle, digest: facts.scaleHead.toLowerCase() as Hex, ...(facts.finalizedTime === undefined ? {} : { finalizedTime: facts.finalizedTime }) }))
    .sort((a, b) => a.cycle - b.cycle)

  const checks: HeadCheck[] = []
  const seen = new Set<number>()
  let lastCycle = -1
  for (const [index, bytes] of heads.entries()) {
    let decoded: EncodedScaleHead
    try {
      decoded = decodeScaleHead(bytes)
    } catch (error) {
      checks.push({ cycle: lastCycle, ok: false, failures: [{ code: 'MALFORMED', message: `head #${index}: ${(error as Error).message}` }] })
      continue
    }
    const { head, cid, digest } = decoded
    const failures: { code: HeadCheckCode; message: string }[] = []
    const fail = (code: HeadCheckCode, message: string) => failures.push({ code, message })
    if (head.task !== task) fail('WRONG_TASK', `head is for task ${head.task}, not ${task}`)
    if (head.cycle <= lastCycle) fail('OUT_OF_ORDER', `cycle ${head.cycle} after cycle ${lastCycle}`)
    lastCycle = Math.max(lastCycle, head.cycle)
    seen.add(head.cycle)
    const facts = factsByCycle.get(head.cycle)
    const anchor = anchored.find((entry) => entry.cycle === head.cycle)
    if (facts === undefined || anchor === undefined) {
      fail('NOT_ANCHORED', `the chain has no final head for cycle ${head.cycle}`)
    } else {
      if (anchor.digest !== digest) fail('DIGEST_MISMATCH', `digest ${digest} ≠ anchored ${anchor.digest}`)
      const expected = expectedPrev(anchored, head.cycle, facts.distributionOpensAt)
      const expectedCid = expected === undefined ? null : scaleHeadCidFromDigest(expected.digest)
      if (head.prev !== expectedCid) {
        fail('PREV_MISMATCH', `prev ${head.prev ?? 'null'} ≠ ${expectedCid ?? 'null'} (the head of ${expected ? `cycle ${expected.cycle}` : 'no earlier cycle'}: the highest cycle below finalized before this cycle's distribution opened)`)
      }
      const want = new Map<string, string>()
      for (const s of facts.submissions) want.set(getAddress(String(s.node).toLowerCase()), String(s.root).toLowerCase())
      const got = new Map(head.submissions.map((s) => [s.node, s.root] as const))
      const problems: string[] = []
      for (const [node, root] of want) {
        const served = got.get(node as Address)
        if (served === undefined) problems.push(`missing ${node}`)
        else if (served !== root) problems.push(`${node} root ${served} ≠ on-chain ${root}`)
      }
      for (const node of got.keys()) if (!want.has(node)) problems.push(`extra ${node}`)
      if (problems.length > 0) fail('SUBMISSIONS_MISMATCH', problems.join('; '))
      if (head.distribution.merkleRoot !== facts.merkleRoot.toLowerCase() || head.distribution.listCid !== facts.listCid.toLowerCase()) {
        fail('DISTRIBUTION_MISMATCH', `list ${head.distribution.merkleRoot}/${head.distribution.listCid} ≠ final ${facts.merkleRoot.toLowerCase()}/${facts.listCid.toLowerCase()}`)
      }
    }
    checks.push({ cycle: head.cycle, ok: failures.length === 0, failures, cid, digest })
  }

  // Gaps: every anchored final cycle in [from, through] must be served.
  const first = options.from === undefined ? undefined : cycleNumber(options.from)
  const through = options.through === undefined ? anchored[anchored.length - 1]?.cycle : cycleNumber(options.through)
  for (const entry of anchored) {
    if (seen.has(entry.cycle)) continue
    if (first !== undefined && entry.cycle < first) continue
    if (through !== undefined && entry.cycle > through) continue
    checks.push({ cycle: entry.cycle, ok: false, failures: [{ code: 'MISSING_HEAD', message: `cycle ${entry.cycle} has an anchored head (${entry.digest}) the history lacks` }], digest: entry.digest })
  }
  checks.sort((a, b) => a.cycle - b.cycle)
  return { ok: checks.every((check) => check.ok), cycles: checks }
}
