import type { Address, Hex } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { findEvent, writeContract, type AnyClient, type WriteOptions, type WriteResult } from '../internal/contract.ts'

export type SubmitParameters = WriteOptions & {
  /** TaskManager address. */
  address: Address
  taskId: bigint
  cycle: bigint
  /** 32-byte root of the node's work DAG for the cycle. */
  root: Hex
}

export type SubmitReturnType = WriteResult<typeof taskManagerAbi> & {
  /** Selection weight recorded for the node (stake × reputation factor). */
  weight: bigint
  /** Set when this submission opened the cycle (reserved its budget). */
  cycleOpened: { budget: bigint; bonus: bigint } | undefined
}

/** Submits a cycle's proof during round cycle+1's submission window (TaskManager.submit). */
export async function submit(client: AnyClient, parameters: SubmitParameters): Promise<SubmitReturnType> {
  const { address, taskId, cycle, root, ...options } = parameters
  const result = await writeContract(client, {
    abi: taskManagerAbi,
    address,
    functionName: 'submit',
    args: [taskId, cycle, root],
    ...options,
  })
  const opened = result.events.find((log) => log.eventName === 'CycleOpened')
  return {
    ...result,
    weight: findEvent(result, 'Submitted').args.weight,
    cycleOpened: opened?.eventName === 'CycleOpened' ? { budget: opened.args.budget, bonus: opened.args.bonus } : undefined,
  }
}
