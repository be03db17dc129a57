// Fisherman leaf sampling (positions from the cycle seed) and leaf answers (the submitter's signed
// reply, checked against the on-chain root).
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import fc from 'fast-check'
import { type Address, type Hex, encodeAbiParameters, getAddress, keccak256, numberToHex } from 'viem'
import { LEAF_SAMPLING_VECTOR_FILE, buildLeafSamplingVectors } from '../scripts/leaf-sampling-vectors.ts'
import {
  LEAF_SAMPLE_TAG,
  MAX_DAG_LEAVES,
  ProtocolError,
  buildRoundDag,
  checkLeafAnswer,
  leafAnswerFromDag,
  parseLeafAnswer,
  parseLeafRequest,
  sampleLeafPositions,
  type LeafRequest,
} from '../src/index.ts'
import { address, bytes32 } from './arbitraries.ts'

const VECTORS = join(import.meta.dirname, '..', 'vectors', LEAF_SAMPLING_VECTOR_FILE)

/**
 * Independent reference: a full Fisher–Yates over a materialised array, hashing with viem's
 * abi encoder (the implementation builds the 128 bytes by hand and swaps sparsely).
 */
function reference(seed: Hex, node: Address, n: number, samples: number): number[] {
  if (samples >= n) return [...Array(n).keys()]
  const array = [...Array(n).keys()]
  let counter = 0n
  const draw = () =>
    BigInt(keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'bytes32' }, { type: 'address' }, { type: 'uint256' }], [LEAF_SAMPLE_TAG, seed, node, counter++])))
  for (let i = 0; i < samples; i++) {
    const range = BigInt(n - i)
    const limit = (1n << 256n) - ((1n << 256n) % range)
    let value = draw()
    while (value >= limit) value = draw()
    const j = i + Number(value % range)
    ;[array[i], array[j]] = [array[j] as number, array[i] as number]
  }
  return array.slice(0, samples).sort((a, b) => a - b)
}

test('vectors: the committed file replays and regenerates byte for byte', () => {
  const text = readFileSync(VECTORS, 'utf8')
  assert.equal(buildLeafSamplingVectors(), text, 'run npx tsx packages/protocol/scripts/leaf-sampling-vectors.ts')
  const file = JSON.parse(text) as { tagHash: Hex; count: number; cases: Array<{ seed: Hex; node: Address; leafCount: number; samples: number; positions: number[] }> }
  assert.equal(file.tagHash, LEAF_SAMPLE_TAG)
  assert.equal(file.cases.length, file.count)
  for (const c of file.cases) {
    assert.deepEqual(sampleLeafPositions(c.seed, c.node, c.leafCount, c.samples), c.positions)
    if (c.leafCount <= 100_000) assert.deepEqual(reference(c.seed, c.node, c.leafCount, c.samples), c.positions)
  }
})

test('positions: distinct, ascending, in range, min(samples, leafCount) of them, equal to the reference', () => {
  fc.assert(
    fc.property(bytes32, address, fc.integer({ min: 1, max: 400 }), fc.integer({ min: 0, max: 64 }), (seed, node, n, samples) => {
      const positions = sampleLeafPositions(seed, node, n, samples)
      assert.equal(positions.length, Math.min(samples, n))
      for (let i = 0; i < positions.length; i++) {
        assert.ok(Number.isInteger(positions[i]) && (positions[i] as number) >= 0 && (positions[i] as number) < n)
        if (i > 0) assert.ok((positions[i - 1] as number) < (positions[i] as number))
      }
      assert.deepEqual(sampleLeafPositions(seed, node, n, samples), positions, 'deterministic')
      assert.deepEqual(positions, reference(seed, node, n, samples))
    }),
    { numRuns: 150 },
  )
})

test('positions depend on the seed and the node, not the address spelling', () => {
  fc.assert(
    fc.property(bytes32, bytes32, address, address, (seedA, seedB, nodeA, nodeB) => {
      const a = sampleLeafPositions(seedA, nodeA, 1 << 16, 8)
      assert.deepEqual(sampleLeafPositions(seedA, nodeA.toLowerCase() as Address, 1 << 16, 8), a)
      // 8 of 65 536: a collision of whole samples has probability ~2^-100.
      if (seedA !== seedB) assert.notDeepEqual(sampleLeafPositions(seedB, nodeA, 1 << 16, 8), a)
      if (nodeA.toLowerCase() !== nodeB.toLowerCase()) assert.notDeepEqual(sampleLeafPositions(seedA, nodeB, 1 << 16, 8), a)
    }),
    { numRuns: 50 },
  )
})

test('uniform: every position and every pair is drawn about equally often (chi-square over 6 000 fixed seeds)', () => {
  const n = 10
  const samples = 3
  const runs = 6_000
  const node = getAddress('0x00000000000000000000000000000000000c0ffe')
  const single = new Array<number>(n).fill(0)
  const pairs = new Map<string, number>()
  for (let i = 0; i < runs; i++) {
    const positions = sampleLeafPositions(keccak256(numberToHex(i, { size: 32 })), node, n, samples)
    for (const p of positions) single[p] = (single[p] as number) + 1
    for (let a = 0; a < positions.length; a++) {
      for (let b = a + 1; b < positions.length; b++) {
        const key = `${positions[a]},${positions[b]}`
        pairs.set(key, (pairs.get(key) ?? 0) + 1)
      }
    }
  }
  const chi = (observed: number[], expected: number) => observed.reduce((sum, o) => sum + (o - expected) ** 2 / expected, 0)
  // 9 degrees of freedom: the 99.9% quantile is 27.9.
  assert.ok(chi(single, (runs * samples) / n) < 27.9, `positions chi2 ${chi(single, (runs * samples) / n)}`)
  // 45 pairs, 44 degrees of freedom: the 99.9% quantile is 78.7.
  assert.equal(pairs.size, 45)
  const pairExpected = (runs * 3) / 45
  assert.ok(chi([...pairs.values()], pairExpected) < 78.7, `pairs chi2 ${chi([...pairs.values()], pairExpected)}`)
})

test('bad inputs are typed errors', () => {
  const seed = numberToHex(1, { size: 32 })
  const node = getAddress('0x0000000000000000000000000000000000000001')
  const code = (fn: () => unknown) => {
    try {
      fn()
    } catch (error) {
      assert.ok(error instanceof ProtocolError)
      return error.code
    }
    assert.fail('no error')
  }
  assert.equal(code(() => sampleLeafPositions('0x12' as Hex, node, 4, 2)), 'INVALID_BYTES32')
  assert.equal(code(() => sampleLeafPositions(seed, '0xnope' as Address, 4, 2)), 'INVALID_ADDRESS')
  assert.equal(code(() => sampleLeafPositions(seed, node, 0, 2)), 'EMPTY_DAG')
  assert.equal(code(() => sampleLeafPositions(seed, node, MAX_DAG_LEAVES + 1, 2)), 'TOO_LARGE')
  assert.equal(code(() => sampleLeafPositions(seed, node, 4.5, 2)), 'MALFORMED')
  assert.equal(code(() => sampleLeafPositions(seed, node, -1, 2)), 'MALFORMED')
  assert.equal(code(() => sampleLeafPositions(seed, node, 4, -1)), 'MALFORMED')
  assert.equal(code(() => sampleLeafPositions(seed, node, 4, Number.NaN)), 'MALFORMED')
})

// ─── leaf answers ───

const leavesOf = (n: number, salt = 0): unknown[] =>
  Array.from({ length: n }, (_, i) => (i % 2 === 0 ? new TextEncoder().encode(`reading ${salt}:${i}`) : { sensor: `s-${i}`, value: i * 7 + salt }))

const requestFor = (digest: Hex, index: number): LeafRequest => ({ task: '7', cycle: 3, root: digest, index })

test('answers: an honest answer checks out, with the leaf count and the decoded leaf', () => {
  for (const n of [1, 2, 3, 5, 8, 13]) {
    const leaves = leavesOf(n)
    const dag = buildRoundDag(leaves)
    for (let index = 0; index < n; index++) {
      const request = requestFor(dag.digest, index)
      const answer = leafAnswerFromDag(dag, request)
      // The answer survives the wire (dag-cbor) unchanged.
      const wire = dagCbor.decode(dagCbor.encode(answer))
      assert.deepEqual(parseLeafAnswer(wire), answer)
      const check = checkLeafAnswer(wire, request)
      assert.ok(check.ok, `n=${n} index=${index}: ${check.ok ? '' : check.reason}`)
      assert.equal(check.leafCount, n)
      assert.equal(check.leafCid, dag.leafCids[index])
      assert.deepEqual(check.value, leaves[index])
    }
  }
})

test('answers: forged leaves, other indices, other roots, swapped codecs and tampered paths fail', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 40 }), fc.nat(), fc.nat(), (n, rawIndex, rawByte) => {
      const dag = buildRoundDag(leavesOf(n, 1))
      const index = rawIndex % n
      const request = requestFor(dag.digest, index)
      const answer = leafAnswerFromDag(dag, request)
      // A flipped byte anywhere in the leaf.
      const leaf = answer.leaf.slice()
      leaf[rawByte % leaf.length] = (leaf[rawByte % leaf.length] as number) ^ 1
      assert.equal(checkLeafAnswer({ ...answer, leaf }, request).ok, false)
      // The right answer, asked about another index.
      if (n > 1) assert.equal(checkLeafAnswer(answer, { ...request, index: (index + 1) % n }).ok, false)
      // Answering a different index than asked.
      if (n > 1) assert.equal(checkLeafAnswer({ ...leafAnswerFromDag(dag, { ...request, index: (index + 1) % n }) }, request).ok, false)
      // Against another root.
      const other = buildRoundDag(leavesOf(n, 2))
      assert.equal(checkLeafAnswer({ ...answer, root: other.digest }, { ...request, root: other.digest }).ok, false)
      // The wrong codec for a linked leaf.
      if (n > 1) assert.equal(checkLeafAnswer({ ...answer, codec: answer.codec === 0x55 ? 0x71 : 0x55 }, request).ok, false)
      // A tampered path block.
      if (answer.path.length > 0) {
        const path = answer.path.map((block) => block.slice())
        const block = path[rawByte % path.length] as Uint8Array
        block[block.length - 1] = (block[block.length - 1] as number) ^ 1
        assert.equal(checkLeafAnswer({ ...answer, path }, request).ok, false)
      }
    }),
    { numRuns: 120 },
  )
})

test('answers: malformed bodies are verdicts for the checker and typed errors for the parser', () => {
  const dag = buildRoundDag(leavesOf(4))
  const request = requestFor(dag.digest, 1)
  const answer = leafAnswerFromDag(dag, request)
  const bad: unknown[] = [
    null,
    'leaf',
    [answer],
    { ...answer, extra: 1 },
    { ...answer, leaf: 'bytes' },
    { ...answer, path: 'no' },
    { ...answer, path: [1] },
    { ...answer, path: Array.from({ length: 21 }, () => answer.path[0]) },
    { ...answer, path: [new Uint8Array(200)] },
    { ...answer, leaf: new Uint8Array((1 << 20) + 1) },
    { ...answer, codec: 0x70 },
    { ...answer, cycle: -1 },
    { ...answer, index: 1.5 },
    { ...answer, task: '07' },
    { ...answer, root: dag.digest.toUpperCase() },
  ]
  for (const body of bad) {
    assert.equal(checkLeafAnswer(body, request).ok, false)
    assert.throws(() => parseLeafAnswer(body), (error: unknown) => error instanceof ProtocolError && ['MALFORMED', 'TOO_LARGE'].includes(error.code))
  }
  assert.deepEqual(parseLeafRequest({ task: '7', cycle: 3, root: dag.digest, index: 1 }), request)
  for (const body of [
    {},
    { task: 7, cycle: 3, root: dag.digest, index: 1 },
    { task: '7', cycle: 3, root: dag.digest, index: 1, more: true },
    { task: '7', cycle: '3', root: dag.digest, index: 1 },
    { task: '7', cycle: 3, root: '0x1234', index: 1 },
    { task: '7', cycle: 3, root: dag.digest, index: MAX_DAG_LEAVES },
    new Uint8Array(3),
  ]) {
    assert.throws(() => parseLeafRequest(body), (error: unknown) => error instanceof ProtocolError && ['MALFORMED', 'INDEX_OUT_OF_RANGE'].includes(error.code))
  }
  assert.throws(() => leafAnswerFromDag(dag, { ...request, index: 4 }), (error: unknown) => error instanceof ProtocolError && error.code === 'INDEX_OUT_OF_RANGE')
  assert.throws(() => leafAnswerFromDag(dag, { ...request, root: buildRoundDag(leavesOf(4, 9)).digest }), (error: unknown) => error instanceof ProtocolError && error.code === 'MALFORMED')
})
