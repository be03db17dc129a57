// The devnet's task timing (docs/node-architecture.md "Devnet round timing"): real time, 12 s rounds.
import { parseUnits } from 'viem'

export const devnetTiming = {
  roundLength: 12n,
  submissionWindow: 3n,
  auditWindow: 6n,
  voteWindow: 5n,
  distributionWindow: 3n,
  distributionAuditWindow: 3n,
  // A convicted node keeps its weight in the distributor draw (its turns can only time out), and a
  // restarting node misses its turns: 6 attempts make a failed cycle a (1/5)^6 event, not ~1%.
  maxDistributionAttempts: 6,
  duesRounds: 3,
  auditDecay: 2,
  auditFloorBps: 2_000,
  auditorsPerSample: 2,
  slashBps: 2_000,
  unbondingRounds: 3,
} as const

export const devnetAmounts = {
  minStake: parseUnits('100', 18),
  bountyPerRound: parseUnits('1000', 18),
  /** What each node stakes per task. */
  stake: parseUnits('1000', 18),
  /** COOP each node account receives (stake for every task, plus room for more). */
  nodeFunds: parseUnits('10000', 18),
} as const
