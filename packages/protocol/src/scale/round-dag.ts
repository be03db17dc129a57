import { type Hex, bytesToHex, hexToBytes } from 'viem'
import { CID, DAG_CBOR_CODE, RAW_CODE, bytesEqual, cidOf, dagCbor, isSupportedCid, sha256 } from './cid.ts'
import { scaleError } from './errors.ts'

// A node's work in one round as an IPLD Merkle DAG (CIDv1, sha2-256; DESIGN.md §2).
//
// Leaves: a Uint8Array is a raw block (codec 0x55, the bytes themselves); anything else is encoded
// as a dag-cbor block (codec 0x71). Interior nodes are dag-cbor blocks `{ l: CID, r: CID, n }`
// where n is the number of leaves below. Fan-out 2, shaped like RFC 6962 (Certificate
// Transparency): a node over n ≥ 2 leaves has a left subtree over the largest power of two < n and
// a right subtree over the rest. No leaf is ever duplicated to fill a level (that is Bitcoin's
// CVE-2012-2459 ambiguity), and because every interior node states n, a verifier recomputes the
// leaf's position from the path alone: a proof for one index never verifies for another, and a
// subtree can never pass as a leaf (its n would not fit its parent's shape).
// A one-leaf DAG's root is the leaf's own CID (empty proof). The root CID is the submission; its
// 32-byte sha2-256 digest is what goes on-chain.

/** At most 2^20 leaves per round DAG (depth ≤ 20). */
export const MAX_DAG_LEAVES = 1 << 20
/** At most 1 MiB per leaf block. */
export const MAX_LEAF_BYTES = 1 << 20
/** An interior block is two CIDs (36 bytes each) and a small int in a 3-entry map: < 100 bytes. */
export const MAX_INTERIOR_BLOCK_BYTES = 128
/** ceil(log2(MAX_DAG_LEAVES)) */
export const MAX_PROOF_DEPTH = 20

export interface RoundDag {
  /** Root CID (base32 'b…' string): the submission. */
  readonly root: string
  /** sha2-256 digest of the root block: the 32 bytes that go on-chain. */
  readonly digest: Hex
  /** Every block (leaves and interior nodes) by CID string; identical blocks appear once. */
  readonly blocks: Map<string, Uint8Array>
  readonly leafCids: string[]
  /** Number of leaves. */
  readonly size: number
}

export interface InclusionProof {
  readonly leafCid: string
  /** Interior blocks from the leaf's parent up to the root (empty for a one-leaf DAG). */
  readonly path: ReadonlyArray<{ readonly block: Uint8Array }>
}

/** An interior block of a round DAG: the left and right subtrees and the number of leaves below. */
export interface RoundDagInterior {
  l: CID
  r: CID
  n: number
}
type InteriorNode = RoundDagInterior

/** Largest power of two strictly below n (n ≥ 2): where a round DAG splits n leaves (RFC 6962 shape). */
export function splitPoint(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

function encodeLeaf(leaf: unknown, index: number): { cid: CID; bytes: Uint8Array } {
  let bytes: Uint8Array
  let code: number
  if (leaf instanceof Uint8Array) {
    bytes = leaf
    code = RAW_CODE
  } else {
    try {
      bytes = dagCbor.encode(leaf)
    } catch (cause) {
      throw scaleError('MALFORMED', 'leaf cannot be encoded as dag-cbor', { index }, cause)
    }
    code = DAG_CBOR_CODE
  }
  if (bytes.length > MAX_LEAF_BYTES) {
    throw scaleError('TOO_LARGE', 'leaf block exceeds MAX_LEAF_BYTES', { index, bytes: bytes.length, max: MAX_LEAF_BYTES })
  }
  return { cid: cidOf(code, bytes), bytes }
}

export function buildRoundDag(leaves: readonly (Uint8Array | unknown)[]): RoundDag {
  if (!Array.isArray(leaves)) throw scaleError('MALFORMED', 'leaves is not an array')
  if (leaves.length === 0) throw scaleError('EMPTY_DAG', 'a round DAG needs at least one leaf')
  if (leaves.length > MAX_DAG_LEAVES) {
    throw scaleError('TOO_LARGE', 'too many leaves', { leaves: leaves.length, max: MAX_DAG_LEAVES })
  }
  const blocks = new Map<string, Uint8Array>()
  const leafCids: CID[] = leaves.map((leaf, index) => {
    const { cid, bytes } = encodeLeaf(leaf, index)
    blocks.set(cid.toString(), bytes)
    return cid
  })
  const build = (lo: number, hi: number): CID => {
    const n = hi - lo
    if (n === 1) return leafCids[lo] as CID
    const k = splitPoint(n)
    const node: InteriorNode = { l: build(lo, lo + k), r: build(lo + k, hi), n }
    const bytes = dagCbor.encode(node)
    const cid = cidOf(DAG_CBOR_CODE, bytes)
    blocks.set(cid.toString(), bytes)
    return cid
  }
  const root = build(0, leafCids.length)
  return {
    root: root.toString(),
    digest: bytesToHex(root.multihash.digest),
    blocks,
    leafCids: leafCids.map((cid) => cid.toString()),
    size: leafCids.length,
  }
}

function assertIndex(index: number, size?: number): void {
  if (!Number.isSafeInteger(index) || index < 0 || index >= (size ?? MAX_DAG_LEAVES)) {
    throw scaleError('INDEX_OUT_OF_RANGE', 'leaf index out of range', { index, size: size ?? MAX_DAG_LEAVES })
  }
}

/** Decodes and shape-checks an interior block; throws MALFORMED / TOO_LARGE. */
function decodeInterior(block: unknown, step: number): InteriorNode {
  if (!(block instanceof Uint8Array)) throw scaleError('MALFORMED', 'proof block is not bytes', { step })
  if (block.length > MAX_INTERIOR_BLOCK_BYTES) {
    throw scaleError('TOO_LARGE', 'proof block exceeds MAX_INTERIOR_BLOCK_BYTES', { step, bytes: block.length })
  }
  let value: unknown
  try {
    value = dagCbor.decode(block)
  } catch (cause) {
    throw scaleError('MALFORMED', 'proof block is not dag-cbor', { step }, cause)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw scaleError('MALFORMED', 'proof block is not a map', { step })
  }
  const keys = Object.keys(value).sort()
  const { l, r, n } = value as Record<string, unknown>
  const l2 = CID.asCID(l)
  const r2 = CID.asCID(r)
  if (keys.join(',') !== 'l,n,r' || l2 === null || r2 === null || typeof n !== 'number' || !Number.isSafeInteger(n) || n < 2 || n > MAX_DAG_LEAVES) {
    throw scaleError('MALFORMED', 'proof block is not an interior node { l, r, n }', { step })
  }
  if (!bytesEqual(dagCbor.encode({ l: l2, r: r2, n }), block)) {
    throw scaleError('MALFORMED', 'proof block is not canonical dag-cbor', { step })
  }
  return { l: l2, r: r2, n }
}

/** `block` as a round DAG interior node (canonical dag-cbor { l, r, n }), or undefined for anything else (a leaf). */
export function roundDagInterior(block: Uint8Array): RoundDagInterior | undefined {
  try {
    return decodeInterior(block, 0)
  } catch {
    return undefined
  }
}

/**
 * One step down towards leaf `index`: from interior `node`, whose subtree holds leaves `lo` to
 * `lo + node.n - 1`, the child that holds `index`, with that child's first leaf and leaf count.
 */
export function childTowardLeaf(node: RoundDagInterior, index: number, lo: number): { cid: string; lo: number; n: number } {
  const k = splitPoint(node.n)
  return index < lo + k ? { cid: node.l.toString(), lo, n: k } : { cid: node.r.toString(), lo: lo + k, n: node.n - k }
}

/** The interior blocks from leaf `index` up to the root, read from `dag.blocks`. */
export function inclusionProof(dag: RoundDag, index: number): InclusionProof {
  assertIndex(index, dag.size)
  const down: Array<{ block: Uint8Array }> = []
  let cid = dag.root
  let lo = 0
  let n = dag.size
  while (n > 1) {
    const block = dag.blocks.get(cid)
    if (block === undefined) throw scaleError('MALFORMED', 'block missing from the DAG', { cid })
    const node = decodeInterior(block, down.length)
    if (node.n !== n) throw scaleError('MALFORMED', 'interior node size does not match the DAG', { cid })
    down.push({ block })
    ;({ cid, lo, n } = childTowardLeaf(node, index, lo))
  }
  return { leafCid: cid, path: down.reverse() }
}

function parseCid(value: string, what: string): CID {
  let cid: CID
  try {
    cid = CID.parse(value)
  } catch (cause) {
    throw scaleError('MALFORMED', `${what} is not a CID`, { [what]: value }, cause)
  }
  if (!isSupportedCid(cid, [RAW_CODE, DAG_CBOR_CODE])) {
    throw scaleError('MALFORMED', `${what} is not a CIDv1 sha2-256 raw/dag-cbor CID`, { [what]: value })
  }
  return cid
}

const DIGEST_HEX = /^0x[0-9a-fA-F]{64}$/

/**
 * Checks that `leaf` sits at `index` under `root` (a root CID string, or the 32-byte digest as
 * 0x hex). `leaf` is either the leaf's block bytes (raw or dag-cbor: matched by hash) or its CID
 * string. Every proof block is re-hashed; no CID given by the prover is trusted. Returns false when
 * the hashes or the position do not match; throws ScaleError (MALFORMED, TOO_LARGE,
 * INDEX_OUT_OF_RANGE) for inputs that are not a proof at all.
 */
export function verifyInclusion(root: string | Hex, index: number, leaf: Uint8Array | string, proof: InclusionProof): boolean {
  assertIndex(index)
  if (typeof root !== 'string') throw scaleError('MALFORMED', 'root is not a string')
  let rootDigest: Uint8Array
  let rootCid: CID | undefined
  if (root.startsWith('0x')) {
    if (!DIGEST_HEX.test(root)) throw scaleError('MALFORMED', 'root digest is not 32 bytes of hex', { root })
    rootDigest = hexToBytes(root as Hex)
  } else {
    rootCid = parseCid(root, 'root')
    rootDigest = rootCid.multihash.digest
  }
  if (typeof proof !== 'object' || proof === null || !Array.isArray(proof.path)) {
    throw scaleError('MALFORMED', 'proof is not { leafCid, path: [] }')
  }
  if (proof.path.length > MAX_PROOF_DEPTH) {
    throw scaleError('TOO_LARGE', 'proof is deeper than MAX_PROOF_DEPTH', { depth: proof.path.length })
  }

  // The leaf: its CID, or its bytes' sha2-256 digest (the codec then comes from the parent's link).
  let leafCid: CID | undefined
  let leafDigest: Uint8Array
  if (leaf instanceof Uint8Array) {
    if (leaf.length > MAX_LEAF_BYTES) throw scaleError('TOO_LARGE', 'leaf exceeds MAX_LEAF_BYTES', { bytes: leaf.length })
    leafDigest = sha256(leaf)
  } else if (typeof leaf === 'string') {
    leafCid = parseCid(leaf, 'leaf')
    leafDigest = leafCid.multihash.digest
  } else {
    throw scaleError('MALFORMED', 'leaf is neither bytes nor a CID string')
  }
  const isLeaf = (cid: CID): boolean =>
    leafCid !== undefined ? cid.equals(leafCid) : isSupportedCid(cid, [RAW_CODE, DAG_CBOR_CODE]) && bytesEqual(cid.multihash.digest, leafDigest)

  if (proof.path.length === 0) {
    if (index !== 0) return false
    if (rootCid !== undefined && leafCid !== undefined) return rootCid.equals(leafCid)
    if (rootCid !== undefined && leafCid === undefined && !isSupportedCid(rootCid, [RAW_CODE, DAG_CBOR_CODE])) return false
    return bytesEqual(rootDigest, leafDigest)
  }

  const nodes = proof.path.map((entry, step) => {
    if (typeof entry !== 'object' || entry === null) throw scaleError('MALFORMED', 'proof entry is not { block }', { step })
    return decodeInterior((entry as { block?: unknown }).block, step)
  })
  // The root block states the leaf count; with the index it fixes the side taken at every level
  // (so duplicate leaves or subtrees cannot make one index's proof pass for another).
  const sides: boolean[] = [] // root first: true = the leaf is in the right subtree
  const sizes: number[] = []
  let n = (nodes[nodes.length - 1] as InteriorNode).n
  if (index >= n) return false
  let lo = 0
  while (n > 1) {
    const k = splitPoint(n)
    sizes.push(n)
    const right = index >= lo + k
    sides.push(right)
    if (right) {
      lo += k
      n -= k
    } else {
      n = k
    }
  }
  if (sides.length !== nodes.length) return false
  let current: CID | undefined // undefined until the first block names the leaf
  for (let step = 0; step < nodes.length; step++) {
    const node = nodes[step] as InteriorNode
    const level = nodes.length - 1 - step
    if (node.n !== sizes[level]) return false
    const child = sides[level] ? node.r : node.l
    if (!(current === undefined ? isLeaf(child) : child.equals(current))) return false
    current = cidOf(DAG_CBOR_CODE, (proof.path[step] as { block: Uint8Array }).block)
  }
  if (current === undefined) return false
  return rootCid !== undefined ? current.equals(rootCid) : bytesEqual(current.multihash.digest, rootDigest)
}
