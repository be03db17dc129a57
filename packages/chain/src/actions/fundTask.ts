import type { Address } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { findEvent, writeContract, type AnyClient, type WriteOptions, type WriteResult } from '../internal/contract.ts'

export type FundTaskParameters = WriteOptions & {
  /** TaskManager address. */
  address: Address
  taskId: bigint
  /** Reward tokens to add (approve the TaskManager first). */
  amount: bigint
}

export type FundTaskReturnType = WriteResult<typeof taskManagerAbi> & {
  /** What actually arrived (fee-on-transfer tokens credit less). */
  funded: bigint
}

/** Tops up a task's bounty (TaskManager.fundTask). Anyone may fund. */
export async function fundTask(client: AnyClient, parameters: FundTaskParameters): Promise<FundTaskReturnType> {
  const { address, taskId, amount, ...options } = parameters
  const result = await writeContract(client, {
    abi: taskManagerAbi,
    address,
    functionName: 'fundTask',
    args: [taskId, amount],
    ...options,
  })
  return { ...result, funded: findEvent(result, 'BountyFunded').args.amount }
}
