import type { Address, Hex } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { findEvent, writeContract, type AnyClient, type WriteOptions, type WriteResult } from '../internal/contract.ts'

export type RaiseAuditParameters = WriteOptions & {
  /** TaskManager address. */
  address: Address
  taskId: bigint
  cycle: bigint
  accused: Address
  /** 32-byte digest of the evidence's CID. */
  evidenceCid: Hex
}

export type RaiseAuditReturnType = WriteResult<typeof taskManagerAbi> & {
  auditId: bigint
  /** Votes are accepted until this timestamp; resolve after it. */
  deadline: bigint
  /** Weight of the accuser's implicit uphold vote. */
  accuserWeight: bigint
}

/** Raises an audit on a submission (TaskManager.raiseAudit); the accuser's vote upholds. */
export async function raiseAudit(client: AnyClient, parameters: RaiseAuditParameters): Promise<RaiseAuditReturnType> {
  const { address, taskId, cycle, accused, evidenceCid, ...options } = parameters
  const result = await writeContract(client, {
    abi: taskManagerAbi,
    address,
    functionName: 'raiseAudit',
    args: [taskId, cycle, accused, evidenceCid],
    ...options,
  })
  const raised = findEvent(result, 'AuditRaised').args
  return {
    ...result,
    auditId: raised.auditId,
    deadline: raised.deadline,
    accuserWeight: findEvent(result, 'VoteCast').args.weight,
  }
}
