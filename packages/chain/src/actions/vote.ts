import type { Address } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { findEvent, writeContract, type AnyClient, type WriteOptions, type WriteResult } from '../internal/contract.ts'
import { VoteSide } from '../types.ts'

export type VoteParameters = WriteOptions & {
  /** TaskManager address. */
  address: Address
  auditId: bigint
  side: 'uphold' | 'reject' | VoteSide
}

export type VoteReturnType = WriteResult<typeof taskManagerAbi> & {
  /** Vote weight: (stake + unbonding) × reputation factor. */
  weight: bigint
}

/** Votes on an audit (TaskManager.vote): one vote per staked node, not the accused. */
export async function vote(client: AnyClient, parameters: VoteParameters): Promise<VoteReturnType> {
  const { address, auditId, side, ...options } = parameters
  const sideValue = side === 'uphold' ? VoteSide.Uphold : side === 'reject' ? VoteSide.Reject : side
  const result = await writeContract(client, {
    abi: taskManagerAbi,
    address,
    functionName: 'vote',
    args: [auditId, sideValue],
    ...options,
  })
  return { ...result, weight: findEvent(result, 'VoteCast').args.weight }
}
