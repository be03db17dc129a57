import { BPS } from './constants.ts'
import { ProtocolError } from './errors.ts'
import { checkedMul, checkedSub } from './uint256.ts'
import { assertBps, assertUint256 } from './validate.ts'

// Twin of contracts/src/libraries/SlashSplit.sol. Vectors: vectors/slash-split.json.
// The winner of a case (the auditor when upheld, the wrongly accused node when rejected) takes
// winnerBps of the slash, the other winning voters share votersBps pro rata to vote weight, and
// the rest returns to the task's pool. Rounding dust falls to the pool, so shares never exceed
// the slash.

export interface SlashSplit {
  toWinner: bigint
  toVoters: bigint
  toPool: bigint
}

/** Splits `slashed`; with no other winning voter (`hasVoters` false) the voters' part goes to the pool. */
export function splitSlash(slashed: bigint, winnerBps: bigint, votersBps: bigint, hasVoters: boolean): SlashSplit {
  assertUint256(slashed, 'slashed')
  assertBps(winnerBps, 'winnerBps')
  assertBps(votersBps, 'votersBps')
  // TaskManager rejects winnerBps + votersBps > 10000 at task creation; past it the pool would be negative.
  if (winnerBps + votersBps > BPS) {
    throw new ProtocolError('INVALID_BPS', 'winnerBps + votersBps exceeds 10000 bps', { details: { winnerBps, votersBps } })
  }
  const toWinner = checkedMul(slashed, winnerBps) / BPS
  const toVoters = hasVoters ? checkedMul(slashed, votersBps) / BPS : 0n
  const toPool = checkedSub(checkedSub(slashed, toWinner), toVoters)
  return { toWinner, toVoters, toPool }
}

/** One winning voter's share of the voters' pool, pro rata to its vote weight (0 if nobody else won). */
export function voterShare(votersPool: bigint, voterWeight: bigint, winningVotersWeight: bigint): bigint {
  assertUint256(votersPool, 'votersPool')
  assertUint256(voterWeight, 'voterWeight')
  assertUint256(winningVotersWeight, 'winningVotersWeight')
  if (winningVotersWeight === 0n) return 0n
  // A voter is part of the winning weight; more would pay out beyond the pool.
  if (voterWeight > winningVotersWeight) {
    throw new ProtocolError('INVALID_VOTER_WEIGHT', 'voter weight exceeds the winning voters weight', {
      details: { voterWeight, winningVotersWeight },
    })
  }
  return checkedMul(votersPool, voterWeight) / winningVotersWeight
}

/** Amount slashed from `stake` at `bps`, rounded down. */
export function slashAmount(stake: bigint, bps: bigint): bigint {
  assertUint256(stake, 'stake')
  assertBps(bps, 'bps')
  return checkedMul(stake, bps) / BPS
}
