// Task parameters with devnet-friendly defaults (1 h rounds; all windows satisfy the contract's
// constraints: submissionWindow < auditWindow, auditWindow + voteWindow <= roundLength).
import { parseUnits, type Address } from 'viem'

import type { TaskParams } from './types.ts'

export const defaultTaskParams = {
  programCid: '0x0000000000000000000000000000000000000000000000000000000000000000',
  minStake: parseUnits('100', 18),
  bountyPerRound: parseUnits('1000', 18),
  roundLength: 3_600n,
  submissionWindow: 600n,
  auditWindow: 1_200n,
  voteWindow: 1_200n,
  distributionWindow: 600n,
  distributionAuditWindow: 600n,
  slashBps: 2_000,
  falseAccusationBps: 500,
  winnerBps: 3_000,
  votersBps: 2_000,
  duesRounds: 2,
  auditFloorBps: 500,
  auditDecay: 8,
  auditorsPerSample: 2,
  maxDistributionAttempts: 3,
  unbondingRounds: 3,
} as const satisfies Omit<TaskParams, 'stakeToken' | 'rewardToken'>

/** Full TaskParams from the two tokens plus any overrides of {@link defaultTaskParams}. */
export function taskParams(
  parameters: { stakeToken: Address; rewardToken: Address } & Partial<Omit<TaskParams, 'stakeToken' | 'rewardToken'>>,
): TaskParams {
  return { ...defaultTaskParams, ...parameters }
}
