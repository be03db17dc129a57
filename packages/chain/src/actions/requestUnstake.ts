import type { Address } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { findEvent, writeContract, type AnyClient, type WriteOptions, type WriteResult } from '../internal/contract.ts'

export type RequestUnstakeParameters = WriteOptions & {
  /** TaskManager address. */
  address: Address
  taskId: bigint
  amount: bigint
}

export type RequestUnstakeReturnType = WriteResult<typeof taskManagerAbi> & {
  /** Round of the request; the stake unlocks at unbondedAtRound(taskId, node). */
  round: bigint
}

/** Moves active stake to unbonding (TaskManager.requestUnstake). It stays slashable until withdrawn. */
export async function requestUnstake(
  client: AnyClient,
  parameters: RequestUnstakeParameters,
): Promise<RequestUnstakeReturnType> {
  const { address, taskId, amount, ...options } = parameters
  const result = await writeContract(client, {
    abi: taskManagerAbi,
    address,
    functionName: 'requestUnstake',
    args: [taskId, amount],
    ...options,
  })
  return { ...result, round: findEvent(result, 'UnstakeRequested').args.round }
}
