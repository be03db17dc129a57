import { type Address, type Hex, concat, encodeAbiParameters, hexToBigInt, keccak256, numberToHex, size, slice } from 'viem'
import { merkleRootFromProof } from './distribution.ts'
import { ProtocolError } from './errors.ts'
import { assertBytes32, assertUint256, toChecksumAddress } from './validate.ts'

// The commitment of a batch of submissions (TaskManagerExtension.submitBatch): each entry gets a
// position among the cycle's batched entries and an interval on the cycle's batched weight line,
// and the batch stores one Merkle root over the entries' leaves. materializeSubmission proves an
// entry against that root with OpenZeppelin MerkleProof, so the tree is OZ's sorted-pair keccak,
// built the way the contract's _rootOf builds it: pairs (2i, 2i+1) per level, an odd last node
// promoted unchanged. The event's `weights` carry per entry a uint128 weight and a uint32 score.
// Vectors: vectors/batch-commitment.json (replayed by forge in contracts/test/ProtocolVectors.t.sol).

export const MAX_UINT128 = 2n ** 128n - 1n
export const MAX_UINT32 = 2n ** 32n - 1n

/** ABI types of a batch entry leaf, in TaskManagerExtension.batchEntryLeaf's order. */
export const BATCH_ENTRY_LEAF_TYPES = ['address', 'bytes32', 'uint256', 'uint256', 'uint256', 'uint256'] as const

/** Bytes per entry in SubmissionsBatched.weights: 16 (uint128 weight) + 4 (uint32 score). */
export const BATCH_WEIGHT_BYTES = 20

/** A batched submission as committed in its batch (ITaskManager.BatchedEntry). */
export interface BatchedEntry {
  node: Address
  root: Hex
  /** Position among the cycle's batched entries (0-based, across batches). */
  position: bigint
  /** Interval [weightStart, weightEnd) on the cycle's batched weight line. */
  weightStart: bigint
  weightEnd: bigint
  /** The node's score when the batch was posted. */
  score: bigint
}

/** One entry as the batch sees it before layout: the node's root, its weight and score at posting. */
export interface BatchEntryInput {
  node: Address
  root: Hex
  weight: bigint
  score: bigint
}

export interface BatchCommitment {
  entries: BatchedEntry[]
  leaves: Hex[]
  entriesRoot: Hex
  /** The batch's interval on the batched weight line (SubmissionsBatched.weightStart / weightEnd). */
  weightStart: bigint
  weightEnd: bigint
  /** SubmissionsBatched.weights: per entry weight (16 bytes) ‖ score (4 bytes). */
  weights: Hex
}

/** keccak256(keccak256(abi.encode(node, root, position, weightStart, weightEnd, score))). */
export function batchEntryLeaf(entry: BatchedEntry): Hex {
  const encoded = encodeAbiParameters(
    BATCH_ENTRY_LEAF_TYPES.map((type) => ({ type })),
    [
      toChecksumAddress(entry.node, 'node'),
      assertBytes32(entry.root, 'root'),
      assertUint256(entry.position, 'position'),
      assertUint256(entry.weightStart, 'weightStart'),
      assertUint256(entry.weightEnd, 'weightEnd'),
      assertUint256(entry.score, 'score'),
    ],
  )
  return keccak256(keccak256(encoded))
}

function hashPair(a: Hex, b: Hex): Hex {
  return hexToBigInt(a) < hexToBigInt(b) ? keccak256(concat([a, b])) : keccak256(concat([b, a]))
}

function nextLevel(level: readonly Hex[]): Hex[] {
  const next: Hex[] = []
  for (let i = 0; i + 1 < level.length; i += 2) next.push(hashPair(level[i]!, level[i + 1]!))
  if (level.length % 2 === 1) next.push(level[level.length - 1]!)
  return next
}

function checkedLeaves(leaves: readonly Hex[]): Hex[] {
  if (leaves.length === 0) throw new ProtocolError('EMPTY_BATCH', 'a batch has at least one entry')
  return leaves.map((leaf, i) => assertBytes32(leaf, `leaves[${i}]`))
}

/** The entries root of a batch with these leaves (the contract's _rootOf). */
export function batchEntriesRoot(leaves: readonly Hex[]): Hex {
  let level = checkedLeaves(leaves)
  while (level.length > 1) level = nextLevel(level)
  return level[0]!
}

/** Sibling path of leaf `index` (bottom-up) for OZ MerkleProof / materializeSubmission. */
export function batchEntryProof(leaves: readonly Hex[], index: number): Hex[] {
  let level = checkedLeaves(leaves)
  if (!Number.isInteger(index) || index < 0 || index >= level.length) {
    throw new ProtocolError('INDEX_OUT_OF_RANGE', `leaf index ${index} is outside the batch (0..${level.length - 1})`, {
      details: { index, leaves: level.length },
    })
  }
  const proof: Hex[] = []
  let i = index
  while (level.length > 1) {
    const sibling = i ^ 1
    if (sibling < level.length) proof.push(level[sibling]!)
    level = nextLevel(level)
    i >>= 1
  }
  return proof
}

/** What materializeSubmission checks: the proof leads from the entry's leaf to the batch's root. */
export function verifyBatchEntryProof(input: { entriesRoot: Hex; entry: BatchedEntry; proof: readonly Hex[] }): boolean {
  const root = merkleRootFromProof(batchEntryLeaf(input.entry), input.proof)
  return hexToBigInt(root) === hexToBigInt(assertBytes32(input.entriesRoot, 'entriesRoot'))
}

/**
 * Positions and weight intervals of a batch's entries: entry i is at firstPosition + i and covers
 * [start_i, start_i + weight_i) where start_0 = weightStart (the cycle's batched weight so far).
 * The contract reverts WeightOverflow when the line passes uint128, and packs scores as uint32.
 */
export function layoutBatchEntries(input: { entries: readonly BatchEntryInput[]; firstPosition: bigint; weightStart: bigint }): BatchedEntry[] {
  const { entries } = input
  if (entries.length === 0) throw new ProtocolError('EMPTY_BATCH', 'a batch has at least one entry')
  const firstPosition = assertUint256(input.firstPosition, 'firstPosition')
  if (firstPosition + BigInt(entries.length) - 1n > MAX_UINT32) {
    throw new ProtocolError('MALFORMED', 'batched positions are uint32', { details: { firstPosition, count: entries.length } })
  }
  let cumulative = assertUint256(input.weightStart, 'weightStart')
  return entries.map((entry, i) => {
    const weight = assertUint256(entry.weight, `entries[${i}].weight`)
    const score = assertUint256(entry.score, `entries[${i}].score`)
    if (score > MAX_UINT32) throw new ProtocolError('MALFORMED', 'a batched score is a uint32', { details: { index: i, score } })
    const weightEnd = cumulative + weight
    if (weightEnd > MAX_UINT128) {
      throw new ProtocolError('WEIGHT_OVERFLOW', 'the batched weight line passes uint128', { details: { index: i, weightEnd } })
    }
    const out: BatchedEntry = {
      node: toChecksumAddress(entry.node, `entries[${i}].node`),
      root: assertBytes32(entry.root, `entries[${i}].root`),
      position: firstPosition + BigInt(i),
      weightStart: cumulative,
      weightEnd,
      score,
    }
    cumulative = weightEnd
    return out
  })
}

/** SubmissionsBatched.weights from the entries' weights and scores. */
export function encodeBatchWeights(entries: readonly { weight: bigint; score: bigint }[]): Hex {
  return concat(
    entries.map(({ weight, score }, i) => {
      if (weight < 0n || weight > MAX_UINT128) throw new ProtocolError('MALFORMED', 'a batched weight is a uint128', { details: { index: i, weight } })
      if (score < 0n || score > MAX_UINT32) throw new ProtocolError('MALFORMED', 'a batched score is a uint32', { details: { index: i, score } })
      return concat([numberToHex(weight, { size: 16 }), numberToHex(score, { size: 4 })])
    }),
  )
}

/** The SubmissionsBatched event's `weights`: per entry a uint128 weight and a uint32 score. */
export function decodeBatchWeights(weights: Hex, count: number): { weight: bigint; score: bigint }[] {
  if (!Number.isInteger(count) || count < 0 || size(weights) !== count * BATCH_WEIGHT_BYTES) {
    throw new ProtocolError('MALFORMED', `batch weights are ${size(weights)} bytes, expected ${count * BATCH_WEIGHT_BYTES} (20 per entry)`, {
      details: { bytes: size(weights), count },
    })
  }
  const out: { weight: bigint; score: bigint }[] = []
  for (let i = 0; i < count; i++) {
    const at = i * BATCH_WEIGHT_BYTES
    out.push({ weight: hexToBigInt(slice(weights, at, at + 16)), score: hexToBigInt(slice(weights, at + 16, at + 20)) })
  }
  return out
}

/** Everything submitBatch commits for these entries, given the cycle's batched count and weight so far. */
export function commitBatch(input: { entries: readonly BatchEntryInput[]; firstPosition: bigint; weightStart: bigint }): BatchCommitment {
  const entries = layoutBatchEntries(input)
  const leaves = entries.map(batchEntryLeaf)
  return {
    entries,
    leaves,
    entriesRoot: batchEntriesRoot(leaves),
    weightStart: input.weightStart,
    weightEnd: entries[entries.length - 1]!.weightEnd,
    weights: encodeBatchWeights(entries.map((e) => ({ weight: e.weightEnd - e.weightStart, score: e.score }))),
  }
}
