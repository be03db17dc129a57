import type { Address, Hex } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { findEvent, writeContract, type AnyClient, type WriteOptions, type WriteResult } from '../internal/contract.ts'

export type ChallengeDistributionParameters = WriteOptions & {
  /** TaskManager address. */
  address: Address
  taskId: bigint
  cycle: bigint
  /** 32-byte digest of the evidence's CID (e.g. the recomputed list). */
  evidenceCid: Hex
}

export type ChallengeDistributionReturnType = WriteResult<typeof taskManagerAbi> & {
  auditId: bigint
  deadline: bigint
}

/** Challenges a posted distribution list during its challenge window (TaskManager.challengeDistribution). */
export async function challengeDistribution(
  client: AnyClient,
  parameters: ChallengeDistributionParameters,
): Promise<ChallengeDistributionReturnType> {
  const { address, taskId, cycle, evidenceCid, ...options } = parameters
  const result = await writeContract(client, {
    abi: taskManagerAbi,
    address,
    functionName: 'challengeDistribution',
    args: [taskId, cycle, evidenceCid],
    ...options,
  })
  const { auditId, deadline } = findEvent(result, 'AuditRaised').args
  return { ...result, auditId, deadline }
}
