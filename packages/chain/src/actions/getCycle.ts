import type { Address } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { readContract, type AnyClient, type ReadOptions } from '../internal/contract.ts'
import type { Cycle } from '../types.ts'

export type GetCycleParameters = ReadOptions & {
  /** TaskManager address. */
  address: Address
  taskId: bigint
  cycle: bigint
}

export type GetCycleReturnType = Cycle

/** A cycle: seed, budget, bonus, distribution state and submitters (TaskManager.getCycle). */
export async function getCycle(client: AnyClient, parameters: GetCycleParameters): Promise<GetCycleReturnType> {
  const { address, taskId, cycle, ...options } = parameters
  return readContract(client, { abi: taskManagerAbi, address, functionName: 'getCycle', args: [taskId, cycle], ...options })
}
