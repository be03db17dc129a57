import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { type Address, type Hex, concat, keccak256, numberToHex, pad } from 'viem'
import {
  AUDITORS_TAG,
  BPS,
  MAX_UINT256,
  SAMPLE_TAG,
  auditProbabilityBps,
  auditorIndices,
  isProtocolError,
  isSampled,
  sampleDraw,
} from '../src/index.ts'
import { address, bps, bytes32, runs, uintOfBits } from './arbitraries.ts'

const word = (value: bigint): Hex => numberToHex(value, { size: 32 })
const SEED = keccak256('0xc00f')
const NODE: Address = '0x1111111111111111111111111111111111111111'

test('auditProbabilityBps: 100% while paying dues, then hyperbolic decay to the floor', () => {
  assert.equal(auditProbabilityBps(0n, 5n, 500n, 20n), BPS)
  assert.equal(auditProbabilityBps(4n, 5n, 500n, 20n), BPS) // dues − 1
  assert.equal(auditProbabilityBps(5n, 5n, 500n, 20n), BPS) // decay / decay
  assert.equal(auditProbabilityBps(25n, 5n, 500n, 20n), 5_000n)
  assert.equal(auditProbabilityBps(395n, 5n, 500n, 20n), 500n) // 487 → floor
  assert.equal(auditProbabilityBps(10n, 5n, 700n, 0n), 700n) // decay 0 → floor
  assert.equal(auditProbabilityBps(10n, 5n, 0n, 0n), 0n)
  assert.equal(auditProbabilityBps(MAX_UINT256 - 1n, 0n, 0n, 1n), 0n) // decay + score = max
})

test('auditProbabilityBps rejects floors above 100% and overflows like Solidity', () => {
  assert.throws(() => auditProbabilityBps(0n, 0n, 10_001n, 1n), (e) => isProtocolError(e, 'INVALID_BPS'))
  assert.throws(() => auditProbabilityBps(MAX_UINT256, 0n, 0n, 1n), (e) => isProtocolError(e, 'UINT256_OVERFLOW'))
  assert.throws(() => auditProbabilityBps(1n, 0n, 0n, MAX_UINT256), (e) => isProtocolError(e, 'UINT256_OVERFLOW'))
})

test('property: probability is within [floor, 100%] and non-increasing in score', () => {
  fc.assert(
    fc.property(uintOfBits(64), uintOfBits(64), uintOfBits(16), bps, uintOfBits(16), (a, b, dues, floorBps, decay) => {
      const [low, high] = a <= b ? [a, b] : [b, a]
      const p = auditProbabilityBps(low, dues, floorBps, decay)
      assert.ok(p >= floorBps && p <= BPS)
      assert.ok(auditProbabilityBps(high, dues, floorBps, decay) <= p)
      if (low < dues) assert.equal(p, BPS)
    }),
    runs,
  )
})

test('sampleDraw hashes abi.encode(SAMPLE_TAG, seed, taskId, cycle, node) mod 10000', () => {
  const expected = BigInt(keccak256(concat([SAMPLE_TAG, SEED, word(7n), word(3n), pad(NODE)]))) % BPS
  assert.equal(sampleDraw(SEED, 7n, 3n, NODE), expected)
  // Address casing does not change the draw.
  assert.equal(sampleDraw(SEED, 7n, 3n, NODE.toUpperCase().replace('0X', '0x') as Address), expected)
})

test('isSampled: never at 0 bps, always at 10000, rejects more than 100% and bad inputs', () => {
  assert.equal(isSampled(SEED, 1n, 1n, NODE, 0n), false)
  assert.equal(isSampled(SEED, 1n, 1n, NODE, BPS), true)
  assert.throws(() => isSampled(SEED, 1n, 1n, NODE, BPS + 1n), (e) => isProtocolError(e, 'INVALID_BPS'))
  assert.throws(() => isSampled('0x1234', 1n, 1n, NODE, 1n), (e) => isProtocolError(e, 'INVALID_BYTES32'))
  assert.throws(() => isSampled(SEED, 1n, 1n, '0x1234' as Address, 1n), (e) => isProtocolError(e, 'INVALID_ADDRESS'))
})

test('property: sampling is monotone in probability (sampled at p implies sampled at any p′ ≥ p)', () => {
  fc.assert(
    fc.property(bytes32, uintOfBits(64), uintOfBits(64), address, bps, bps, (seed, taskId, cycle, node, a, b) => {
      const [low, high] = a <= b ? [a, b] : [b, a]
      const draw = sampleDraw(seed, taskId, cycle, node)
      assert.ok(draw >= 0n && draw < BPS)
      assert.equal(isSampled(seed, taskId, cycle, node, low), draw < low)
      if (isSampled(seed, taskId, cycle, node, low)) assert.equal(isSampled(seed, taskId, cycle, node, high), true)
    }),
    runs,
  )
})

test('sampling rate over many nodes is close to the probability', () => {
  let sampled = 0
  const nodes = 4_000
  for (let i = 0; i < nodes; i++) {
    const node = numberToHex(BigInt(i + 1), { size: 20 })
    if (isSampled(SEED, 1n, 9n, node, 2_500n)) sampled++
  }
  assert.ok(Math.abs(sampled / nodes - 0.25) < 0.03, `rate ${sampled / nodes}`)
})

test('auditorIndices: seeded offset, consecutive, skipping the submitter', () => {
  const offset = BigInt(keccak256(concat([AUDITORS_TAG, SEED, word(5n), word(2n), word(3n)]))) % 9n
  const expected = [0n, 1n, 2n].map((j) => (3n + 1n + ((offset + j) % 9n)) % 10n)
  assert.deepEqual(auditorIndices(SEED, 5n, 2n, 3n, 3n, 10n), expected)
  assert.deepEqual(auditorIndices(SEED, 5n, 2n, 0n, 3n, 1n), []) // alone
  assert.deepEqual(auditorIndices(SEED, 5n, 2n, 1n, 0n, 4n), []) // count 0
  assert.deepEqual(auditorIndices(SEED, 5n, 2n, 1n, 7n, 2n), [0n]) // capped at the one other
})

test('auditorIndices rejects a submitter index outside the list', () => {
  assert.throws(() => auditorIndices(SEED, 1n, 1n, 4n, 2n, 4n), (e) => isProtocolError(e, 'INDEX_OUT_OF_RANGE'))
  assert.throws(() => auditorIndices(SEED, 1n, 1n, 0n, 2n, 0n), (e) => isProtocolError(e, 'INDEX_OUT_OF_RANGE'))
})

test('property: auditors are distinct, in range, never the submitter, min(count, n − 1) of them', () => {
  const input = fc
    .bigInt({ min: 1n, max: 300n })
    .chain((submitters) =>
      fc.tuple(fc.constant(submitters), fc.bigInt({ min: 0n, max: submitters - 1n }), fc.bigInt({ min: 0n, max: 400n })),
    )
  fc.assert(
    fc.property(bytes32, uintOfBits(64), uintOfBits(64), input, (seed, taskId, cycle, [submitters, index, count]) => {
      const indices = auditorIndices(seed, taskId, cycle, index, count, submitters)
      const others = submitters - 1n
      assert.equal(BigInt(indices.length), count < others ? count : others)
      assert.equal(new Set(indices).size, indices.length)
      for (const auditor of indices) {
        assert.ok(auditor >= 0n && auditor < submitters)
        assert.notEqual(auditor, index)
      }
    }),
    runs,
  )
})
