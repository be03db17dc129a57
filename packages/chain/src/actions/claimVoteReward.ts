import type { Address } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { findEvent, writeContract, type AnyClient, type WriteOptions, type WriteResult } from '../internal/contract.ts'

export type ClaimVoteRewardParameters = WriteOptions & {
  /** TaskManager address. */
  address: Address
  auditId: bigint
}

export type ClaimVoteRewardReturnType = WriteResult<typeof taskManagerAbi> & {
  /** Stake tokens paid from the audit's voters' pool. */
  amount: bigint
}

/** A winning voter (not the accuser) takes its share of the voters' pool (TaskManager.claimVoteReward). */
export async function claimVoteReward(
  client: AnyClient,
  parameters: ClaimVoteRewardParameters,
): Promise<ClaimVoteRewardReturnType> {
  const { address, auditId, ...options } = parameters
  const result = await writeContract(client, {
    abi: taskManagerAbi,
    address,
    functionName: 'claimVoteReward',
    args: [auditId],
    ...options,
  })
  return { ...result, amount: findEvent(result, 'VoteRewardClaimed').args.amount }
}
