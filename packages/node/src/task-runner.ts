// One task's round loop: every tick it reads what it needs (chain time, the cycles in flight, the
// audits seen), asks the pure scheduler which actions are due, and starts each one that is not
// already running. Roles live in ./roles; every on-chain action goes through an intent.
import { DistributionStatus, VoteSide } from '@coop/chain'
import { roundAt } from '@coop/protocol'
import type { Address } from 'viem'

import { errorMessage } from './errors.ts'
import { roundsTopic } from './p2p/protocols.ts'
import { claim } from './roles/claimer.ts'
import { checkDistribution, distribute, failDistribution, finalize } from './roles/distributor.ts'
import { audit, recordSeed } from './roles/auditor.ts'
import { REOPENED_POLL_MS, auditReopened, isScaleTask } from './roles/fisherman.ts'
import { emit, isZero, same, type TaskEnv } from './roles/env.ts'
import { claimVoteReward, resolve, vote } from './roles/voter.ts'
import { submit, work } from './roles/worker.ts'
import { topUpStake } from './roles/staker.ts'
import { actionKey, dueActions, type AuditView, type CycleView, type DueAction, type DueResult } from './scheduler/phases.ts'

const STAKE_CACHE_MS = 5_000
/** Cycles older than this many rounds are no longer followed (a distribution that old is stuck for good). */
const TRACK_CYCLES = 256
/** History kept in the state, in rounds (≫ unbondingRounds: past submissions stay servable for re-opened audits). */
export const RETAIN_CYCLES = 512

export class TaskRunner {
  readonly env: TaskEnv
  private readonly inFlight = new Map<string, Promise<void>>()
  private readonly retryAt = new Map<string, { at: number; failures: number }>()
  private readonly voteCache = new Map<string, 0 | 1 | 2>()
  private stakeCache: { at: number; staked: boolean } | undefined
  private announcedRound: bigint | undefined
  /** The last scheduler result (for status views). */
  last: DueResult | undefined

  constructor(env: TaskEnv) {
    this.env = env
    // A slash of this node changes its stake now, not in STAKE_CACHE_MS.
    const onSlash = (event: { node?: unknown; taskId?: unknown }) => {
      if (event.taskId === env.id && same(String(event.node ?? ''), env.node.address)) this.stakeCache = undefined
    }
    env.node.events.on('slash', onSlash)
    env.node.signal.addEventListener('abort', () => env.node.events.off('slash', onSlash), { once: true })
  }

  get running(): number {
    return this.inFlight.size
  }

  /** Waits for the actions in flight (bounded). */
  async drain(timeoutMs = 10_000): Promise<void> {
    await Promise.race([Promise.allSettled([...this.inFlight.values(), ...this.passes.inFlight()]), new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())])
  }

  async tick(): Promise<DueResult | undefined> {
    const env = this.env
    const now = await env.node.chain.now()
    if (now < env.startTime) return undefined
    const round = roundAt(env.startTime, env.params.roundLength, now)
    env.node.metrics.currentRound.set({ task: env.id }, Number(round))
    const [cycles, audits, staked] = await Promise.all([this.cycleViews(round, now), this.auditViews(), this.staked()])
    const due = dueActions({
      params: env.scheduler,
      startTime: env.startTime,
      now,
      me: env.node.address,
      staked,
      cycles,
      audits,
      ...(this.announcedRound !== undefined ? { announcedRound: this.announcedRound } : {}),
    })
    this.last = due
    for (const action of due.actions) this.start(action)
    this.prune(round)
    this.scalePasses(round, now)
    return due
  }

  private start(action: DueAction): void {
    const key = actionKey(action)
    if (this.inFlight.has(key) || this.env.node.signal.aborted) return
    if ((this.retryAt.get(key)?.at ?? 0) > Date.now()) return
    const promise = this.run(action)
      .then(() => void this.retryAt.delete(key))
      .catch((error: unknown) => {
        if (this.env.node.signal.aborted) return
        const code = (error as { code?: unknown } | null)?.code
        if (code === 'RPC_UNAVAILABLE' || code === 'RPC_ERROR') this.env.node.metrics.rpcErrors.inc()
        // Exponential backoff per action: 1 s, 2 s, 4 s … 30 s.
        const failures = (this.retryAt.get(key)?.failures ?? 0) + 1
        const delay = Math.min(30_000, 1_000 * 2 ** (failures - 1))
        this.retryAt.set(key, { at: Date.now() + delay, failures })
        this.env.logger.warn({ action: key, err: errorMessage(error), retryInMs: delay }, 'action failed; will retry')
      })
      .finally(() => this.inFlight.delete(key))
    this.inFlight.set(key, promise)
  }

  private async run(action: DueAction): Promise<void> {
    const env = this.env
    switch (action.type) {
      case 'stake':
        this.stakeCache = undefined
        await topUpStake(env)
        this.stakeCache = undefined
        return
      case 'work':
        return work(env, action.cycle)
      case 'submit':
        return submit(env, action.cycle)
      case 'recordSeed':
        return recordSeed(env, action.cycle)
      case 'audit':
        return audit(env, action.cycle, action.closesAt)
      case 'vote':
        return vote(env, action.auditId, action.deadline)
      case 'resolve':
        return resolve(env, action.auditId)
      case 'claimVoteReward':
        return claimVoteReward(env, action.auditId)
      case 'distribute':
        return distribute(env, action.cycle, action.attempt)
      case 'failDistribution':
        return failDistribution(env, action.cycle)
      case 'checkDistribution':
        return checkDistribution(env, action.cycle)
      case 'finalize':
        return finalize(env, action.cycle)
      case 'claim':
        return claim(env, action.cycles)
      case 'announce':
        return this.announce(action.round)
    }
  }

  private prunedRound = -1n
  private readonly passes = {
    upkeep: new ThrottledPass(2_000),
    reopenedAudits: new ThrottledPass(REOPENED_POLL_MS),
    inFlight(): Promise<void>[] {
      return [this.upkeep.running, this.reopenedAudits.running].filter((p): p is Promise<void> => p !== undefined)
    },
  }

  /** The SCALE background passes of a tick, for SCALE tasks only. */
  private scalePasses(round: bigint, now: bigint): void {
    const env = this.env
    if (!isScaleTask(env) || env.node.signal.aborted) return
    // Penalty scaling: a convict's past rounds (roles/fisherman.ts).
    this.passes.reopenedAudits.run(
      () => auditReopened(env, round, now),
      (error) => env.logger.warn({ err: errorMessage(error) }, 're-opened rounds audit failed; will retry'),
    )
    // Heads, replication, pruning, recovery (src/scale/service.ts).
    const scale = env.node.scale
    if (!scale) return
    this.passes.upkeep.run(
      () => scale.tick(env, round, now),
      (error) => {
        if (!env.node.signal.aborted) env.logger.warn({ err: errorMessage(error) }, 'SCALE upkeep failed; will retry')
      },
    )
  }

  /** Once a round: forget history older than RETAIN_CYCLES rounds. */
  private prune(round: bigint): void {
    if (round === this.prunedRound || round < BigInt(RETAIN_CYCLES)) return
    this.prunedRound = round
    const removed = this.env.node.store.prune(this.env.id, Number(round) - RETAIN_CYCLES)
    if (removed > 0) this.env.logger.debug({ removed, before: Number(round) - RETAIN_CYCLES }, 'pruned old state')
  }

  private async announce(round: bigint): Promise<void> {
    const env = this.env
    this.announcedRound = round
    const previous = round > 0n ? env.node.store.getSubmission(env.id, Number(round - 1n)) : undefined
    const phase = this.last?.phase ?? 'work'
    emit(env, { type: 'round', taskId: env.id, cycle: round.toString(), round: round.toString(), phase })
    try {
      await env.node.host.publish(roundsTopic(env.id), {
        taskId: env.id,
        round: Number(round),
        cycle: Number(round),
        phase,
        submission: previous ? { cycle: Number(round - 1n), root: previous.root } : null,
      })
    } catch (error) {
      // No peers subscribed yet is normal at start-up.
      env.logger.debug({ round, err: errorMessage(error) }, 'round announcement not published')
    }
  }

  private async staked(): Promise<boolean> {
    if (this.stakeCache && Date.now() - this.stakeCache.at < STAKE_CACHE_MS) return this.stakeCache.staked
    const env = this.env
    const node = await env.node.chain.coop.getNode({ taskId: env.taskId, node: env.node.address })
    const staked = node.stake > 0n && node.stake >= env.params.minStake
    this.stakeCache = { at: Date.now(), staked }
    return staked
  }

  /** Cycles r (local work), r−1 (submission/audit) and every older cycle we submitted to that is not closed. */
  private async cycleViews(round: bigint, now: bigint): Promise<CycleView[]> {
    const env = this.env
    const { store } = env.node
    const id = env.id
    const submittedStatus = (cycle: number) => {
      const intent = store.getIntent({ kind: 'submit', taskId: id, cycle })
      return intent?.status === 'confirmed' || intent?.status === 'skipped'
    }
    const views: CycleView[] = [{ cycle: round, worked: store.hasStep(id, Number(round), 'work') }]
    const tracked = new Set<number>(store.openCycles(id, Math.max(0, Number(round) - TRACK_CYCLES)))
    if (round >= 1n) tracked.add(Number(round - 1n))
    for (const c of [...tracked].sort((a, b) => a - b)) {
      if (BigInt(c) >= round) continue
      if (store.hasStep(id, c, 'closed')) continue
      const cycle = BigInt(c)
      const view: CycleView = {
        cycle,
        worked: store.hasStep(id, c, 'work'),
        audited: store.hasStep(id, c, 'audit'),
        submitted: submittedStatus(c),
        claimed: store.hasStep(id, c, 'claimed'),
        ...(store.hasStep(id, c, 'noLeaf') ? { hasLeaf: false } : {}),
      }
      const submissionCloses = env.startTime + (cycle + 1n) * env.params.roundLength + env.params.submissionWindow
      if (view.submitted && now >= submissionCloses) {
        const state = await env.node.chain.coop.getCycle({ taskId: env.taskId, cycle })
        Object.assign(view, {
          ...(isZero(state.seed) ? {} : { seed: state.seed }),
          submitters: state.submitters.length,
          status: state.status as CycleView['status'] & number,
          attempt: BigInt(state.attempt),
          turnStart: state.turnStart,
          openAudits: state.openAudits,
          openChallenges: state.openChallenges,
          postedAt: state.postedAt,
          poster: state.poster,
          distributionChecked: state.status === DistributionStatus.Posted && store.hasStep(id, c, 'distCheck', `${state.poster.toLowerCase()}:${state.attempt}`),
        } satisfies Partial<CycleView>)
        if (state.status === DistributionStatus.Failed || (state.status === DistributionStatus.Final && (view.claimed || view.hasLeaf === false))) {
          store.markStep(id, c, 'closed')
          continue
        }
      }
      views.push(view)
    }
    return views
  }

  private async auditViews(): Promise<AuditView[]> {
    const env = this.env
    const { store, chain, address } = env.node
    const views: AuditView[] = []
    for (const audit of store.listAudits({ taskId: env.id, settled: false })) {
      const auditId = BigInt(audit.auditId)
      const voteIntent = store.getIntent({ kind: 'vote', taskId: env.id, cycle: audit.cycle, key: audit.auditId })
      let myVote: 0 | 1 | 2 = 0
      if (audit.accuser.toLowerCase() === address.toLowerCase()) myVote = 1
      else if (voteIntent?.status === 'confirmed') myVote = voteIntent.payload.side === 'uphold' ? 1 : 2
      else if (voteIntent?.status === 'skipped') {
        let cached = this.voteCache.get(audit.auditId)
        if (cached === undefined) {
          const onChain = await chain.coop.getVote({ auditId, voter: address as Address })
          cached = onChain.side === VoteSide.Uphold ? 1 : onChain.side === VoteSide.Reject ? 2 : 0
          this.voteCache.set(audit.auditId, cached)
        }
        myVote = cached
      }
      if (audit.resolved) {
        const rewardIntent = store.getIntent({ kind: 'claimVoteReward', taskId: env.id, cycle: audit.cycle, key: audit.auditId })
        const done = rewardIntent !== undefined && (rewardIntent.status !== 'failed' || rewardIntent.txHash !== null || rewardIntent.attempts >= 5)
        const winning = audit.upheld ? 1 : 2
        if (done || myVote !== winning || same(audit.accuser, address)) {
          store.markAuditSettled(audit.auditId)
          continue
        }
      }
      views.push({
        auditId,
        cycle: BigInt(audit.cycle),
        kind: audit.kind,
        accused: audit.accused as Address,
        accuser: audit.accuser as Address,
        deadline: BigInt(audit.deadline),
        resolved: audit.resolved,
        ...(audit.upheld === null ? {} : { upheld: audit.upheld }),
        myVote,
      })
    }
    return views
  }
}

/** A background pass that runs one at a time and at most once every `everyMs`; errors go to `onError`. */
class ThrottledPass {
  running: Promise<void> | undefined
  private lastAt = 0

  constructor(private readonly everyMs: number) {}

  run(pass: () => Promise<void>, onError: (error: unknown) => void): void {
    if (this.running || Date.now() - this.lastAt < this.everyMs) return
    this.lastAt = Date.now()
    this.running = pass()
      .catch(onError)
      .finally(() => (this.running = undefined))
  }
}
