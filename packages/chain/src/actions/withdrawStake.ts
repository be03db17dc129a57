import type { Address } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { findEvent, writeContract, type AnyClient, type WriteOptions, type WriteResult } from '../internal/contract.ts'

export type WithdrawStakeParameters = WriteOptions & {
  /** TaskManager address. */
  address: Address
  taskId: bigint
}

export type WithdrawStakeReturnType = WriteResult<typeof taskManagerAbi> & {
  /** Stake tokens paid out. */
  amount: bigint
}

/** Withdraws unbonded stake once it is unlocked (TaskManager.withdrawStake). */
export async function withdrawStake(client: AnyClient, parameters: WithdrawStakeParameters): Promise<WithdrawStakeReturnType> {
  const { address, taskId, ...options } = parameters
  const result = await writeContract(client, {
    abi: taskManagerAbi,
    address,
    functionName: 'withdrawStake',
    args: [taskId],
    ...options,
  })
  return { ...result, amount: findEvent(result, 'StakeWithdrawn').args.amount }
}
