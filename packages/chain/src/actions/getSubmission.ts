import type { Address } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { readContract, type AnyClient, type ReadOptions } from '../internal/contract.ts'
import type { Submission } from '../types.ts'

export type GetSubmissionParameters = ReadOptions & {
  /** TaskManager address. */
  address: Address
  taskId: bigint
  cycle: bigint
  node: Address
}

export type GetSubmissionReturnType = Submission

/** A node's submission for a cycle (zero root if none) (TaskManager.getSubmission). */
export async function getSubmission(client: AnyClient, parameters: GetSubmissionParameters): Promise<GetSubmissionReturnType> {
  const { address, taskId, cycle, node, ...options } = parameters
  return readContract(client, { abi: taskManagerAbi, address, functionName: 'getSubmission', args: [taskId, cycle, node], ...options })
}
