import assert from 'node:assert/strict'
import { test } from 'node:test'
import { StandardMerkleTree } from '@openzeppelin/merkle-tree'
import fc from 'fast-check'
import { type Address, type Hex, concat, getAddress, keccak256, numberToHex, pad } from 'viem'
import {
  DISTRIBUTION_LEAF_TYPES,
  type DistributionEntry,
  buildDistribution,
  distributionLeaf,
  equalSplit,
  isProtocolError,
  merkleRootFromProof,
  proofOf,
  verifyDistributionProof,
} from '../src/index.ts'
import { address, runs, uintOfBits } from './arbitraries.ts'

const word = (value: bigint): Hex => numberToHex(value, { size: 32 })
const A = getAddress('0x00000000000000000000000000000000000000aa')
const B = getAddress('0x00000000000000000000000000000000000000bb')
const C = getAddress('0x00000000000000000000000000000000000000cc')

const hashPair = (a: Hex, b: Hex): Hex => (BigInt(a) < BigInt(b) ? keccak256(concat([a, b])) : keccak256(concat([b, a])))

test('distributionLeaf is keccak256(keccak256(abi.encode(taskId, cycle, node, reward, bonus)))', () => {
  const inner = keccak256(concat([word(1n), word(2n), pad(A), word(30n), word(4n)]))
  assert.equal(distributionLeaf(1n, 2n, A, 30n, 4n), keccak256(inner))
  const tree = StandardMerkleTree.of([[1n, 2n, A, 30n, 4n]], [...DISTRIBUTION_LEAF_TYPES])
  assert.equal(distributionLeaf(1n, 2n, A, 30n, 4n), tree.leafHash([1n, 2n, A, 30n, 4n]))
  assert.equal(distributionLeaf(1n, 2n, A.toLowerCase() as Address, 30n, 4n), keccak256(inner))
})

test('one leaf: the root is the leaf and the proof is empty', () => {
  const d = buildDistribution({ taskId: 1n, cycle: 0n, entries: [{ node: A, reward: 5n, bonus: 0n }] })
  assert.equal(d.root, distributionLeaf(1n, 0n, A, 5n, 0n))
  assert.deepEqual(d.leaves[0]?.proof, [])
  assert.equal(verifyDistributionProof({ root: d.root, taskId: 1n, cycle: 0n, node: A, reward: 5n, bonus: 0n, proof: [] }), true)
})

test('two leaves: the root is their sorted-pair hash, each proof is the other leaf', () => {
  const d = buildDistribution({
    taskId: 9n,
    cycle: 3n,
    entries: [
      { node: A, reward: 10n, bonus: 1n },
      { node: B, reward: 20n, bonus: 2n },
    ],
  })
  const [la, lb] = [distributionLeaf(9n, 3n, A, 10n, 1n), distributionLeaf(9n, 3n, B, 20n, 2n)]
  assert.equal(d.root, hashPair(la, lb))
  assert.deepEqual(d.proofs[A], [lb])
  assert.deepEqual(proofOf(d, B.toLowerCase() as Address), [la])
  assert.equal(d.totalReward, 30n)
  assert.equal(d.totalBonus, 3n)
  assert.deepEqual(
    d.leaves.map((leaf) => leaf.node),
    [A, B],
  )
})

test('proofs fail for a changed amount, cycle, task or node', () => {
  const entries: DistributionEntry[] = [
    { node: A, reward: 10n, bonus: 1n },
    { node: B, reward: 20n, bonus: 2n },
    { node: C, reward: 30n, bonus: 3n },
  ]
  const d = buildDistribution({ taskId: 1n, cycle: 1n, entries })
  const claim = { root: d.root, taskId: 1n, cycle: 1n, node: C, reward: 30n, bonus: 3n, proof: d.proofs[C] ?? [] }
  assert.equal(verifyDistributionProof(claim), true)
  assert.equal(verifyDistributionProof({ ...claim, reward: 31n }), false)
  assert.equal(verifyDistributionProof({ ...claim, bonus: 0n }), false)
  assert.equal(verifyDistributionProof({ ...claim, cycle: 2n }), false)
  assert.equal(verifyDistributionProof({ ...claim, taskId: 2n }), false)
  assert.equal(verifyDistributionProof({ ...claim, node: A }), false)
})

test('buildDistribution rejects empty lists, repeated nodes and bad addresses', () => {
  assert.throws(() => buildDistribution({ taskId: 1n, cycle: 1n, entries: [] }), (e) => isProtocolError(e, 'EMPTY_DISTRIBUTION'))
  assert.throws(
    () =>
      buildDistribution({
        taskId: 1n,
        cycle: 1n,
        entries: [
          { node: A, reward: 1n, bonus: 0n },
          { node: A.toLowerCase() as Address, reward: 2n, bonus: 0n },
        ],
      }),
    (e) => isProtocolError(e, 'DUPLICATE_NODE'),
  )
  assert.throws(
    () => buildDistribution({ taskId: 1n, cycle: 1n, entries: [{ node: '0xabc' as Address, reward: 1n, bonus: 0n }] }),
    (e) => isProtocolError(e, 'INVALID_ADDRESS'),
  )
  assert.throws(
    () => buildDistribution({ taskId: 1n, cycle: 1n, entries: [{ node: A, reward: -1n, bonus: 0n }] }),
    (e) => isProtocolError(e, 'INVALID_UINT256'),
  )
  assert.throws(() => merkleRootFromProof(distributionLeaf(1n, 1n, A, 1n, 1n), ['0x12']), (e) => isProtocolError(e, 'INVALID_BYTES32'))
})

test('property: every proof verifies (here and with OZ), and the root ignores entry order', () => {
  const entries = fc
    .uniqueArray(address, { minLength: 1, maxLength: 24, selector: (node) => node.toLowerCase() })
    .chain((nodes) =>
      fc.tuple(...nodes.map((node) => fc.record({ node: fc.constant(node), reward: uintOfBits(128), bonus: uintOfBits(128) }))),
    )
  fc.assert(
    fc.property(uintOfBits(64), uintOfBits(64), entries, (taskId, cycle, list) => {
      const d = buildDistribution({ taskId, cycle, entries: list })
      for (const leaf of d.leaves) {
        assert.equal(merkleRootFromProof(leaf.leaf, leaf.proof), d.root)
        assert.equal(verifyDistributionProof({ root: d.root, taskId, cycle, ...leaf }), true)
        const values = [taskId, cycle, leaf.node, leaf.reward, leaf.bonus]
        assert.equal(StandardMerkleTree.verify(d.root, [...DISTRIBUTION_LEAF_TYPES], values, leaf.proof), true)
      }
      const reversed = buildDistribution({ taskId, cycle, entries: [...list].reverse() })
      assert.equal(reversed.root, d.root)
    }),
    { numRuns: 60 },
  )
})

test('equalSplit: equal shares by address order, remainder left to the task', () => {
  const entries = equalSplit(100n, 10n, [C, A.toLowerCase() as Address, B])
  assert.deepEqual(entries, [
    { node: A, reward: 33n, bonus: 3n },
    { node: B, reward: 33n, bonus: 3n },
    { node: C, reward: 33n, bonus: 3n },
  ])
  const d = buildDistribution({ taskId: 1n, cycle: 1n, entries })
  assert.equal(100n - d.totalReward, 1n) // returned to escrow at finalization
  assert.equal(10n - d.totalBonus, 1n) // returned to the slash pool
  assert.deepEqual(equalSplit(100n, 10n, []), [])
  assert.throws(() => equalSplit(1n, 1n, [A, A]), (e) => isProtocolError(e, 'DUPLICATE_NODE'))
})

test('property: equalSplit never hands out more than the budget and loses less than one unit per node', () => {
  fc.assert(
    fc.property(
      uintOfBits(200),
      uintOfBits(200),
      fc.uniqueArray(address, { minLength: 1, maxLength: 30, selector: (node) => node.toLowerCase() }),
      (budget, bonus, nodes) => {
        const entries = equalSplit(budget, bonus, nodes)
        const n = BigInt(nodes.length)
        const reward = entries.reduce((sum, e) => sum + e.reward, 0n)
        const bonusTotal = entries.reduce((sum, e) => sum + e.bonus, 0n)
        assert.ok(reward <= budget && budget - reward < n)
        assert.ok(bonusTotal <= bonus && bonus - bonusTotal < n)
        for (let i = 1; i < entries.length; i++) {
          assert.ok(BigInt((entries[i - 1] as DistributionEntry).node) < BigInt((entries[i] as DistributionEntry).node))
        }
      },
    ),
    runs,
  )
})
