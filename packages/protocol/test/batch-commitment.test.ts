// The batch commitment (submitBatch's entries root, weight intervals and packed weights):
// vectors/batch-commitment.json replayed through the TS rule (forge replays the same file against
// the contract in contracts/test/ProtocolVectors.t.sol), properties of the tree, typed errors.

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import fc from 'fast-check'
import { keccak256, numberToHex, stringToHex, type Address, type Hex } from 'viem'
import { privateKeyToAddress } from 'viem/accounts'
import {
  MAX_UINT128,
  MAX_UINT32,
  batchEntriesRoot,
  batchEntryLeaf,
  batchEntryProof,
  commitBatch,
  decodeBatchWeights,
  encodeBatchWeights,
  isProtocolError,
  layoutBatchEntries,
  merkleRootFromProof,
  verifyBatchEntryProof,
  type BatchedEntry,
} from '../src/index.ts'

/** Parsed vector JSON: its shape is what these tests check. */
type Json = any

const file: Json = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'vectors', 'batch-commitment.json'), 'utf8'))
const uint = (value: unknown): bigint => {
  assert.match(value as string, /^(0|[1-9]\d*)$/)
  return BigInt(value as string)
}

test('batch-commitment.json: every batch recommits to its root, leaves, proofs, weight line and packed weights', () => {
  assert.deepEqual(Object.keys(file), ['count', 'batches', 'onchainCount', 'onchain'])
  assert.equal(file.count, file.batches.length)
  assert.ok(file.count >= 10)
  for (const b of file.batches) {
    assert.deepEqual(Object.keys(b), ['firstPosition', 'weightStart', 'weightEnd', 'entriesRoot', 'weights', 'entryCount', 'entries'])
    assert.equal(b.entryCount, b.entries.length)
    const commitment = commitBatch({
      entries: b.entries.map((e: Json) => ({ node: e.node, root: e.root, weight: uint(e.weight), score: uint(e.score) })),
      firstPosition: uint(b.firstPosition),
      weightStart: uint(b.weightStart),
    })
    assert.equal(commitment.entriesRoot, b.entriesRoot)
    assert.equal(commitment.weights, b.weights)
    assert.equal(commitment.weightEnd, uint(b.weightEnd))
    assert.deepEqual(decodeBatchWeights(b.weights, b.entryCount), b.entries.map((e: Json) => ({ weight: uint(e.weight), score: uint(e.score) })))
    for (const [i, e] of b.entries.entries()) {
      const entry: BatchedEntry = {
        node: e.node,
        root: e.root,
        position: uint(e.position),
        weightStart: uint(e.weightStart),
        weightEnd: uint(e.weightEnd),
        score: uint(e.score),
      }
      assert.deepEqual(commitment.entries[i], entry)
      assert.equal(batchEntryLeaf(entry), e.leaf)
      assert.equal(e.proofCount, e.proof.length)
      assert.deepEqual(batchEntryProof(commitment.leaves, i), e.proof)
      assert.ok(verifyBatchEntryProof({ entriesRoot: b.entriesRoot, entry, proof: e.proof }))
      // A different interval is a different leaf: the proof no longer holds.
      assert.ok(!verifyBatchEntryProof({ entriesRoot: b.entriesRoot, entry: { ...entry, weightEnd: entry.weightEnd + 1n }, proof: e.proof }))
    }
  }
  // The packing bounds are exercised.
  assert.ok(file.batches.some((b: Json) => b.entries.some((e: Json) => uint(e.score) === MAX_UINT32)))
  assert.ok(file.batches.some((b: Json) => uint(b.weightEnd) === MAX_UINT128))
})

test('batch-commitment.json: on-chain cases chain their batches and name the keys that sign them', () => {
  assert.equal(file.onchainCount, file.onchain.length)
  for (const c of file.onchain) {
    assert.deepEqual(Object.keys(c), ['nodeCount', 'keys', 'nodes', 'stakes', 'roots', 'batchCount', 'batches'])
    assert.equal(c.keys.length, c.nodeCount)
    c.keys.forEach((key: string, i: number) => assert.equal(privateKeyToAddress(numberToHex(uint(key), { size: 32 })), c.nodes[i]))
    assert.equal(c.batchCount, c.batches.length)
    let firstPosition = 0n
    let weightStart = 0n
    let next = 0
    for (const b of c.batches) {
      assert.equal(b.firstEntry, next)
      assert.equal(uint(b.firstPosition), firstPosition)
      assert.equal(uint(b.weightStart), weightStart)
      const indices = Array.from({ length: b.entryCount }, (_, i) => b.firstEntry + i)
      const commitment = commitBatch({
        entries: indices.map((j) => ({ node: c.nodes[j], root: c.roots[j], weight: uint(c.stakes[j]), score: 0n })),
        firstPosition,
        weightStart,
      })
      assert.equal(commitment.entriesRoot, b.entriesRoot)
      assert.equal(commitment.weights, b.weights)
      assert.equal(commitment.weightEnd, uint(b.weightEnd))
      assert.deepEqual(b.proofCounts, b.proofs.map((p: Hex[]) => p.length))
      commitment.entries.forEach((entry, i) => assert.ok(verifyBatchEntryProof({ entriesRoot: b.entriesRoot, entry, proof: b.proofs[i] })))
      firstPosition += BigInt(b.entryCount)
      weightStart = commitment.weightEnd
      next += b.entryCount
    }
    assert.equal(next, c.nodeCount)
  }
})

const leavesArb = fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 70 }).map((list) =>
  list.map((bytes) => keccak256(bytes)),
)

test('every proof folds to the root (OZ MerkleProof.processProof), and the tree equals a recursive reference', () => {
  // Reference written separately from batchEntriesRoot: pairs (2i, 2i+1) per level hashed with OZ's
  // sorted-pair hash (a one-sibling merkleRootFromProof), an odd last node carried up unchanged.
  const reference = (leaves: Hex[]): Hex => {
    if (leaves.length === 1) return leaves[0]!
    const next: Hex[] = []
    for (let i = 0; i < leaves.length; i += 2) {
      const [a, b] = [leaves[i]!, leaves[i + 1]]
      next.push(b === undefined ? a : merkleRootFromProof(a, [b]))
    }
    return reference(next)
  }
  fc.assert(
    fc.property(leavesArb, (leaves) => {
      const root = batchEntriesRoot(leaves)
      assert.equal(root, reference(leaves))
      for (let i = 0; i < leaves.length; i++) assert.equal(merkleRootFromProof(leaves[i]!, batchEntryProof(leaves, i)), root)
    }),
    { seed: 7, numRuns: 80 },
  )
})

test('weights pack and unpack losslessly; layout gives adjacent intervals from the start', () => {
  const entryArb = fc.record({
    node: fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => numberToHex(BigInt(`0x${Buffer.from(b).toString('hex')}`), { size: 20 }) as Address),
    root: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => keccak256(b)),
    weight: fc.bigInt({ min: 0n, max: 2n ** 100n }),
    score: fc.bigInt({ min: 0n, max: MAX_UINT32 }),
  })
  fc.assert(
    fc.property(fc.array(entryArb, { minLength: 1, maxLength: 30 }), fc.bigInt({ min: 0n, max: 2n ** 120n }), fc.nat(1_000_000), (entries, weightStart, first) => {
      const laid = layoutBatchEntries({ entries, firstPosition: BigInt(first), weightStart })
      let at = weightStart
      laid.forEach((entry, i) => {
        assert.equal(entry.position, BigInt(first + i))
        assert.equal(entry.weightStart, at)
        assert.equal(entry.weightEnd - entry.weightStart, entries[i]!.weight)
        at = entry.weightEnd
      })
      assert.deepEqual(decodeBatchWeights(encodeBatchWeights(entries), entries.length), entries.map(({ weight, score }) => ({ weight, score })))
    }),
    { seed: 11, numRuns: 100 },
  )
})

test('what the contract would refuse throws a typed ProtocolError', () => {
  const entry = { node: '0x0000000000000000000000000000000000000001' as Address, root: keccak256(stringToHex('r')), weight: 1n, score: 0n }
  const code = (fn: () => unknown, expected: string) =>
    assert.throws(fn, (error: unknown) => isProtocolError(error) && error.code === expected && typeof error.shortMessage === 'string')
  code(() => batchEntriesRoot([]), 'EMPTY_BATCH')
  code(() => commitBatch({ entries: [], firstPosition: 0n, weightStart: 0n }), 'EMPTY_BATCH')
  code(() => batchEntryProof([keccak256('0x01')], 1), 'INDEX_OUT_OF_RANGE')
  code(() => batchEntryProof([keccak256('0x01')], -1), 'INDEX_OUT_OF_RANGE')
  code(() => batchEntriesRoot(['0x1234']), 'INVALID_BYTES32')
  code(() => commitBatch({ entries: [{ ...entry, weight: 2n }], firstPosition: 0n, weightStart: MAX_UINT128 - 1n }), 'WEIGHT_OVERFLOW')
  code(() => commitBatch({ entries: [{ ...entry, score: MAX_UINT32 + 1n }], firstPosition: 0n, weightStart: 0n }), 'MALFORMED')
  code(() => commitBatch({ entries: [entry, entry], firstPosition: MAX_UINT32, weightStart: 0n }), 'MALFORMED')
  code(() => commitBatch({ entries: [{ ...entry, node: '0xnot' as Address }], firstPosition: 0n, weightStart: 0n }), 'INVALID_ADDRESS')
  code(() => commitBatch({ entries: [{ ...entry, weight: -1n }], firstPosition: 0n, weightStart: 0n }), 'INVALID_UINT256')
  code(() => decodeBatchWeights('0x00', 1), 'MALFORMED')
  code(() => encodeBatchWeights([{ weight: MAX_UINT128 + 1n, score: 0n }]), 'MALFORMED')
  // At the bounds it still commits.
  assert.equal(commitBatch({ entries: [{ ...entry, weight: 1n, score: MAX_UINT32 }], firstPosition: MAX_UINT32, weightStart: MAX_UINT128 - 1n }).weightEnd, MAX_UINT128)
})
