import type { Address } from 'viem'

import { taskLensAbi } from '../generated/contracts.ts'
import { readContract, type AnyClient, type ReadOptions } from '../internal/contract.ts'

export type IsSampledParameters = ReadOptions & {
  /** TaskLens address. */
  address: Address
  taskId: bigint
  cycle: bigint
  node: Address
}

export type IsSampledReturnType = boolean

/** Whether a submission is sampled for audit; false until the cycle seed is fixed (TaskLens.isSampled). */
export async function isSampled(client: AnyClient, parameters: IsSampledParameters): Promise<IsSampledReturnType> {
  const { address, taskId, cycle, node, ...options } = parameters
  return readContract(client, { abi: taskLensAbi, address, functionName: 'isSampled', args: [taskId, cycle, node], ...options })
}
