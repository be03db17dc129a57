import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { type Address, getAddress } from 'viem'
import { isScaleError, rankReplicas, replicaHolders } from '../src/index.ts'
import { address } from './arbitraries.ts'

const nodes = (n: number): Address[] => Array.from({ length: n }, (_, i) => getAddress(`0x${(i + 1).toString(16).padStart(40, '0')}`))

test('property: the ranking is a permutation of the other candidates, independent of input order and case', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 1n << 64n }), fc.bigInt({ min: 0n, max: 1n << 32n }), fc.uniqueArray(address, { minLength: 1, maxLength: 12 }), fc.nat(), (task, cycle, candidates, pick) => {
      const owner = candidates[pick % candidates.length] as Address
      const ranked = rankReplicas(task, cycle, owner, candidates)
      assert.deepEqual([...ranked].sort(), candidates.filter((c) => c !== owner).sort())
      const shuffled = [...candidates].reverse().map((c) => c.toLowerCase() as Address)
      assert.deepEqual(rankReplicas(task, cycle, owner.toLowerCase() as Address, [...shuffled, ...shuffled]), ranked)
    }),
    { numRuns: 200 },
  )
})

test('property: removing a candidate only removes it from the ranking (rendezvous stability)', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: 0n, max: 1000n }), fc.uniqueArray(address, { minLength: 3, maxLength: 10 }), fc.nat(), (task, cycle, candidates, pick) => {
      const owner = candidates[0] as Address
      const ranked = rankReplicas(task, cycle, owner, candidates)
      const gone = ranked[pick % ranked.length] as Address
      assert.deepEqual(rankReplicas(task, cycle, owner, candidates.filter((c) => c !== gone)), ranked.filter((c) => c !== gone))
    }),
    { numRuns: 200 },
  )
})

test('holders spread over the candidates: every node holds a fair share of 2,000 rounds (k = 3 of 8)', () => {
  const candidates = nodes(8)
  const held = new Map<Address, number>()
  for (let cycle = 0n; cycle < 250n; cycle++) {
    for (const owner of candidates) for (const holder of replicaHolders(1n, cycle, owner, candidates, 3)) held.set(holder, (held.get(holder) ?? 0) + 1)
  }
  // 2,000 rounds × 2 replicas over 8 nodes = 500 each on average.
  for (const node of candidates) assert.ok(Math.abs((held.get(node) ?? 0) - 500) < 90, `${node} holds ${held.get(node)}`)
})

test('replicaHolders: k − 1 holders, fewer when there are not enough candidates; typed errors', () => {
  const candidates = nodes(4)
  assert.equal(replicaHolders(1n, 2n, candidates[0] as Address, candidates, 3).length, 2)
  assert.equal(replicaHolders(1n, 2n, candidates[0] as Address, candidates, 1).length, 0)
  assert.equal(replicaHolders(1n, 2n, candidates[0] as Address, candidates.slice(0, 2), 5).length, 1)
  for (const k of [0, 17, 1.5]) assert.throws(() => replicaHolders(1n, 2n, candidates[0] as Address, candidates, k), (e: unknown) => isScaleError(e, 'MALFORMED'))
  assert.throws(() => rankReplicas(1n, 2n, '0x12' as Address, candidates), (e: unknown) => isScaleError(e, 'MALFORMED'))
  assert.throws(() => rankReplicas(-1n, 2n, candidates[0] as Address, candidates), (e: unknown) => isScaleError(e, 'MALFORMED'))
  assert.throws(() => rankReplicas(1n, 2n, candidates[0] as Address, ['nope' as Address]), (e: unknown) => isScaleError(e, 'MALFORMED'))
})
