import type { Address } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { readContract, type AnyClient, type ReadOptions } from '../internal/contract.ts'

export type RoundStartParameters = ReadOptions & {
  /** TaskManager address. */
  address: Address
  taskId: bigint
  round: bigint
}

export type RoundStartReturnType = bigint

/** Timestamp at which a round starts (TaskManager.roundStart). */
export async function roundStart(client: AnyClient, parameters: RoundStartParameters): Promise<RoundStartReturnType> {
  const { address, taskId, round, ...options } = parameters
  return readContract(client, { abi: taskManagerAbi, address, functionName: 'roundStart', args: [taskId, round], ...options })
}
