import type { Hex } from 'viem'
import { CID, DAG_CBOR_CODE, RAW_CODE, cidOf, dagCbor } from './cid.ts'
import { scaleError } from './errors.ts'
import { MAX_DAG_LEAVES, MAX_INTERIOR_BLOCK_BYTES, MAX_LEAF_BYTES, MAX_PROOF_DEPTH, type RoundDag, inclusionProof, verifyInclusion } from './round-dag.ts'

// The fisherman's question and the submitter's answer (p2p `/coop/scale/leaf/1`, docs/scale.md):
//   request { task, cycle, root, index }  →  answer { task, cycle, root, index, codec, leaf, path }
// The answer repeats the question so that the submitter's signature over it is self-contained
// audit evidence: "for task T, cycle C, root R, the leaf at index i is these bytes, with this
// path". `root` is the 32-byte digest on-chain (0x hex); `codec` is the leaf block's codec
// (0x55 raw, 0x71 dag-cbor), bound by the parent's link whenever the DAG has more than one leaf.
// Shapes are checked here (bounded, typed errors); whether the answer is true is
// `checkLeafAnswer`'s business, and a false answer is a verdict, not an exception.

export interface LeafRequest {
  /** Task id as a decimal string. */
  readonly task: string
  readonly cycle: number
  /** sha2-256 digest of the round DAG's root block, as on-chain (0x, 32 bytes, lowercase). */
  readonly root: Hex
  readonly index: number
}

export interface LeafAnswer extends LeafRequest {
  readonly codec: typeof RAW_CODE | typeof DAG_CBOR_CODE
  /** The leaf block's bytes. */
  readonly leaf: Uint8Array
  /** Interior blocks from the leaf's parent up to the root (empty for a one-leaf DAG). */
  readonly path: readonly Uint8Array[]
}

export type LeafAnswerCheck =
  | {
      readonly ok: true
      /** Leaves in the DAG, as its root block states (1 for a one-leaf DAG). */
      readonly leafCount: number
      readonly leafCid: string
      /** The leaf as a task sees it: raw → the bytes, dag-cbor → the decoded value. */
      readonly value: unknown
    }
  | { readonly ok: false; readonly reason: string }

const TASK_ID = /^(0|[1-9]\d{0,77})$/
const DIGEST = /^0x[0-9a-f]{64}$/
const REQUEST_KEYS = 'cycle,index,root,task'
const ANSWER_KEYS = 'codec,cycle,index,leaf,path,root,task'

const isMap = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array) && CID.asCID(value) === null

const isCount = (value: unknown, max = Number.MAX_SAFE_INTEGER): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= max

function requestFields(value: Record<string, unknown>): LeafRequest {
  const { task, cycle, root, index } = value
  if (typeof task !== 'string' || !TASK_ID.test(task)) throw scaleError('MALFORMED', 'task must be a decimal string', { task: String(task) })
  if (!isCount(cycle)) throw scaleError('MALFORMED', 'cycle must be a non-negative integer', { cycle: String(cycle) })
  if (typeof root !== 'string' || !DIGEST.test(root)) throw scaleError('MALFORMED', 'root must be a 32-byte lowercase 0x digest', { root: String(root) })
  if (!isCount(index)) throw scaleError('MALFORMED', 'index must be a non-negative integer', { index: String(index) })
  if (index >= MAX_DAG_LEAVES) throw scaleError('INDEX_OUT_OF_RANGE', 'index beyond MAX_DAG_LEAVES', { index, max: MAX_DAG_LEAVES })
  return { task, cycle, root: root as Hex, index }
}

/** A leaf request body as received; throws ProtocolError MALFORMED / INDEX_OUT_OF_RANGE. */
export function parseLeafRequest(body: unknown): LeafRequest {
  if (!isMap(body)) throw scaleError('MALFORMED', 'leaf request is not a map')
  const keys = Object.keys(body).sort().join(',')
  if (keys !== REQUEST_KEYS) throw scaleError('MALFORMED', 'leaf request must have exactly task, cycle, root, index', { keys })
  return requestFields(body)
}

/**
 * A leaf answer body as received, bounded (leaf ≤ MAX_LEAF_BYTES, ≤ MAX_PROOF_DEPTH blocks of
 * ≤ MAX_INTERIOR_BLOCK_BYTES); throws ProtocolError MALFORMED / TOO_LARGE / INDEX_OUT_OF_RANGE.
 */
export function parseLeafAnswer(body: unknown): LeafAnswer {
  if (!isMap(body)) throw scaleError('MALFORMED', 'leaf answer is not a map')
  const keys = Object.keys(body).sort().join(',')
  if (keys !== ANSWER_KEYS) throw scaleError('MALFORMED', 'leaf answer must have exactly task, cycle, root, index, codec, leaf, path', { keys })
  const request = requestFields(body)
  const { codec, leaf, path } = body
  if (codec !== RAW_CODE && codec !== DAG_CBOR_CODE) throw scaleError('MALFORMED', 'codec must be 0x55 (raw) or 0x71 (dag-cbor)', { codec: String(codec) })
  if (!(leaf instanceof Uint8Array)) throw scaleError('MALFORMED', 'leaf must be bytes')
  if (leaf.length > MAX_LEAF_BYTES) throw scaleError('TOO_LARGE', 'leaf exceeds MAX_LEAF_BYTES', { bytes: leaf.length, max: MAX_LEAF_BYTES })
  if (!Array.isArray(path)) throw scaleError('MALFORMED', 'path must be an array of blocks')
  if (path.length > MAX_PROOF_DEPTH) throw scaleError('TOO_LARGE', 'path is deeper than MAX_PROOF_DEPTH', { depth: path.length, max: MAX_PROOF_DEPTH })
  path.forEach((block, step) => {
    if (!(block instanceof Uint8Array)) throw scaleError('MALFORMED', 'path entry is not bytes', { step })
    if (block.length > MAX_INTERIOR_BLOCK_BYTES) throw scaleError('TOO_LARGE', 'path block exceeds MAX_INTERIOR_BLOCK_BYTES', { step, bytes: block.length })
  })
  return { ...request, codec, leaf, path: path as Uint8Array[] }
}

/**
 * Whether `answer` (a parsed or raw body) truly answers `request`: it repeats the request, its
 * path re-hashes to `request.root` with the leaf at `request.index`, and the leaf decodes under
 * its codec. Pure; never trusts a CID or count the prover states without re-hashing it.
 * A body that is not an answer at all is `{ ok: false }` too: to an auditor that is as bad.
 */
export function checkLeafAnswer(answer: unknown, request: LeafRequest): LeafAnswerCheck {
  let parsed: LeafAnswer
  try {
    parsed = parseLeafAnswer(answer)
  } catch (error) {
    return { ok: false, reason: `malformed answer: ${(error as Error).message}` }
  }
  for (const field of ['task', 'cycle', 'root', 'index'] as const) {
    if (parsed[field] !== request[field]) {
      return { ok: false, reason: `the answer is for ${field} ${String(parsed[field])}, not ${String(request[field])}` }
    }
  }
  const proof = { leafCid: '', path: parsed.path.map((block) => ({ block })) }
  let included: boolean
  try {
    included = verifyInclusion(request.root, request.index, parsed.leaf, proof)
  } catch (error) {
    return { ok: false, reason: `invalid proof: ${(error as Error).message}` }
  }
  if (!included) return { ok: false, reason: `the leaf and path do not hash to root ${request.root} at index ${request.index}` }

  // Verified: the root block (last in the path) states the leaf count; the parent's link names the
  // leaf's codec (a one-leaf DAG's root is the leaf itself, so there the answer's codec stands).
  let leafCount = 1
  let leafCid: CID
  if (parsed.path.length > 0) {
    leafCount = (dagCbor.decode(parsed.path[parsed.path.length - 1] as Uint8Array) as { n: number }).n
    const parent = dagCbor.decode(parsed.path[0] as Uint8Array) as { l: CID; r: CID }
    leafCid = leafIsRightChild(leafCount, request.index) ? parent.r : parent.l
    if (leafCid.code !== parsed.codec) return { ok: false, reason: `the answer names codec ${parsed.codec}, the DAG links the leaf as ${leafCid.code}` }
  } else {
    leafCid = cidOf(parsed.codec, parsed.leaf)
  }
  let value: unknown = parsed.leaf
  if (leafCid.code === DAG_CBOR_CODE) {
    try {
      value = dagCbor.decode(parsed.leaf)
    } catch (error) {
      return { ok: false, reason: `the leaf is not dag-cbor: ${(error as Error).message}` }
    }
  }
  return { ok: true, leafCount, leafCid: leafCid.toString(), value }
}

/** Whether leaf `index` is the right child of its parent in a round DAG of `leafCount` leaves. */
function leafIsRightChild(leafCount: number, index: number): boolean {
  let lo = 0
  let size = leafCount
  let right = false
  while (size > 1) {
    let k = 1
    while (k * 2 < size) k *= 2
    right = index >= lo + k
    if (right) {
      lo += k
      size -= k
    } else size = k
  }
  return right
}

/**
 * The answer to `request` from a round DAG held in full (its blocks by CID): the leaf's block,
 * its codec and the path. Throws ProtocolError INDEX_OUT_OF_RANGE for an index past the DAG and
 * MALFORMED when `request.root` is not this DAG's digest or a block is missing.
 */
export function leafAnswerFromDag(dag: RoundDag, request: LeafRequest): LeafAnswer {
  if (dag.digest.toLowerCase() !== request.root) throw scaleError('MALFORMED', 'the request names another root', { root: request.root, dag: dag.digest })
  const proof = inclusionProof(dag, request.index)
  const leaf = dag.blocks.get(proof.leafCid)
  if (leaf === undefined) throw scaleError('MALFORMED', 'leaf block missing from the DAG', { leafCid: proof.leafCid })
  const codec = CID.parse(proof.leafCid).code
  return { ...request, codec: codec === RAW_CODE ? RAW_CODE : DAG_CBOR_CODE, leaf, path: proof.path.map((entry) => entry.block) }
}
