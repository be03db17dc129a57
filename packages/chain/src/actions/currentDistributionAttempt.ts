import type { Address } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { readContract, type AnyClient, type ReadOptions } from '../internal/contract.ts'

export type CurrentDistributionAttemptParameters = ReadOptions & {
  /** TaskManager address. */
  address: Address
  taskId: bigint
  cycle: bigint
}

export type CurrentDistributionAttemptReturnType = bigint

/** The distribution attempt whose posting window is open now (TaskManager.currentDistributionAttempt). */
export async function currentDistributionAttempt(client: AnyClient, parameters: CurrentDistributionAttemptParameters): Promise<CurrentDistributionAttemptReturnType> {
  const { address, taskId, cycle, ...options } = parameters
  return readContract(client, { abi: taskManagerAbi, address, functionName: 'currentDistributionAttempt', args: [taskId, cycle], ...options })
}
