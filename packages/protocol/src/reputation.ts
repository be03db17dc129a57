import { REPUTATION_HALF_BONUS_SCORE, WAD } from './constants.ts'
import { checkedAdd, checkedDiv, checkedMul } from './uint256.ts'
import { assertUint256 } from './validate.ts'

// Twin of contracts/src/libraries/Reputation.sol. Vectors: vectors/reputation.json.

/**
 * Weight multiplier in WAD: 1 + score / (score + 16). A new (or convicted, score 0) node weighs
 * its stake; history can at most double it, so reputation breaks near-ties without letting old
 * nodes outvote capital.
 */
export function weightFactor(score: bigint): bigint {
  assertUint256(score, 'score')
  return checkedAdd(WAD, checkedDiv(checkedMul(WAD, score), checkedAdd(score, REPUTATION_HALF_BONUS_SCORE)))
}

/** Weight of a node in votes and distributor selection: stake × weightFactor(score), rounded down. */
export function reputationWeight(stake: bigint, score: bigint): bigint {
  assertUint256(stake, 'stake')
  return checkedMul(stake, weightFactor(score)) / WAD
}
