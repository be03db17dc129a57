import type { Address } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { readContract, type AnyClient, type ReadOptions } from '../internal/contract.ts'
import type { NodeState } from '../types.ts'

export type GetNodeParameters = ReadOptions & {
  /** TaskManager address. */
  address: Address
  taskId: bigint
  node: Address
}

export type GetNodeReturnType = NodeState

/** A node's stake, unbonding and reputation in a task (TaskManager.getNode). */
export async function getNode(client: AnyClient, parameters: GetNodeParameters): Promise<GetNodeReturnType> {
  const { address, taskId, node, ...options } = parameters
  return readContract(client, { abi: taskManagerAbi, address, functionName: 'getNode', args: [taskId, node], ...options })
}
