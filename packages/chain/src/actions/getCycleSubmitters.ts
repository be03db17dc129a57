import type { Address } from 'viem'

import type { BatchedEntry } from '../batch/entries.ts'
import { taskManagerAbi } from '../generated/contracts.ts'
import { readContract, type AnyClient } from '../internal/contract.ts'
import { getBatchEntries, type CycleBatch, type GetBatchEntriesParameters } from './getBatchEntries.ts'

export type GetCycleSubmittersParameters = GetBatchEntriesParameters

export type CycleSubmitter = {
  node: Address
  /** Index in the cycle's selection order: direct submitters, then batched entries by position. */
  index: bigint
  /** Set for a batched submission: its batch and committed entry (materialize with its proof). */
  batch: { batchIndex: bigint; entry: BatchedEntry } | undefined
}

export type GetCycleSubmittersReturnType = { submitters: CycleSubmitter[]; batches: CycleBatch[] }

/**
 * Every submitter of `cycle`, direct and batched, in the order audit assignment and distributor
 * selection use (TaskLens: direct submitters in submission order, then batched entries by
 * position). Final once the cycle's submission window has closed.
 */
export async function getCycleSubmitters(client: AnyClient, parameters: GetCycleSubmittersParameters): Promise<GetCycleSubmittersReturnType> {
  const { address, taskId, cycle, retry } = parameters
  const state = await readContract(client, { abi: taskManagerAbi, address, functionName: 'getCycle', args: [taskId, cycle], retry })
  const direct = state.submitters.map((node, i) => ({ node, index: BigInt(i), batch: undefined }))
  const batches = state.batchCount === 0 ? [] : await getBatchEntries(client, parameters)
  const offset = BigInt(direct.length)
  const batched = batches.flatMap((batch) =>
    batch.entries.map((entry) => ({ node: entry.node, index: offset + entry.position, batch: { batchIndex: batch.batchIndex, entry } })),
  )
  return { submitters: [...direct, ...batched], batches }
}
