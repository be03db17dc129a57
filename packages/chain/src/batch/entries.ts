// Batched submissions (TaskManagerExtension.submitBatch), the off-chain half: the EIP-712 typed
// data a node signs and the decoding of a posted batch. The commitment itself (entry leaves,
// weight intervals, the Merkle tree, the packed weights) is a protocol rule: @coop/protocol's
// batch-commitment.ts, re-exported here, with vectors that forge replays against the contract.
import {
  ProtocolError,
  batchEntriesRoot,
  decodeBatchWeights,
  layoutBatchEntries,
  batchEntryLeaf,
  type BatchedEntry,
} from '@coop/protocol'
import type { Address, Hex } from 'viem'

import { CoopChainError } from '../errors.ts'

export {
  batchEntriesRoot,
  batchEntryLeaf,
  batchEntryProof,
  commitBatch,
  decodeBatchWeights,
  encodeBatchWeights,
  layoutBatchEntries,
  verifyBatchEntryProof,
  type BatchCommitment,
  type BatchEntryInput,
  type BatchedEntry,
} from '@coop/protocol'

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

export class BatchDecodeError extends CoopChainError {
  override name = 'BatchDecodeError'
  constructor(shortMessage: string, details?: Record<string, unknown>, cause?: unknown) {
    super(shortMessage, {
      code: 'UNKNOWN',
      details: details ? JSON.stringify(details, (_key, value) => (typeof value === 'bigint' ? value.toString() : value)) : undefined,
      ...(cause === undefined ? {} : { cause }),
    })
  }
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
  let entries: BatchedEntry[]
  let root: Hex
  try {
    const decoded = decodeBatchWeights(weights, signed.length)
    entries = layoutBatchEntries({ entries: signed.map((entry, i) => ({ node: entry.node, root: entry.root, ...decoded[i]! })), firstPosition, weightStart })
    root = batchEntriesRoot(entries.map(batchEntryLeaf))
  } catch (cause) {
    if (!(cause instanceof ProtocolError)) throw cause
    throw new BatchDecodeError(`batch cannot be decoded: ${cause.shortMessage}`, { code: cause.code, ...cause.details }, cause)
  }
  if (root.toLowerCase() !== entriesRoot.toLowerCase()) {
    throw new BatchDecodeError('decoded batch entries do not match the batch entries root', { expected: entriesRoot, computed: root })
  }
  return entries
}
