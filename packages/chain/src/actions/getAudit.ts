import type { Address } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { readContract, type AnyClient, type ReadOptions } from '../internal/contract.ts'
import type { Audit } from '../types.ts'

export type GetAuditParameters = ReadOptions & {
  /** TaskManager address. */
  address: Address
  auditId: bigint
}

export type GetAuditReturnType = Audit

/** An audit: parties, deadline, weights and outcome (TaskManager.getAudit). */
export async function getAudit(client: AnyClient, parameters: GetAuditParameters): Promise<GetAuditReturnType> {
  const { address, auditId, ...options } = parameters
  return readContract(client, { abi: taskManagerAbi, address, functionName: 'getAudit', args: [auditId], ...options })
}
