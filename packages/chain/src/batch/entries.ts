// Batched submissions (TaskManagerExtension.submitBatch), the off-chain half: the EIP-712 typed
// data a node signs, the leaves and Merkle tree the contract commits per batch, the proofs
// materializeSubmission takes, and the decoding of a batch's (weight, score) event data.
// Pure: no IO. The tree must equal the contract's _rootOf: pairs hashed sorted (OpenZeppelin's
// commutative keccak), an odd last node promoted unchanged.
import { concat, encodeAbiParameters, hexToBigInt, keccak256, size, slice, type Address, type Hex } from 'viem'

import { CoopChainError } from '../errors.ts'

/** EIP-712 domain name and version of TaskManager (verifyingContract = the TaskManager address). */
export const submissionDomainName = 'Coop TaskManager'
export const submissionDomainVersion = '1'

export const submissionTypes = {
  Submission: [
    { name: 'taskId', type: 'uint256' },
    { name: 'cycle', type: 'uint256' },
    { name: 'root', type: 'bytes32' },
  ],
} as const

/** The typed data a node signs so a batcher can post its submission (viem signTypedData input). */
export function submissionTypedData(parameters: { taskManager: Address; chainId: number; taskId: bigint; cycle: bigint; root: Hex }) {
  const { taskManager, chainId, taskId, cycle, root } = parameters
  return {
    domain: { name: submissionDomainName, version: submissionDomainVersion, chainId, verifyingContract: taskManager },
    types: submissionTypes,
    primaryType: 'Submission' as const,
    message: { taskId, cycle, root },
  }
}

/** One entry of submitBatch: the node's Submission signature in EIP-2098 compact form. */
export type SignedSubmission = { node: Address; root: Hex; r: Hex; vs: Hex }

/** A batched submission as committed in its batch (ITaskManager.BatchedEntry). */
export type BatchedEntry = {
  node: Address
  root: Hex
  /** Position among the cycle's batched entries (0-based, across batches). */
  position: bigint
  /** Interval on the cycle's batched weight line. */
  weightStart: bigint
  weightEnd: bigint
  /** The node's score when the batch was posted. */
  score: bigint
}

export class BatchDecodeError extends CoopChainError {
  override name = 'BatchDecodeError'
  constructor(shortMessage: string, details?: Record<string, unknown>) {
    super(shortMessage, {
      code: 'UNKNOWN',
      details: details ? JSON.stringify(details, (_key, value) => (typeof value === 'bigint' ? value.toString() : value)) : undefined,
    })
  }
}

/** keccak256(keccak256(abi.encode(node, root, position, weightStart, weightEnd, score))). */
export function batchEntryLeaf(entry: BatchedEntry): Hex {
  const inner = keccak256(
    encodeAbiParameters(
      [{ type: 'address' }, { type: 'bytes32' }, { type: 'uint256' }, { type: 'uint256' }, { type: 'uint256' }, { type: 'uint256' }],
      [entry.node, entry.root, entry.position, entry.weightStart, entry.weightEnd, entry.score],
    ),
  )
  return keccak256(inner)
}

function hashPair(a: Hex, b: Hex): Hex {
  return hexToBigInt(a) < hexToBigInt(b) ? keccak256(concat([a, b])) : keccak256(concat([b, a]))
}

function up(level: Hex[]): Hex[] {
  const next: Hex[] = []
  for (let i = 0; i + 1 < level.length; i += 2) next.push(hashPair(level[i]!, level[i + 1]!))
  if (level.length % 2 === 1) next.push(level[level.length - 1]!)
  return next
}

/** The entries root of a batch with these leaves (the contract's _rootOf). */
export function batchEntriesRoot(leaves: readonly Hex[]): Hex {
  if (leaves.length === 0) throw new BatchDecodeError('a batch has at least one entry')
  let level = [...leaves]
  while (level.length > 1) level = up(level)
  return level[0]!
}

/** Sibling path of leaf `index` (bottom-up), for OpenZeppelin MerkleProof / materializeSubmission. */
export function batchEntryProof(leaves: readonly Hex[], index: number): Hex[] {
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length) {
    throw new BatchDecodeError(`leaf index ${index} is outside the batch (0..${leaves.length - 1})`)
  }
  const proof: Hex[] = []
  let level = [...leaves]
  let i = index
  while (level.length > 1) {
    const sibling = i ^ 1
    if (sibling < level.length) proof.push(level[sibling]!)
    level = up(level)
    i >>= 1
  }
  return proof
}

/** The SubmissionsBatched event's `weights`: per entry a uint128 weight and a uint32 score. */
export function decodeBatchWeights(weights: Hex, count: number): { weight: bigint; score: bigint }[] {
  if (size(weights) !== count * 20) {
    throw new BatchDecodeError(`batch weights are ${size(weights)} bytes, expected ${count * 20} (20 per entry)`, { count })
  }
  const out: { weight: bigint; score: bigint }[] = []
  for (let i = 0; i < count; i++) {
    out.push({ weight: hexToBigInt(slice(weights, i * 20, i * 20 + 16)), score: hexToBigInt(slice(weights, i * 20 + 16, i * 20 + 20)) })
  }
  return out
}

/**
 * The entries of one batch from what a reader sees: the signed entries (calldata), the batch's
 * first position and weight start, and the event's packed weights. Checked against the event's
 * entries root, so a wrongly decoded batch cannot pass silently.
 */
export function batchEntries(parameters: {
  signed: readonly Pick<SignedSubmission, 'node' | 'root'>[]
  firstPosition: bigint
  weightStart: bigint
  weights: Hex
  entriesRoot: Hex
}): BatchedEntry[] {
  const { signed, firstPosition, weightStart, weights, entriesRoot } = parameters
  const decoded = decodeBatchWeights(weights, signed.length)
  let cumulative = weightStart
  const entries = signed.map((entry, i) => {
    const { weight, score } = decoded[i]!
    const out: BatchedEntry = { node: entry.node, root: entry.root, position: firstPosition + BigInt(i), weightStart: cumulative, weightEnd: cumulative + weight, score }
    cumulative += weight
    return out
  })
  const root = batchEntriesRoot(entries.map(batchEntryLeaf))
  if (root.toLowerCase() !== entriesRoot.toLowerCase()) {
    throw new BatchDecodeError('decoded batch entries do not match the batch entries root', { expected: entriesRoot, computed: root })
  }
  return entries
}
