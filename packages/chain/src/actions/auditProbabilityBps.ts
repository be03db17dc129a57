import type { Address } from 'viem'

import { taskLensAbi } from '../generated/contracts.ts'
import { readContract, type AnyClient, type ReadOptions } from '../internal/contract.ts'

export type AuditProbabilityBpsParameters = ReadOptions & {
  /** TaskLens address. */
  address: Address
  taskId: bigint
  cycle: bigint
  node: Address
}

export type AuditProbabilityBpsReturnType = bigint

/** Audit probability of a submission in basis points (TaskLens.auditProbabilityBps). */
export async function auditProbabilityBps(client: AnyClient, parameters: AuditProbabilityBpsParameters): Promise<AuditProbabilityBpsReturnType> {
  const { address, taskId, cycle, node, ...options } = parameters
  return readContract(client, { abi: taskLensAbi, address, functionName: 'auditProbabilityBps', args: [taskId, cycle, node], ...options })
}
