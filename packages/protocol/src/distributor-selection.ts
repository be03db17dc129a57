import { type Hex, encodeAbiParameters, keccak256 } from 'viem'
import { DISTRIBUTOR_TAG } from './constants.ts'
import { ProtocolError } from './errors.ts'
import { checkedAdd } from './uint256.ts'
import { assertBytes32, assertUint256 } from './validate.ts'

// Twin of contracts/src/libraries/DistributorSelection.sol. Vectors: vectors/selection.json.
// Who computes a cycle's distribution list: one weighted draw per attempt over the cycle's
// submitters, weight = stake × reputation factor snapshotted at submission.

/** The point drawn for `attempt`, uniform in [0, totalWeight). */
export function drawPoint(seed: Hex, taskId: bigint, cycle: bigint, attempt: bigint, totalWeight: bigint): bigint {
  const encoded = encodeAbiParameters(
    [{ type: 'bytes32' }, { type: 'bytes32' }, { type: 'uint256' }, { type: 'uint256' }, { type: 'uint256' }],
    [
      DISTRIBUTOR_TAG,
      assertBytes32(seed, 'seed'),
      assertUint256(taskId, 'taskId'),
      assertUint256(cycle, 'cycle'),
      assertUint256(attempt, 'attempt'),
    ],
  )
  assertUint256(totalWeight, 'totalWeight')
  // Solidity panics on `% 0`; a cycle with submitters always has a positive total.
  if (totalWeight === 0n) throw new ProtocolError('ZERO_TOTAL_WEIGHT', 'total weight is zero')
  return BigInt(keccak256(encoded)) % totalWeight
}

/** Whether the weight interval [lowerCumulative, upperCumulative) contains `point` (the on-chain check). */
export function covers(point: bigint, lowerCumulative: bigint, upperCumulative: bigint): boolean {
  return lowerCumulative <= point && point < upperCumulative
}

/** Running sums of per-submitter weights, in submission order, as TaskManager stores them. */
export function cumulativeWeights(weights: readonly bigint[]): bigint[] {
  const cumulative: bigint[] = []
  let total = 0n
  for (const [index, weight] of weights.entries()) {
    assertUint256(weight, `weights[${index}]`)
    total = checkedAdd(total, weight)
    cumulative.push(total)
  }
  return cumulative
}

/** The weight interval [lower, upper) of the submitter at `index`: what `covers` is checked against. */
export function weightInterval(cumulative: readonly bigint[], index: bigint): { lower: bigint; upper: bigint } {
  assertCumulativeWeights(cumulative)
  assertUint256(index, 'index')
  if (index >= BigInt(cumulative.length)) {
    throw new ProtocolError('INDEX_OUT_OF_RANGE', 'index is outside the cumulative weights', {
      details: { index, length: cumulative.length },
    })
  }
  const at = Number(index)
  return { lower: at === 0 ? 0n : (cumulative[at - 1] as bigint), upper: cumulative[at] as bigint }
}

/**
 * Index of the submitter selected for `attempt`: the first whose cumulative weight exceeds the
 * drawn point (the same binary search as Solidity, so ties between equal sums resolve alike).
 */
export function selectDistributor(
  seed: Hex,
  taskId: bigint,
  cycle: bigint,
  attempt: bigint,
  cumulative: readonly bigint[],
): bigint {
  assertCumulativeWeights(cumulative)
  const total = cumulative[cumulative.length - 1] as bigint
  const point = drawPoint(seed, taskId, cycle, attempt, total)
  let lo = 0
  let hi = cumulative.length - 1
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2)
    if ((cumulative[mid] as bigint) > point) hi = mid
    else lo = mid + 1
  }
  return BigInt(lo)
}

/**
 * Cumulative weights must be non-empty and never decrease. Equal neighbours (a zero weight) are
 * allowed: the search skips them, as on-chain. Solidity does not check monotonicity because it
 * builds the array itself; off-chain input could be anything.
 */
function assertCumulativeWeights(cumulative: readonly bigint[]): void {
  if (cumulative.length === 0) {
    throw new ProtocolError('EMPTY_CUMULATIVE_WEIGHTS', 'cumulative weights are empty')
  }
  let previous = 0n
  for (const [index, value] of cumulative.entries()) {
    assertUint256(value, `cumulativeWeights[${index}]`)
    if (value < previous) {
      throw new ProtocolError('NON_MONOTONE_CUMULATIVE_WEIGHTS', 'cumulative weights decrease', {
        details: { index, previous, value },
      })
    }
    previous = value
  }
}
