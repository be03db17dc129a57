// The node's SCALE upkeep per task and round (heads, replication, pruning, recovery), run by the
// task runner next to the scheduler's actions. Each step is idempotent and driven by durable
// state, so a crash anywhere only delays it to the next pass.
import { DistributionStatus } from '@coop/chain'
import type { Address, Hex } from 'viem'

import { errorMessage } from '../errors.ts'
import type { NodeServices, TaskEnv } from '../roles/env.ts'
import { keepHeads, requestHead, serveHeads } from './heads.ts'
import { prunePass } from './pruning.ts'
import { Replication, type ReplicationChain } from './replication.ts'
import { ScaleState } from './scale-state.ts'

/** The chain facts replication needs, from the node's chain client (cached per cycle: they never change once the window closed). */
function replicationChain(node: Pick<NodeServices, 'chain'>): ReplicationChain {
  const submitters = new Map<string, Promise<readonly Address[]>>()
  return {
    submitters(taskId, cycle) {
      const key = `${taskId}:${cycle}`
      let cached = submitters.get(key)
      if (!cached) {
        cached = node.chain.coop.getCycle({ taskId, cycle }).then((state) => state.submitters)
        cached.catch(() => submitters.delete(key))
        submitters.set(key, cached)
        if (submitters.size > 1024) submitters.delete(submitters.keys().next().value as string)
      }
      return cached
    },
    async submittedRoot(taskId, cycle, owner) {
      return (await node.chain.coop.getSubmission({ taskId, cycle, node: owner })).root as Hex
    },
  }
}

/** Upkeep passes that try to recover lost blocks before giving up (one pass every ≥ 2 s). */
const MAX_RECOVERY_PASSES = 30

export class ScaleService {
  readonly state: ScaleState
  readonly replication: Replication
  private readonly recovered = new Set<string>()
  private readonly recoveryAttempts = new Map<string, number>()

  constructor(
    private readonly node: Pick<NodeServices, 'host' | 'rounds' | 'content' | 'store' | 'chain' | 'peers' | 'logger'>,
    hasTask: (taskId: string) => boolean,
  ) {
    this.state = new ScaleState(node.store)
    this.replication = new Replication({
      host: node.host,
      rounds: node.rounds,
      content: node.content,
      scale: this.state,
      chain: replicationChain(node),
      multiaddrOf: (address) => node.peers.multiaddrOf(address),
      hasTask,
      logger: node.logger.child({ component: 'scale' }),
    })
    serveHeads({ host: node.host, scale: this.state, hasTask })
    this.replication.serve()
  }

  /**
   * One pass for a SCALE task at `round`: recover lost blocks (first pass, then until it works),
   * keep the heads of newly final cycles, replicate own rounds whose submitters are known, prune
   * what is past retention.
   */
  async tick(env: TaskEnv, round: bigint, now: bigint): Promise<void> {
    const scale = env.runtime.scale
    if (!scale) return
    const log = env.logger
    if (!this.recovered.has(env.id)) {
      const result = await this.replication.recoverTask(env.id)
      const attempts = (this.recoveryAttempts.get(env.id) ?? 0) + 1
      this.recoveryAttempts.set(env.id, attempts)
      if (result.rounds > 0) log.info(result, 'recovered round blocks from replicas')
      if (result.failed === 0) this.recovered.add(env.id)
      else if (attempts >= MAX_RECOVERY_PASSES) {
        // Nobody holds them (k = 1, or every holder is gone): stop asking; audits of those rounds will fail.
        this.recovered.add(env.id)
        log.error({ rounds: result.failed, attempts }, 'round blocks lost and not recoverable from any holder')
      }
    }
    await keepHeads({
      taskId: env.taskId,
      chain: env.node.chain,
      scale: this.state,
      currentRound: round,
      logger: log,
      fetchHead: (cycle, poster, digest) => requestHead(env, poster, cycle, digest),
    }).catch((error: unknown) => log.warn({ err: errorMessage(error) }, 'scale head keeper failed; will retry'))

    // Replicate own rounds once the cycle's submission window has closed (its submitters are final).
    for (const record of env.node.rounds.listRounds(env.id, { node: env.node.address, status: 'built' })) {
      const closes = env.startTime + BigInt(record.cycle + 1) * env.params.roundLength + env.params.submissionWindow
      if (now < closes) continue
      const acks = this.state.acks(env.id, record.cycle, env.node.address).filter((ack) => ack.root === record.root).length
      if (acks >= scale.replication - 1) continue
      const result = await this.replication.replicate(env.taskId, record.cycle, scale.replication)
      if (result.missing > 0) log.warn({ cycle: record.cycle, acked: result.acked.length, wanted: scale.replication - 1 }, 'round not yet held by k nodes; will retry')
    }

    const report = await prunePass({
      taskId: env.id,
      state: env.node.store,
      rounds: env.node.rounds,
      scale: this.state,
      currentRound: Number(round),
      retentionRounds: scale.retentionRounds,
      unbondingRounds: Number(env.params.unbondingRounds),
      settlement: async (cycle) => {
        const state = await env.node.chain.coop.getCycle({ taskId: env.taskId, cycle: BigInt(cycle) })
        const settled = state.status === DistributionStatus.Final || state.status === DistributionStatus.Failed || (state.submitters.length === 0 && BigInt(cycle) + 3n <= round)
        return { status: settled ? (state.status === DistributionStatus.Failed ? 'failed' : 'final') : 'open', openAudits: state.openAudits }
      },
    })
    if (report.pruned.length > 0) log.info({ rounds: report.pruned.length, leaves: report.pruned.reduce((sum, p) => sum + p.leaves, 0), vacuumedPages: report.vacuumedPages }, 'pruned SCALE rounds past retention')
  }
}
