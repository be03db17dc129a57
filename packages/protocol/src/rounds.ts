import { ProtocolError } from './errors.ts'
import { checkedAdd, checkedMul, checkedSub } from './uint256.ts'
import { assertUint256 } from './validate.ts'

// The round clock of contracts/src/TaskManager.sol (_roundStart, _currentRound, submit,
// raiseAudit, postDistribution, _currentAttempt). All times are unix seconds; every `…Closes`
// bound is exclusive, as the contract rejects at `timestamp >= closesAt`.
//
// Cycle c is worked during round c, submitted during round c+1's submission window, audited
// from the moment submissions close until round c+1's audit window ends, and distributed from
// round c+2. So in round r, cycle r is in work, r−1 in submission/audit, r−2 in distribution.

/** The timing fields of TaskParams this clock uses (a whole TaskParams fits). */
export interface RoundParams {
  roundLength: bigint
  submissionWindow: bigint
  auditWindow: bigint
  distributionWindow: bigint
}

/** Cycle.status on-chain (ITaskManager.DistributionStatus). */
export const DistributionStatus = { Pending: 0, Posted: 1, Final: 2, Failed: 3 } as const
export type DistributionStatus = (typeof DistributionStatus)[keyof typeof DistributionStatus]

/** What the contract stores about a cycle's distribution turns (fields of getCycle()). */
export interface DistributionTurnState {
  status: DistributionStatus
  /** The stored attempt: only advanced by a post or by an upheld challenge, not by time. */
  attempt: bigint
  /** When the stored attempt's posting window opened; 0 means start(cycle + 2). */
  turnStart: bigint
}

/** A cycle whose distribution nobody has touched yet. */
export const FRESH_DISTRIBUTION: DistributionTurnState = { status: DistributionStatus.Pending, attempt: 0n, turnStart: 0n }

export interface CyclePhases {
  cycle: bigint
  /** start(c): the round whose work this cycle's submissions prove. */
  workOpens: bigint
  /** start(c + 1). */
  submissionOpens: bigint
  /** start(c + 1) + submissionWindow; the cycle seed can be recorded from here. */
  submissionCloses: bigint
  /** raiseAudit fixes the seed first, which reverts before submissions close. */
  auditOpens: bigint
  /** start(c + 1) + auditWindow: audits (outside penalty re-opening) and reputation settle from here. */
  auditCloses: bigint
  /** start(c + 2): the first distribution attempt's posting window opens. */
  distributionOpens: bigint
}

export interface RoundPhases {
  round: bigint
  roundStart: bigint
  /** Cycle r: nodes are doing the work. */
  work: { cycle: bigint }
  /** Cycle r − 1 (null in round 0). */
  submission: {
    cycle: bigint
    phases: CyclePhases
    submissionOpen: boolean
    seedAvailable: boolean
    auditOpen: boolean
  } | null
  /**
   * Cycle r − 2 (null before round 2). Its distribution may run past round r (unposted turns
   * time out lazily, an upheld challenge restarts the clock), so older cycles can still be here too.
   */
  distribution: { cycle: bigint; phases: CyclePhases; attempt: bigint } | null
}

/** The round containing time `t` (TaskManager._currentRound). */
export function roundAt(startTime: bigint, roundLength: bigint, t: bigint): bigint {
  assertUint256(startTime, 'startTime')
  assertRoundLength(roundLength)
  assertUint256(t, 't')
  if (t < startTime) {
    throw new ProtocolError('TIME_BEFORE_START', 'time is before the task started', { details: { t, startTime } })
  }
  return (t - startTime) / roundLength
}

/** When round `round` starts (TaskManager._roundStart). */
export function roundStart(startTime: bigint, roundLength: bigint, round: bigint): bigint {
  assertUint256(startTime, 'startTime')
  assertRoundLength(roundLength)
  assertUint256(round, 'round')
  return checkedAdd(startTime, checkedMul(round, roundLength))
}

/** Absolute times of `cycle`'s phases. */
export function cyclePhases(params: RoundParams, startTime: bigint, cycle: bigint): CyclePhases {
  assertUint256(params.submissionWindow, 'submissionWindow')
  assertUint256(params.auditWindow, 'auditWindow')
  const submissionOpens = roundStart(startTime, params.roundLength, checkedAdd(cycle, 1n))
  const submissionCloses = checkedAdd(submissionOpens, params.submissionWindow)
  return {
    cycle,
    workOpens: roundStart(startTime, params.roundLength, cycle),
    submissionOpens,
    submissionCloses,
    auditOpens: submissionCloses,
    auditCloses: checkedAdd(submissionOpens, params.auditWindow),
    distributionOpens: roundStart(startTime, params.roundLength, checkedAdd(cycle, 2n)),
  }
}

/**
 * The distribution attempt whose posting window is open at `now` (TaskManager._currentAttempt).
 * Lazy: an unposted turn times out by the clock alone, attempt = stored + ⌊(now − turnStart) /
 * distributionWindow⌋, with turnStart = start(c + 2) until a post or challenge stores one.
 * Compare with maxDistributionAttempts: at or past it the cycle can only fail.
 */
export function distributionAttemptAt(
  params: RoundParams,
  startTime: bigint,
  cycle: bigint,
  now: bigint,
  stored: DistributionTurnState = FRESH_DISTRIBUTION,
): bigint {
  assertUint256(now, 'now')
  assertUint256(stored.attempt, 'attempt')
  if (stored.status !== DistributionStatus.Pending) return stored.attempt
  const start = turnStart(params, startTime, cycle, stored)
  if (now < start) return stored.attempt
  assertDistributionWindow(params.distributionWindow)
  return checkedAdd(stored.attempt, (now - start) / params.distributionWindow)
}

/** When the posting window of `attempt` opens, if every turn before it times out unposted. */
export function distributionAttemptOpens(
  params: RoundParams,
  startTime: bigint,
  cycle: bigint,
  attempt: bigint,
  stored: DistributionTurnState = FRESH_DISTRIBUTION,
): bigint {
  assertUint256(attempt, 'attempt')
  assertDistributionWindow(params.distributionWindow)
  const start = turnStart(params, startTime, cycle, stored)
  return checkedAdd(start, checkedMul(checkedSub(attempt, stored.attempt), params.distributionWindow))
}

/** Which cycle is in which phase at `now`; `distribution` describes the stored turns of cycle r − 2. */
export function phasesAt(
  params: RoundParams,
  startTime: bigint,
  now: bigint,
  distribution: DistributionTurnState = FRESH_DISTRIBUTION,
): RoundPhases {
  const round = roundAt(startTime, params.roundLength, now)
  let submission: RoundPhases['submission'] = null
  if (round >= 1n) {
    const phases = cyclePhases(params, startTime, round - 1n)
    submission = {
      cycle: round - 1n,
      phases,
      submissionOpen: now < phases.submissionCloses,
      seedAvailable: now >= phases.submissionCloses,
      auditOpen: now >= phases.auditOpens && now < phases.auditCloses,
    }
  }
  let distributing: RoundPhases['distribution'] = null
  if (round >= 2n) {
    const cycle = round - 2n
    distributing = {
      cycle,
      phases: cyclePhases(params, startTime, cycle),
      attempt: distributionAttemptAt(params, startTime, cycle, now, distribution),
    }
  }
  return {
    round,
    roundStart: roundStart(startTime, params.roundLength, round),
    work: { cycle: round },
    submission,
    distribution: distributing,
  }
}

function turnStart(params: RoundParams, startTime: bigint, cycle: bigint, stored: DistributionTurnState): bigint {
  assertUint256(stored.turnStart, 'turnStart')
  return stored.turnStart !== 0n ? stored.turnStart : roundStart(startTime, params.roundLength, checkedAdd(cycle, 2n))
}

function assertRoundLength(roundLength: bigint): void {
  assertUint256(roundLength, 'roundLength')
  if (roundLength === 0n) throw new ProtocolError('INVALID_ROUND_PARAMS', 'roundLength is zero')
}

function assertDistributionWindow(distributionWindow: bigint): void {
  assertUint256(distributionWindow, 'distributionWindow')
  if (distributionWindow === 0n) throw new ProtocolError('INVALID_ROUND_PARAMS', 'distributionWindow is zero')
}
