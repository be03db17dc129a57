import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { MAX_UINT256, isProtocolError, slashAmount, splitSlash, voterShare } from '../src/index.ts'
import { bps, runs, uintOfBits } from './arbitraries.ts'

test('splitSlash: winner and voters by bps, dust and absent voters to the pool', () => {
  assert.deepEqual(splitSlash(1_000n, 5_000n, 3_000n, true), { toWinner: 500n, toVoters: 300n, toPool: 200n })
  assert.deepEqual(splitSlash(1_000n, 5_000n, 3_000n, false), { toWinner: 500n, toVoters: 0n, toPool: 500n })
  assert.deepEqual(splitSlash(1n, 5_000n, 3_000n, true), { toWinner: 0n, toVoters: 0n, toPool: 1n })
  assert.deepEqual(splitSlash(0n, 10_000n, 0n, true), { toWinner: 0n, toVoters: 0n, toPool: 0n })
})

test('splitSlash rejects bps above 100% and overflows like Solidity', () => {
  assert.throws(() => splitSlash(1n, 10_001n, 0n, true), (e) => isProtocolError(e, 'INVALID_BPS'))
  assert.throws(() => splitSlash(1n, 6_000n, 5_000n, false), (e) => isProtocolError(e, 'INVALID_BPS'))
  assert.throws(() => splitSlash(MAX_UINT256, 2n, 0n, true), (e) => isProtocolError(e, 'UINT256_OVERFLOW'))
})

test('property: the three parts sum to the slash', () => {
  const shares = bps.chain((winnerBps) => fc.tuple(fc.constant(winnerBps), fc.bigInt({ min: 0n, max: 10_000n - winnerBps })))
  fc.assert(
    fc.property(uintOfBits(200), shares, fc.boolean(), (slashed, [winnerBps, votersBps], hasVoters) => {
      const { toWinner, toVoters, toPool } = splitSlash(slashed, winnerBps, votersBps, hasVoters)
      assert.equal(toWinner + toVoters + toPool, slashed)
      assert.ok(toPool >= 0n)
      if (!hasVoters) assert.equal(toVoters, 0n)
    }),
    runs,
  )
})

test('voterShare: pro rata, 0 when nobody else won, rejects a voter heavier than the winners', () => {
  assert.equal(voterShare(100n, 1n, 3n), 33n)
  assert.equal(voterShare(100n, 10n, 10n), 100n)
  assert.equal(voterShare(100n, 5n, 0n), 0n)
  assert.throws(() => voterShare(100n, 11n, 10n), (e) => isProtocolError(e, 'INVALID_VOTER_WEIGHT'))
})

test('property: the winning voters together never take more than the pool', () => {
  fc.assert(
    fc.property(uintOfBits(128), fc.array(uintOfBits(100), { minLength: 1, maxLength: 20 }), (pool, weights) => {
      const total = weights.reduce((sum, w) => sum + w, 0n)
      const paid = weights.reduce((sum, w) => sum + voterShare(pool, w, total), 0n)
      assert.ok(paid <= pool)
      // Each voter loses less than one unit to rounding.
      if (total > 0n) assert.ok(pool - paid < BigInt(weights.length))
    }),
    runs,
  )
})

test('slashAmount: stake × bps / 10000, never more than the stake', () => {
  assert.equal(slashAmount(1n, 9_999n), 0n)
  assert.equal(slashAmount(1n, 10_000n), 1n)
  assert.equal(slashAmount(MAX_UINT256, 1n), MAX_UINT256 / 10_000n)
  assert.throws(() => slashAmount(1n, 10_001n), (e) => isProtocolError(e, 'INVALID_BPS'))
  assert.throws(() => slashAmount(MAX_UINT256, 2n), (e) => isProtocolError(e, 'UINT256_OVERFLOW'))
  fc.assert(
    fc.property(uintOfBits(240), bps, (stake, share) => {
      assert.ok(slashAmount(stake, share) <= stake)
    }),
    runs,
  )
})
