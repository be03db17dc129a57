import type { Address } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { readContract, type AnyClient, type ReadOptions } from '../internal/contract.ts'

export type UnbondedAtRoundParameters = ReadOptions & {
  /** TaskManager address. */
  address: Address
  taskId: bigint
  node: Address
}

export type UnbondedAtRoundReturnType = bigint

/** First round at which a node's unbonding stake may be withdrawn (TaskManager.unbondedAtRound). */
export async function unbondedAtRound(client: AnyClient, parameters: UnbondedAtRoundParameters): Promise<UnbondedAtRoundReturnType> {
  const { address, taskId, node, ...options } = parameters
  return readContract(client, { abi: taskManagerAbi, address, functionName: 'unbondedAtRound', args: [taskId, node], ...options })
}
