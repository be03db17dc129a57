import type { Address } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { readContract, type AnyClient, type ReadOptions } from '../internal/contract.ts'

export type CurrentRoundParameters = ReadOptions & {
  /** TaskManager address. */
  address: Address
  taskId: bigint
}

export type CurrentRoundReturnType = bigint

/** The task's current round at the latest block (TaskManager.currentRound). */
export async function currentRound(client: AnyClient, parameters: CurrentRoundParameters): Promise<CurrentRoundReturnType> {
  const { address, taskId, ...options } = parameters
  return readContract(client, { abi: taskManagerAbi, address, functionName: 'currentRound', args: [taskId], ...options })
}
