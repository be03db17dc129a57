import type { Address } from 'viem'

import { batchEntries, type BatchedEntry, type SignedSubmission } from '../batch/entries.ts'
import { taskManagerAbi } from '../generated/contracts.ts'
import { findEvent, readContract, writeContract, type AnyClient, type WriteOptions, type WriteResult } from '../internal/contract.ts'

export type SubmitBatchParameters = WriteOptions & {
  /** TaskManager address. */
  address: Address
  taskId: bigint
  cycle: bigint
  /** Signed submissions (signSubmission), one per node. */
  entries: readonly SignedSubmission[]
}

export type SubmitBatchReturnType = WriteResult<typeof taskManagerAbi> & {
  batchIndex: bigint
  /** The entries as committed (positions, weight intervals, scores): what materialize proves. */
  recorded: BatchedEntry[]
}

/**
 * Posts many nodes' signed submissions in one transaction (TaskManager.submitBatch; any account).
 * A bad entry reverts the whole batch before sending (the simulation) with InvalidBatchSignature
 * or BatchEntryRejected naming the entry index: drop it and post the rest.
 */
export async function submitBatch(client: AnyClient, parameters: SubmitBatchParameters): Promise<SubmitBatchReturnType> {
  const { address, taskId, cycle, entries, ...options } = parameters
  const result = await writeContract(client, {
    abi: taskManagerAbi,
    address,
    functionName: 'submitBatch',
    args: [taskId, cycle, entries.map((entry) => ({ ...entry }))],
    ...options,
  })
  const batched = findEvent(result, 'SubmissionsBatched').args
  const batch = await readContract(client, {
    abi: taskManagerAbi,
    address,
    functionName: 'getBatch',
    args: [taskId, cycle, batched.batchIndex],
    retry: options.retry,
  })
  return {
    ...result,
    batchIndex: batched.batchIndex,
    recorded: batchEntries({
      signed: entries,
      firstPosition: BigInt(batch.firstPosition),
      weightStart: batched.weightStart,
      weights: batched.weights,
      entriesRoot: batched.entriesRoot,
    }),
  }
}
