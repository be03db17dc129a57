import type { Address } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { findEvent, writeContract, type AnyClient, type WriteOptions, type WriteResult } from '../internal/contract.ts'

export type ResolveAuditParameters = WriteOptions & {
  /** TaskManager address. */
  address: Address
  auditId: bigint
}

export type ResolveAuditReturnType = WriteResult<typeof taskManagerAbi> & {
  upheld: boolean
  upholdWeight: bigint
  rejectWeight: bigint
  /** The loser's slash (the accused if upheld, the accuser if rejected); undefined if nothing was slashed. */
  slashed: { node: Address; amount: bigint } | undefined
  /** How the slash was shared: winner now, voters via claimVoteReward, the rest to the pool. */
  shared: { winner: Address; toWinner: bigint; toVoters: bigint; toPool: bigint } | undefined
  /** Set when an upheld submission audit re-opened the convict's past rounds. */
  reopenedUntil: bigint | undefined
}

/** Resolves an audit after its vote (TaskManager.resolveAudit) and reports the slash. */
export async function resolveAudit(client: AnyClient, parameters: ResolveAuditParameters): Promise<ResolveAuditReturnType> {
  const { address, auditId, ...options } = parameters
  const result = await writeContract(client, {
    abi: taskManagerAbi,
    address,
    functionName: 'resolveAudit',
    args: [auditId],
    ...options,
  })
  const { upheld, upholdWeight, rejectWeight } = findEvent(result, 'AuditResolved').args
  let slashed: ResolveAuditReturnType['slashed']
  let shared: ResolveAuditReturnType['shared']
  let reopenedUntil: bigint | undefined
  for (const log of result.events) {
    if (log.eventName === 'Slashed') slashed = { node: log.args.node, amount: log.args.amount }
    if (log.eventName === 'SlashShared') {
      const { winner, toWinner, toVoters, toPool } = log.args
      shared = { winner, toWinner, toVoters, toPool }
    }
    if (log.eventName === 'PastRoundsReopened') reopenedUntil = log.args.until
  }
  return { ...result, upheld, upholdWeight, rejectWeight, slashed, shared, reopenedUntil }
}
