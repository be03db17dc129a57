import type { Address } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { findEvent, writeContract, type AnyClient, type WriteOptions, type WriteResult } from '../internal/contract.ts'

export type StakeParameters = WriteOptions & {
  /** TaskManager address. */
  address: Address
  taskId: bigint
  /** Stake tokens to add (approve the TaskManager first). */
  amount: bigint
}

export type StakeReturnType = WriteResult<typeof taskManagerAbi> & {
  /** What arrived (fee-on-transfer tokens credit less). */
  staked: bigint
  /** The node's active stake afterwards. */
  totalStake: bigint
}

/** Adds stake to a task (TaskManager.stake). */
export async function stake(client: AnyClient, parameters: StakeParameters): Promise<StakeReturnType> {
  const { address, taskId, amount, ...options } = parameters
  const result = await writeContract(client, {
    abi: taskManagerAbi,
    address,
    functionName: 'stake',
    args: [taskId, amount],
    ...options,
  })
  const { amount: staked, totalStake } = findEvent(result, 'Staked').args
  return { ...result, staked, totalStake }
}
