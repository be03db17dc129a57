import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { type Hex, concat, keccak256, numberToHex } from 'viem'
import {
  DISTRIBUTOR_TAG,
  MAX_UINT256,
  covers,
  cumulativeWeights,
  drawPoint,
  isProtocolError,
  selectDistributor,
  weightInterval,
} from '../src/index.ts'
import { bytes32, runs, uintOfBits } from './arbitraries.ts'

const word = (value: bigint): Hex => numberToHex(value, { size: 32 })
const SEED = keccak256('0xd157')

test('drawPoint hashes abi.encode(DISTRIBUTOR_TAG, seed, taskId, cycle, attempt) mod total', () => {
  const expected = BigInt(keccak256(concat([DISTRIBUTOR_TAG, SEED, word(4n), word(8n), word(2n)]))) % 1_000n
  assert.equal(drawPoint(SEED, 4n, 8n, 2n, 1_000n), expected)
  assert.throws(() => drawPoint(SEED, 4n, 8n, 2n, 0n), (e) => isProtocolError(e, 'ZERO_TOTAL_WEIGHT'))
})

test('covers is the half-open interval [lower, upper)', () => {
  assert.equal(covers(5n, 5n, 6n), true)
  assert.equal(covers(6n, 5n, 6n), false)
  assert.equal(covers(4n, 5n, 6n), false)
  assert.equal(covers(5n, 5n, 5n), false) // a zero weight covers nothing
})

test('cumulativeWeights and weightInterval', () => {
  assert.deepEqual(cumulativeWeights([]), [])
  assert.deepEqual(cumulativeWeights([3n, 0n, 4n]), [3n, 3n, 7n])
  assert.deepEqual(weightInterval([3n, 3n, 7n], 0n), { lower: 0n, upper: 3n })
  assert.deepEqual(weightInterval([3n, 3n, 7n], 2n), { lower: 3n, upper: 7n })
  assert.throws(() => weightInterval([3n], 1n), (e) => isProtocolError(e, 'INDEX_OUT_OF_RANGE'))
  assert.throws(() => cumulativeWeights([MAX_UINT256, 1n]), (e) => isProtocolError(e, 'UINT256_OVERFLOW'))
})

test('selectDistributor rejects empty, decreasing and all-zero cumulative weights', () => {
  assert.throws(() => selectDistributor(SEED, 1n, 1n, 0n, []), (e) => isProtocolError(e, 'EMPTY_CUMULATIVE_WEIGHTS'))
  assert.throws(
    () => selectDistributor(SEED, 1n, 1n, 0n, [5n, 4n]),
    (e) => isProtocolError(e, 'NON_MONOTONE_CUMULATIVE_WEIGHTS'),
  )
  assert.throws(() => selectDistributor(SEED, 1n, 1n, 0n, [0n, 0n]), (e) => isProtocolError(e, 'ZERO_TOTAL_WEIGHT'))
  assert.equal(selectDistributor(SEED, 1n, 1n, 0n, [9n]), 0n)
})

test('property: the selected index is valid, has weight, covers the point, and is the first cumulative above it', () => {
  const weights = fc.array(uintOfBits(100), { minLength: 1, maxLength: 40 }).filter((w) => w.some((x) => x > 0n))
  fc.assert(
    fc.property(bytes32, uintOfBits(64), uintOfBits(64), uintOfBits(8), weights, (seed, taskId, cycle, attempt, w) => {
      const cumulative = cumulativeWeights(w)
      const total = cumulative[cumulative.length - 1] as bigint
      const point = drawPoint(seed, taskId, cycle, attempt, total)
      const index = selectDistributor(seed, taskId, cycle, attempt, cumulative)
      assert.ok(index >= 0n && index < BigInt(w.length))
      assert.ok((w[Number(index)] as bigint) > 0n)
      const { lower, upper } = weightInterval(cumulative, index)
      assert.ok(covers(point, lower, upper))
      assert.equal(index, BigInt(cumulative.findIndex((c) => c > point)))
    }),
    runs,
  )
})

test('selection frequency follows weight', () => {
  const cumulative = cumulativeWeights([1n, 3n])
  let heavy = 0
  const attempts = 4_000
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (selectDistributor(SEED, 1n, 1n, BigInt(attempt), cumulative) === 1n) heavy++
  }
  assert.ok(Math.abs(heavy / attempts - 0.75) < 0.03, `rate ${heavy / attempts}`)
})
