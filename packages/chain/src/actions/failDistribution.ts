import type { Address } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { findEvent, writeContract, type AnyClient, type WriteOptions, type WriteResult } from '../internal/contract.ts'

export type FailDistributionParameters = WriteOptions & {
  /** TaskManager address. */
  address: Address
  taskId: bigint
  cycle: bigint
}

export type FailDistributionReturnType = WriteResult<typeof taskManagerAbi> & {
  returnedReward: bigint
  returnedBonus: bigint
}

/** Once every distribution attempt has failed, returns the cycle's funds (TaskManager.failDistribution). */
export async function failDistribution(
  client: AnyClient,
  parameters: FailDistributionParameters,
): Promise<FailDistributionReturnType> {
  const { address, taskId, cycle, ...options } = parameters
  const result = await writeContract(client, {
    abi: taskManagerAbi,
    address,
    functionName: 'failDistribution',
    args: [taskId, cycle],
    ...options,
  })
  const { returnedReward, returnedBonus } = findEvent(result, 'DistributionFailed').args
  return { ...result, returnedReward, returnedBonus }
}
