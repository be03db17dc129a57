import type { Address } from 'viem'

import { taskLensAbi } from '../generated/contracts.ts'
import { readContract, type AnyClient, type ReadOptions } from '../internal/contract.ts'

export type AuditorsOfParameters = ReadOptions & {
  /** TaskLens address. */
  address: Address
  taskId: bigint
  cycle: bigint
  node: Address
}

export type AuditorsOfReturnType = readonly Address[]

/** Auditors assigned to a submission; empty until the cycle seed is fixed (TaskLens.auditorsOf). */
export async function auditorsOf(client: AnyClient, parameters: AuditorsOfParameters): Promise<AuditorsOfReturnType> {
  const { address, taskId, cycle, node, ...options } = parameters
  return readContract(client, { abi: taskLensAbi, address, functionName: 'auditorsOf', args: [taskId, cycle, node], ...options })
}
