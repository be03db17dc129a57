import type { Address } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { findEvent, writeContract, type AnyClient, type WriteOptions, type WriteResult } from '../internal/contract.ts'
import type { TaskParams } from '../types.ts'

export type CreateTaskParameters = WriteOptions & {
  /** TaskManager address. */
  address: Address
  params: TaskParams
  /** Reward tokens escrowed at creation (approve the TaskManager for them first). Default 0. */
  bounty?: bigint
}

export type CreateTaskReturnType = WriteResult<typeof taskManagerAbi> & {
  taskId: bigint
  /** Round 0 starts here; round r at startTime + r·roundLength. */
  startTime: bigint
  /** Reward tokens that arrived in escrow (0 without a bounty). */
  funded: bigint
}

/** Creates a task (TaskManager.createTask) and returns its id from the TaskCreated event. */
export async function createTask(client: AnyClient, parameters: CreateTaskParameters): Promise<CreateTaskReturnType> {
  const { address, params, bounty = 0n, ...options } = parameters
  const result = await writeContract(client, {
    abi: taskManagerAbi,
    address,
    functionName: 'createTask',
    args: [params, bounty],
    ...options,
  })
  const created = findEvent(result, 'TaskCreated')
  const funded = result.events.find((log) => log.eventName === 'BountyFunded')
  return {
    ...result,
    taskId: created.args.taskId,
    startTime: created.args.startTime,
    funded: funded?.eventName === 'BountyFunded' ? funded.args.amount : 0n,
  }
}
