import type { Address, Hex } from 'viem'

import type { BatchedEntry } from '../batch/entries.ts'
import { taskManagerAbi } from '../generated/contracts.ts'
import { readContract, writeContract, type AnyClient, type WriteOptions, type WriteResult } from '../internal/contract.ts'

export type MaterializeSubmissionParameters = WriteOptions & {
  /** TaskManager address. */
  address: Address
  taskId: bigint
  cycle: bigint
  /** From buildMaterializeProof. */
  batchIndex: bigint
  entry: BatchedEntry
  proof: readonly Hex[]
}

export type MaterializeSubmissionReturnType = WriteResult<typeof taskManagerAbi> & {
  /** The submission's index in the cycle's selection order (direct submitters first). */
  index: bigint
  /** False when the record already existed (idempotent call, no event). */
  created: boolean
}

/**
 * Creates the Submission record of a batched entry from its Merkle proof (any account; after the
 * cycle's submission window). Needed before a batched submission is audited, posts the
 * distribution it was selected for, or has its reputation settled.
 */
export async function materializeSubmission(
  client: AnyClient,
  parameters: MaterializeSubmissionParameters,
): Promise<MaterializeSubmissionReturnType> {
  const { address, taskId, cycle, batchIndex, entry, proof, ...options } = parameters
  const result = await writeContract(client, {
    abi: taskManagerAbi,
    address,
    functionName: 'materializeSubmission',
    args: [taskId, cycle, batchIndex, { ...entry }, [...proof]],
    ...options,
  })
  const event = result.events.find((log) => log.eventName === 'SubmissionMaterialized')
  if (event?.eventName === 'SubmissionMaterialized') return { ...result, index: event.args.index, created: true }
  const existing = await readContract(client, { abi: taskManagerAbi, address, functionName: 'getSubmission', args: [taskId, cycle, entry.node], retry: options.retry })
  return { ...result, index: BigInt(existing.index), created: false }
}
