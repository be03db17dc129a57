import type { Address } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { writeContract, type AnyClient, type WriteOptions, type WriteResult } from '../internal/contract.ts'

export type StopTaskParameters = WriteOptions & {
  /** TaskManager address. */
  address: Address
  taskId: bigint
}

export type StopTaskReturnType = WriteResult<typeof taskManagerAbi>

/** The creator stops the task (TaskManager.stopTask): no new cycle opens, cycles in flight settle. */
export async function stopTask(client: AnyClient, parameters: StopTaskParameters): Promise<StopTaskReturnType> {
  const { address, taskId, ...options } = parameters
  return writeContract(client, { abi: taskManagerAbi, address, functionName: 'stopTask', args: [taskId], ...options })
}
