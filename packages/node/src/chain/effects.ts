// "Is this intent's effect already on-chain?" per kind: what the reconciler asks after a restart
// and after a revert, so a done action is never repeated and a lost one is never assumed done.
import { DistributionStatus, VoteSide, taskManagerAbi, withRetry } from '@coop/chain'
import { parseAbiItem, type Address, type Hex } from 'viem'
import { getLogs, readContract } from 'viem/actions'

import { hasSubmittedInCycle } from '../scale/batcher.ts'
import type { Intent } from '../state/store.ts'
import type { NodeChain } from './client.ts'

const auditRaisedEvent = parseAbiItem(
  'event AuditRaised(uint256 indexed auditId, uint256 indexed taskId, uint256 indexed cycle, uint8 kind, address accused, address accuser, bytes32 evidenceCid, uint64 deadline)',
)

export async function isClaimed(chain: NodeChain, taskId: bigint, cycle: bigint, node: Address): Promise<boolean> {
  return withRetry(() =>
    readContract(chain.client, { abi: taskManagerAbi, address: chain.addresses.taskManager, functionName: 'claimed', args: [taskId, cycle, node] }),
  ) as Promise<boolean>
}

/** Audits raised by `accuser` on (taskId, cycle) of `kind` (0 submission, 1 distribution), from logs. */
export async function auditsRaisedBy(
  chain: NodeChain,
  filter: { taskId: bigint; cycle: bigint; accuser: Address; accused?: Address; kind: 0 | 1; fromBlock?: bigint },
): Promise<bigint[]> {
  const logs = await withRetry(() =>
    getLogs(chain.client, {
      address: chain.addresses.taskManager,
      event: auditRaisedEvent,
      args: { taskId: filter.taskId, cycle: filter.cycle },
      fromBlock: filter.fromBlock ?? 0n,
      toBlock: 'latest',
    }),
  )
  return logs
    .filter(
      (log) =>
        log.args.kind === filter.kind &&
        log.args.accuser?.toLowerCase() === filter.accuser.toLowerCase() &&
        (filter.accused === undefined || log.args.accused?.toLowerCase() === filter.accused.toLowerCase()),
    )
    .map((log) => log.args.auditId as bigint)
}

/** Whether the effect `intent` aimed at is on-chain (by us or, where anyone may act, by anyone). */
export async function intentEffectDone(chain: NodeChain, intent: Intent): Promise<boolean> {
  const me = chain.account.address
  const taskId = /^\d+$/.test(intent.taskId) ? BigInt(intent.taskId) : 0n
  const cycle = BigInt(Math.max(intent.cycle, 0))
  const p = intent.payload
  switch (intent.kind) {
    case 'approve': {
      const allowance = (await withRetry(() =>
        readContract(chain.client, {
          abi: [{ type: 'function', name: 'allowance', stateMutability: 'view', inputs: [{ type: 'address' }, { type: 'address' }], outputs: [{ type: 'uint256' }] }],
          address: p.token as Address,
          functionName: 'allowance',
          args: [me, chain.addresses.taskManager],
        }),
      )) as bigint
      return allowance >= BigInt(String(p.amount ?? '0'))
    }
    case 'stake': {
      const node = await chain.coop.getNode({ taskId, node: me })
      return node.stake >= BigInt(String(p.target ?? p.amount ?? '1'))
    }
    case 'register':
      return (await chain.coop.getP2pAddress({ node: me })) === String(p.p2pAddress)
    case 'submit': {
      const submission = await chain.coop.getSubmission({ taskId, cycle, node: me })
      // A batched submission has no Submission record until materialized: the bitmap counts it.
      return BigInt(submission.root) !== 0n || (await hasSubmittedInCycle({ chain }, taskId, cycle, me))
    }
    case 'submitBatch': {
      // Done once every node of the batch has submitted (by this batch or any other path).
      for (const node of (p.nodes as Address[] | undefined) ?? []) if (!(await hasSubmittedInCycle({ chain }, taskId, cycle, node))) return false
      return true
    }
    case 'materialize': {
      const submission = await chain.coop.getSubmission({ taskId, cycle, node: p.node as Address })
      return BigInt(submission.root) !== 0n
    }
    case 'recordSeed': {
      const c = await chain.coop.getCycle({ taskId, cycle })
      return BigInt(c.seed) !== 0n
    }
    case 'raiseAudit': {
      const accused = p.accused as Address
      const submission = await chain.coop.getSubmission({ taskId, cycle, node: accused })
      if (submission.convicted) return true
      return (await auditsRaisedBy(chain, { taskId, cycle, accuser: me, accused, kind: 0 })).length > 0
    }
    case 'challenge':
      return (await auditsRaisedBy(chain, { taskId, cycle, accuser: me, kind: 1 })).length > 0
    case 'vote':
      return (await chain.coop.getVote({ auditId: BigInt(intent.key), voter: me })).side !== VoteSide.None
    case 'resolve':
      return (await chain.coop.getAudit({ auditId: BigInt(intent.key) })).resolved
    case 'claimVoteReward':
      return (await chain.coop.getVote({ auditId: BigInt(intent.key), voter: me })).rewardClaimed
    case 'post': {
      const c = await chain.coop.getCycle({ taskId, cycle })
      return c.status === DistributionStatus.Posted || c.status === DistributionStatus.Final
    }
    case 'finalize': {
      const c = await chain.coop.getCycle({ taskId, cycle })
      return c.status === DistributionStatus.Final
    }
    case 'fail': {
      const c = await chain.coop.getCycle({ taskId, cycle })
      return c.status === DistributionStatus.Failed
    }
    case 'claim': {
      const cycles = (p.cycles as string[] | undefined) ?? []
      if (cycles.length === 0) return false
      for (const c of cycles) if (!(await isClaimed(chain, taskId, BigInt(c), me))) return false
      return true
    }
  }
}

export const ZERO_HASH: Hex = `0x${'0'.repeat(64)}`
