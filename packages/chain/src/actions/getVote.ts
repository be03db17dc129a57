import type { Address } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { readContract, type AnyClient, type ReadOptions } from '../internal/contract.ts'
import type { Vote } from '../types.ts'

export type GetVoteParameters = ReadOptions & {
  /** TaskManager address. */
  address: Address
  auditId: bigint
  voter: Address
}

export type GetVoteReturnType = Vote

/** A voter's vote on an audit (TaskManager.getVote). */
export async function getVote(client: AnyClient, parameters: GetVoteParameters): Promise<GetVoteReturnType> {
  const { address, auditId, voter, ...options } = parameters
  return readContract(client, { abi: taskManagerAbi, address, functionName: 'getVote', args: [auditId, voter], ...options })
}
