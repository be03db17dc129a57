import type { Address } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { filterEvents, resolveAccount, writeContract, type AnyClient, type WriteOptions, type WriteResult } from '../internal/contract.ts'
import type { ClaimRequest } from '../types.ts'

export type ClaimRewardsParameters = WriteOptions & {
  /** TaskManager address. */
  address: Address
  taskId: bigint
  /** Whose rewards (tokens go to this address). Default: the signer. */
  node?: Address
  /** One entry per cycle: the leaf's reward and bonus and its Merkle proof. */
  claims: readonly ClaimRequest[]
}

export type ClaimRewardsReturnType = WriteResult<typeof taskManagerAbi> & {
  /** Reward token paid, summed over the claims. */
  reward: bigint
  /** Bonus (stake token) paid, summed over the claims. */
  bonus: bigint
  perCycle: { cycle: bigint; reward: bigint; bonus: bigint }[]
}

/**
 * Claims rewards for several cycles in one transaction (TaskManager.claimRewards); finalizes any
 * cycle whose challenge window is over on the way.
 */
export async function claimRewards(client: AnyClient, parameters: ClaimRewardsParameters): Promise<ClaimRewardsReturnType> {
  const { address, taskId, node, claims, ...options } = parameters
  const beneficiary = node ?? resolveAccount(client, options.account, 'claimRewards').address
  const result = await writeContract(client, {
    abi: taskManagerAbi,
    address,
    functionName: 'claimRewards',
    args: [taskId, beneficiary, claims],
    ...options,
  })
  const perCycle = filterEvents(result, 'RewardClaimed').map(({ args }) => ({
    cycle: args.cycle,
    reward: args.reward,
    bonus: args.bonus,
  }))
  return {
    ...result,
    reward: perCycle.reduce((sum, claim) => sum + claim.reward, 0n),
    bonus: perCycle.reduce((sum, claim) => sum + claim.bonus, 0n),
    perCycle,
  }
}
