import type { Address, Hex } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { findEvent, writeContract, type AnyClient, type WriteOptions, type WriteResult } from '../internal/contract.ts'

export type FinalizeDistributionParameters = WriteOptions & {
  /** TaskManager address. */
  address: Address
  taskId: bigint
  cycle: bigint
}

export type FinalizeDistributionReturnType = WriteResult<typeof taskManagerAbi> & {
  merkleRoot: Hex
  /** Unallocated reward token returned to the task's escrow. */
  returnedReward: bigint
  /** Unallocated bonus (stake token) returned to the task's slash pool. */
  returnedBonus: bigint
}

/** Makes a posted, unchallenged list final after its challenge window (TaskManager.finalizeDistribution). */
export async function finalizeDistribution(
  client: AnyClient,
  parameters: FinalizeDistributionParameters,
): Promise<FinalizeDistributionReturnType> {
  const { address, taskId, cycle, ...options } = parameters
  const result = await writeContract(client, {
    abi: taskManagerAbi,
    address,
    functionName: 'finalizeDistribution',
    args: [taskId, cycle],
    ...options,
  })
  const { merkleRoot, returnedReward, returnedBonus } = findEvent(result, 'DistributionFinalized').args
  return { ...result, merkleRoot, returnedReward, returnedBonus }
}
