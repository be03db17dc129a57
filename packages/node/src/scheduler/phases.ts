// The scheduler's phase logic, pure: given the task's round clock, the time, and what the node
// knows about each cycle (chain state + its own progress), which actions are due now. Built on
// @coop/protocol's round clock (cyclePhases / phasesAt / distributionAttemptAt), never re-deriving
// a window itself. No IO, no clock: the runner reads state, calls dueActions, executes.
//
// In round r (seed 001, gradual consensus):
//   cycle r      work
//   cycle r−1    submit inside the submission window, record the seed once it closes, audit the
//                sampled submissions assigned to us until the audit window closes
//   cycle ≤ r−2  the selected node posts the distribution; others check it; finalize; claim
//   any open audit: vote once before its deadline, resolve after it, claim won vote rewards
import {
  cyclePhases,
  distributionAttemptAt,
  DistributionStatus,
  phasesAt,
  type CyclePhases,
  type RoundParams,
} from '@coop/protocol'
import type { Address, Hex } from 'viem'

export type SchedulerParams = RoundParams & {
  voteWindow: bigint
  distributionAuditWindow: bigint
  maxDistributionAttempts: bigint
  /** 0 = no voters' pool, so claimVoteReward never pays. */
  votersBps?: bigint
}

/** What the node knows about one cycle. Missing fields mean "nothing yet" (false / 0 / undefined). */
export type CycleView = {
  cycle: bigint
  // ── local progress ──
  /** work(cycle) ran to completion. */
  worked?: boolean
  /** The audit pass over cycle's sampled submissions is done. */
  audited?: boolean
  /** The posted list was checked (fetched, recomputed, challenged if wrong). */
  distributionChecked?: boolean
  /** Whether our address has a leaf in the final list; undefined = not known yet (fetch it). */
  hasLeaf?: boolean
  // ── chain ──
  /** Our root for this cycle is on-chain. */
  submitted?: boolean
  /** The cycle seed (undefined while zero). */
  seed?: Hex
  /** Number of submitters. */
  submitters?: number
  status?: DistributionStatus
  attempt?: bigint
  turnStart?: bigint
  openAudits?: number
  openChallenges?: number
  postedAt?: bigint
  poster?: Address
  /** Our leaf is claimed. */
  claimed?: boolean
}

export type AuditView = {
  auditId: bigint
  cycle: bigint
  kind: 'submission' | 'distribution'
  accused: Address
  accuser: Address
  deadline: bigint
  resolved: boolean
  upheld?: boolean
  /** Our vote: 0 none, 1 uphold, 2 reject. */
  myVote: 0 | 1 | 2
  rewardClaimed?: boolean
}

export type DueAction =
  | { type: 'stake' }
  | { type: 'work'; cycle: bigint }
  | { type: 'submit'; cycle: bigint; closesAt: bigint }
  | { type: 'recordSeed'; cycle: bigint }
  | { type: 'audit'; cycle: bigint; closesAt: bigint }
  | { type: 'vote'; auditId: bigint; cycle: bigint; deadline: bigint }
  | { type: 'resolve'; auditId: bigint; cycle: bigint }
  | { type: 'claimVoteReward'; auditId: bigint; cycle: bigint }
  | { type: 'distribute'; cycle: bigint; attempt: bigint }
  | { type: 'failDistribution'; cycle: bigint }
  | { type: 'checkDistribution'; cycle: bigint; closesAt: bigint }
  | { type: 'finalize'; cycle: bigint }
  | { type: 'claim'; cycles: bigint[] }
  | { type: 'announce'; round: bigint; cycle: bigint }

export type Phase = 'work' | 'submit' | 'audit' | 'vote' | 'settle'

export type DueInput = {
  params: SchedulerParams
  startTime: bigint
  now: bigint
  me: Address
  /** Our active stake reaches the task's minimum (voting and raising audits need it). */
  staked: boolean
  cycles: readonly CycleView[]
  audits: readonly AuditView[]
  /** Last round whose announcement was published. */
  announcedRound?: bigint
  /** Wait for the work to finish before submitting (default true). */
  requireWork?: boolean
}

export type DueResult = {
  /** undefined before the task starts. */
  round: bigint | undefined
  /** Sub-phase of cycle r−1 (what the network is doing now). */
  phase: Phase | undefined
  actions: DueAction[]
}

/** The sub-phase of round r at `now`: submissions of r−1, then audits, votes, then settling. */
export function phaseAt(params: SchedulerParams, startTime: bigint, now: bigint): Phase | undefined {
  if (now < startTime) return undefined
  const at = phasesAt(params, startTime, now)
  if (!at.submission) return 'work'
  const phases = at.submission.phases
  if (now < phases.submissionCloses) return 'submit'
  if (now < phases.auditCloses) return 'audit'
  if (now < phases.auditCloses + params.voteWindow) return 'vote'
  return 'settle'
}

const same = (a: string | undefined, b: string | undefined) => a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase()

export function dueActions(input: DueInput): DueResult {
  const { params, startTime, now, me } = input
  if (now < startTime) return { round: undefined, phase: undefined, actions: [] }
  const at = phasesAt(params, startTime, now)
  const round = at.round
  const views = new Map(input.cycles.map((view) => [view.cycle, view]))
  const view = (cycle: bigint): CycleView => views.get(cycle) ?? { cycle }
  const actions: DueAction[] = []
  const requireWork = input.requireWork ?? true
  // Below the task's minimum (e.g. slashed): nothing on-chain works until the stake is topped up.
  if (!input.staked) actions.push({ type: 'stake' })

  // ── cycle r − 1: submit, seed, audit ──
  if (at.submission) {
    const c = at.submission.cycle
    const v = view(c)
    const phases = at.submission.phases
    if (at.submission.submissionOpen && !v.submitted && (v.worked || !requireWork) && input.staked) {
      actions.push({ type: 'submit', cycle: c, closesAt: phases.submissionCloses })
    }
    if (v.submitted && at.submission.auditOpen && !v.audited) {
      if (!v.seed) actions.push({ type: 'recordSeed', cycle: c })
      else actions.push({ type: 'audit', cycle: c, closesAt: phases.auditCloses })
    }
  }

  // ── open audits: vote, resolve, collect won vote rewards ──
  for (const audit of input.audits) {
    if (!audit.resolved) {
      if (now < audit.deadline) {
        if (audit.myVote === 0 && input.staked && !same(audit.accused, me) && !same(audit.accuser, me)) {
          actions.push({ type: 'vote', auditId: audit.auditId, cycle: audit.cycle, deadline: audit.deadline })
        }
      } else actions.push({ type: 'resolve', auditId: audit.auditId, cycle: audit.cycle })
    } else if (audit.upheld !== undefined && (input.params.votersBps ?? 1n) > 0n && !audit.rewardClaimed && !same(audit.accuser, me)) {
      const winning = audit.upheld ? 1 : 2
      if (audit.myVote === winning) actions.push({ type: 'claimVoteReward', auditId: audit.auditId, cycle: audit.cycle })
    }
  }

  // ── cycles ≤ r − 2 we submitted to: distribute, check, finalize, claim ──
  const claimable: bigint[] = []
  for (const v of [...views.values()].sort((a, b) => (a.cycle < b.cycle ? -1 : a.cycle > b.cycle ? 1 : 0))) {
    if (v.cycle + 2n > round || !v.submitted || !v.submitters) continue
    const phases: CyclePhases = cyclePhases(params, startTime, v.cycle)
    if (now < phases.distributionOpens) continue
    const status = v.status ?? DistributionStatus.Pending
    if (status === DistributionStatus.Pending) {
      if ((v.openAudits ?? 0) !== 0 || (v.openChallenges ?? 0) !== 0) continue
      const attempt = distributionAttemptAt(params, startTime, v.cycle, now, {
        status,
        attempt: v.attempt ?? 0n,
        turnStart: v.turnStart ?? 0n,
      })
      if (attempt >= params.maxDistributionAttempts) actions.push({ type: 'failDistribution', cycle: v.cycle })
      else if (!v.seed) actions.push({ type: 'recordSeed', cycle: v.cycle })
      else actions.push({ type: 'distribute', cycle: v.cycle, attempt })
    } else if (status === DistributionStatus.Posted) {
      const closesAt = (v.postedAt ?? 0n) + params.distributionAuditWindow
      if (now < closesAt) {
        if (!v.distributionChecked && !same(v.poster, me)) actions.push({ type: 'checkDistribution', cycle: v.cycle, closesAt })
      } else if ((v.openChallenges ?? 0) === 0) {
        // claimRewards finalizes on the way; finalize explicitly only when we have nothing to claim.
        if (v.hasLeaf !== false && !v.claimed) claimable.push(v.cycle)
        else actions.push({ type: 'finalize', cycle: v.cycle })
      }
    } else if (status === DistributionStatus.Final) {
      if (v.hasLeaf !== false && !v.claimed) claimable.push(v.cycle)
    }
  }
  if (claimable.length > 0) actions.push({ type: 'claim', cycles: claimable })

  // ── cycle r: work; announce the round ──
  if (!view(round).worked) actions.push({ type: 'work', cycle: round })
  if (input.announcedRound !== round) actions.push({ type: 'announce', round, cycle: round })

  return { round, phase: phaseAt(params, startTime, now), actions }
}

/** A stable key per action: the runner keeps at most one of each in flight. */
export function actionKey(action: DueAction): string {
  switch (action.type) {
    case 'vote':
    case 'resolve':
    case 'claimVoteReward':
      return `${action.type}:${action.auditId}`
    case 'claim':
      return 'claim'
    case 'stake':
      return 'stake'
    case 'announce':
      return `announce:${action.round}`
    default:
      return `${action.type}:${action.cycle}`
  }
}
