import type { Address, Hex } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { readContract, writeContract, type AnyClient, type WriteOptions, type WriteResult } from '../internal/contract.ts'

export type RecordSeedParameters = WriteOptions & {
  /** TaskManager address. */
  address: Address
  taskId: bigint
  cycle: bigint
}

export type RecordSeedReturnType = WriteResult<typeof taskManagerAbi> & {
  seed: Hex
  /** False when an earlier audit, post or recordSeed had fixed it already. */
  recordedNow: boolean
}

/** Fixes a cycle's randomness once its submission window has closed (TaskManager.recordSeed). */
export async function recordSeed(client: AnyClient, parameters: RecordSeedParameters): Promise<RecordSeedReturnType> {
  const { address, taskId, cycle, ...options } = parameters
  const result = await writeContract(client, {
    abi: taskManagerAbi,
    address,
    functionName: 'recordSeed',
    args: [taskId, cycle],
    ...options,
  })
  const recorded = result.events.find((log) => log.eventName === 'SeedRecorded')
  if (recorded?.eventName === 'SeedRecorded') return { ...result, seed: recorded.args.seed, recordedNow: true }
  const { seed } = await readContract(client, {
    abi: taskManagerAbi,
    address,
    functionName: 'getCycle',
    args: [taskId, cycle],
    retry: options.retry,
  })
  return { ...result, seed, recordedNow: false }
}
