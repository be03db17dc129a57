import type { Address } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { readContract, type AnyClient, type ReadOptions } from '../internal/contract.ts'
import type { Task } from '../types.ts'

export type GetTaskParameters = ReadOptions & {
  /** TaskManager address. */
  address: Address
  taskId: bigint
}

export type GetTaskReturnType = Task

/** A task: its parameters, creator, start time, escrow and slash pool (TaskManager.getTask). */
export async function getTask(client: AnyClient, parameters: GetTaskParameters): Promise<GetTaskReturnType> {
  const { address, taskId, ...options } = parameters
  return readContract(client, { abi: taskManagerAbi, address, functionName: 'getTask', args: [taskId], ...options })
}
