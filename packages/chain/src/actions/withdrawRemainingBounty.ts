import type { Address } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { findEvent, writeContract, type AnyClient, type WriteOptions, type WriteResult } from '../internal/contract.ts'

export type WithdrawRemainingBountyParameters = WriteOptions & {
  /** TaskManager address. */
  address: Address
  taskId: bigint
}

export type WithdrawRemainingBountyReturnType = WriteResult<typeof taskManagerAbi> & {
  creator: Address
  /** Reward token returned to the creator. */
  rewardAmount: bigint
  /** Stake token (slash pool) returned to the creator. */
  stakeTokenAmount: bigint
}

/** Returns an ended task's leftovers to its creator (TaskManager.withdrawRemainingBounty). */
export async function withdrawRemainingBounty(
  client: AnyClient,
  parameters: WithdrawRemainingBountyParameters,
): Promise<WithdrawRemainingBountyReturnType> {
  const { address, taskId, ...options } = parameters
  const result = await writeContract(client, {
    abi: taskManagerAbi,
    address,
    functionName: 'withdrawRemainingBounty',
    args: [taskId],
    ...options,
  })
  const { creator, rewardAmount, stakeTokenAmount } = findEvent(result, 'BountyReturned').args
  return { ...result, creator, rewardAmount, stakeTokenAmount }
}
