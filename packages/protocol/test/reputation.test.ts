import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { MAX_UINT256, WAD, isProtocolError, reputationWeight, weightFactor } from '../src/index.ts'
import { runs, uintOfBits } from './arbitraries.ts'

test('weightFactor: 1.0 at score 0, 1.5 at the half-bonus score, below 2.0 forever', () => {
  assert.equal(weightFactor(0n), WAD)
  assert.equal(weightFactor(16n), (3n * WAD) / 2n)
  assert.equal(weightFactor(1n), WAD + WAD / 17n)
  assert.equal(weightFactor(MAX_UINT256 / WAD), 2n * WAD - 1n)
})

test('reputationWeight rounds down and ignores reputation at zero stake', () => {
  assert.equal(reputationWeight(0n, 1_000n), 0n)
  assert.equal(reputationWeight(3n, 16n), 4n) // 3 × 1.5 = 4.5
  assert.equal(reputationWeight(WAD, 0n), WAD)
  assert.equal(reputationWeight(32n * WAD, 16n), 48n * WAD)
})

test('throws where Solidity reverts: overflow and non-uint256 inputs', () => {
  assert.throws(() => weightFactor(MAX_UINT256 / WAD + 1n), (e) => isProtocolError(e, 'UINT256_OVERFLOW'))
  assert.throws(() => reputationWeight(MAX_UINT256, 1n), (e) => isProtocolError(e, 'UINT256_OVERFLOW'))
  assert.throws(() => weightFactor(-1n), (e) => isProtocolError(e, 'INVALID_UINT256'))
  assert.throws(() => reputationWeight(MAX_UINT256 + 1n, 0n), (e) => isProtocolError(e, 'INVALID_UINT256'))
})

test('property: factor in [1, 2) WAD and non-decreasing in score', () => {
  fc.assert(
    fc.property(uintOfBits(180), uintOfBits(180), (a, b) => {
      const [low, high] = a <= b ? [a, b] : [b, a]
      const f = weightFactor(low)
      assert.ok(f >= WAD && f < 2n * WAD)
      assert.ok(weightFactor(high) >= f)
    }),
    runs,
  )
})

test('property: stake <= weight <= 2 × stake, non-decreasing in stake and score', () => {
  fc.assert(
    fc.property(uintOfBits(128), uintOfBits(128), uintOfBits(40), (a, b, score) => {
      const [low, high] = a <= b ? [a, b] : [b, a]
      const weight = reputationWeight(low, score)
      assert.ok(weight >= low)
      assert.ok(weight <= 2n * low)
      assert.ok(reputationWeight(high, score) >= weight)
      assert.ok(reputationWeight(low, score + 1n) >= weight)
    }),
    runs,
  )
})
