// The JSON vectors are the contract between this package and the forge tests. Here every
// committed case is replayed through the TS rules, its layout is pinned to what forge parses,
// and regenerating must reproduce the committed bytes, so TS and JSON can never drift apart.

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import type { Address, Hex } from 'viem'
import {
  auditProbabilityBps,
  auditorIndices,
  buildDistribution,
  covers,
  distributionLeaf,
  drawPoint,
  isSampled,
  merkleRootFromProof,
  reputationWeight,
  selectDistributor,
  slashAmount,
  splitSlash,
  verifyDistributionProof,
  voterShare,
  weightFactor,
  weightInterval,
} from '../src/index.ts'
import { VECTOR_FILES, buildVectorFiles } from '../scripts/vectors.ts'

const PACKAGE_DIR = join(import.meta.dirname, '..')
const VECTORS_DIR = join(PACKAGE_DIR, 'vectors')
const REPO_ROOT = join(PACKAGE_DIR, '..', '..')

/** Parsed vector JSON: its shape is what these tests check. */
type Json = any

const readVectors = (name: string): Json => JSON.parse(readFileSync(join(VECTORS_DIR, name), 'utf8'))

/** A uint256 as forge's parseJsonUint expects it here: a canonical decimal string. */
function uint(value: unknown): bigint {
  assert.equal(typeof value, 'string', `${String(value)} is not a string`)
  assert.match(value as string, /^(0|[1-9]\d*)$/)
  return BigInt(value as string)
}

function bytes32(value: unknown): Hex {
  assert.match(value as string, /^0x[0-9a-f]{64}$/)
  return value as Hex
}

function address(value: unknown): Address {
  assert.match(value as string, /^0x[0-9a-fA-F]{40}$/)
  return value as Address
}

function assertKeys(object: Json, keys: string[]): void {
  assert.deepEqual(Object.keys(object), keys)
}

function assertList(file: Json, countKey: string, listKey: string, min = 20, max = 40): Json[] {
  const list = file[listKey]
  assert.ok(Array.isArray(list))
  assert.equal(file[countKey], list.length)
  assert.ok(list.length >= min && list.length <= max, `${listKey} has ${list.length} cases`)
  return list
}

test('reputation.json replays through weightFactor and reputationWeight', () => {
  const file = readVectors('reputation.json')
  assertKeys(file, ['count', 'cases'])
  const cases = assertList(file, 'count', 'cases')
  for (const c of cases) {
    assertKeys(c, ['stake', 'score', 'weightFactor', 'weight'])
    assert.equal(weightFactor(uint(c.score)), uint(c.weightFactor))
    assert.equal(reputationWeight(uint(c.stake), uint(c.score)), uint(c.weight))
  }
  const scores = cases.map((c) => uint(c.score))
  for (const edge of [0n, 15n, 16n, 17n]) assert.ok(scores.includes(edge), `score ${edge} missing`)
})

test('sampling.json replays through auditProbabilityBps, isSampled and auditorIndices', () => {
  const file = readVectors('sampling.json')
  assertKeys(file, ['probabilityCount', 'probability', 'sampledCount', 'sampled', 'auditorsCount', 'auditors'])
  for (const c of assertList(file, 'probabilityCount', 'probability')) {
    assertKeys(c, ['score', 'dues', 'floorBps', 'decay', 'probabilityBps'])
    assert.equal(auditProbabilityBps(uint(c.score), uint(c.dues), uint(c.floorBps), uint(c.decay)), uint(c.probabilityBps))
  }
  const sampled = assertList(file, 'sampledCount', 'sampled')
  for (const c of sampled) {
    assertKeys(c, ['seed', 'taskId', 'cycle', 'node', 'probabilityBps', 'sampled'])
    assert.equal(typeof c.sampled, 'boolean')
    assert.equal(isSampled(bytes32(c.seed), uint(c.taskId), uint(c.cycle), address(c.node), uint(c.probabilityBps)), c.sampled)
  }
  assert.ok(sampled.some((c) => c.sampled) && sampled.some((c) => !c.sampled))
  const auditors = assertList(file, 'auditorsCount', 'auditors')
  for (const c of auditors) {
    assertKeys(c, ['seed', 'taskId', 'cycle', 'submitterIndex', 'count', 'submitters', 'indicesCount', 'indices'])
    const indices = auditorIndices(
      bytes32(c.seed),
      uint(c.taskId),
      uint(c.cycle),
      uint(c.submitterIndex),
      uint(c.count),
      uint(c.submitters),
    )
    assert.equal(c.indicesCount, c.indices.length)
    assert.deepEqual(c.indices.map(uint), indices)
  }
  assert.ok(auditors.some((c) => c.submitters === '1' && c.indicesCount === 0))
  assert.ok(auditors.some((c) => c.submitters === '2'))
})

test('selection.json replays through drawPoint and selectDistributor', () => {
  const file = readVectors('selection.json')
  assertKeys(file, ['count', 'cases'])
  const cases = assertList(file, 'count', 'cases')
  for (const c of cases) {
    assertKeys(c, ['seed', 'taskId', 'cycle', 'attempt', 'cumulativeWeights', 'point', 'index'])
    const cumulative: bigint[] = c.cumulativeWeights.map(uint)
    assert.ok(cumulative.length > 0)
    const args = [bytes32(c.seed), uint(c.taskId), uint(c.cycle), uint(c.attempt)] as const
    const point = drawPoint(...args, cumulative[cumulative.length - 1] as bigint)
    assert.equal(point, uint(c.point))
    const index = selectDistributor(...args, cumulative)
    assert.equal(index, uint(c.index))
    const { lower, upper } = weightInterval(cumulative, index)
    assert.ok(covers(point, lower, upper))
  }
  assert.ok(cases.some((c) => c.cumulativeWeights.length === 1))
  assert.ok(cases.some((c) => c.cumulativeWeights.length === 2))
})

test('slash-split.json replays through splitSlash, voterShare and slashAmount', () => {
  const file = readVectors('slash-split.json')
  assertKeys(file, ['splitCount', 'split', 'voterShareCount', 'voterShare', 'slashAmountCount', 'slashAmount'])
  const split = assertList(file, 'splitCount', 'split')
  for (const c of split) {
    assertKeys(c, ['slashed', 'winnerBps', 'votersBps', 'hasVoters', 'toWinner', 'toVoters', 'toPool'])
    assert.equal(typeof c.hasVoters, 'boolean')
    assert.deepEqual(splitSlash(uint(c.slashed), uint(c.winnerBps), uint(c.votersBps), c.hasVoters), {
      toWinner: uint(c.toWinner),
      toVoters: uint(c.toVoters),
      toPool: uint(c.toPool),
    })
  }
  assert.ok(split.some((c) => c.slashed === '0') && split.some((c) => c.slashed === '1'))
  assert.ok(split.some((c) => !c.hasVoters))
  for (const c of assertList(file, 'voterShareCount', 'voterShare')) {
    assertKeys(c, ['votersPool', 'voterWeight', 'winningVotersWeight', 'share'])
    assert.equal(voterShare(uint(c.votersPool), uint(c.voterWeight), uint(c.winningVotersWeight)), uint(c.share))
  }
  for (const c of assertList(file, 'slashAmountCount', 'slashAmount')) {
    assertKeys(c, ['stake', 'bps', 'amount'])
    assert.equal(slashAmount(uint(c.stake), uint(c.bps)), uint(c.amount))
  }
})

test('merkle.json replays through distributionLeaf, the proofs and buildDistribution', () => {
  const file = readVectors('merkle.json')
  assertKeys(file, ['count', 'trees'])
  const trees = assertList(file, 'count', 'trees', 5, 5)
  assert.deepEqual(
    trees.map((t) => t.leafCount),
    [1, 2, 3, 7, 16],
  )
  for (const t of trees) {
    assertKeys(t, ['taskId', 'cycle', 'root', 'totalReward', 'totalBonus', 'leafCount', 'leaves'])
    const [taskId, cycle, root] = [uint(t.taskId), uint(t.cycle), bytes32(t.root)]
    assert.equal(t.leafCount, t.leaves.length)
    for (const l of t.leaves) {
      assertKeys(l, ['node', 'reward', 'bonus', 'leaf', 'proofCount', 'proof'])
      assert.equal(l.proofCount, l.proof.length)
      const leaf = distributionLeaf(taskId, cycle, address(l.node), uint(l.reward), uint(l.bonus))
      assert.equal(leaf, bytes32(l.leaf))
      assert.equal(merkleRootFromProof(leaf, l.proof.map(bytes32)), root)
      assert.ok(verifyDistributionProof({ root, taskId, cycle, node: l.node, reward: uint(l.reward), bonus: uint(l.bonus), proof: l.proof }))
    }
    const rebuilt = buildDistribution({
      taskId,
      cycle,
      entries: t.leaves.map((l: Json) => ({ node: l.node, reward: uint(l.reward), bonus: uint(l.bonus) })),
    })
    assert.equal(rebuilt.root, root)
    assert.equal(rebuilt.totalReward, uint(t.totalReward))
    assert.equal(rebuilt.totalBonus, uint(t.totalBonus))
    assert.deepEqual(
      rebuilt.leaves.map((l) => l.proof),
      t.leaves.map((l: Json) => l.proof),
    )
  }
})

test('committed vector files equal what the generator builds', () => {
  const built = buildVectorFiles()
  assert.deepEqual(Object.keys(built), [...VECTOR_FILES])
  for (const name of VECTOR_FILES) {
    assert.equal(readFileSync(join(VECTORS_DIR, name), 'utf8'), built[name], `${name} is stale: run npm run vectors`)
  }
})

test('generate-vectors.ts writes byte-identical files', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'coop-vectors-'))
  try {
    const script = join(PACKAGE_DIR, 'scripts', 'generate-vectors.ts')
    const run = spawnSync(process.execPath, ['--import', 'tsx', script, '--out', outDir], { cwd: REPO_ROOT, encoding: 'utf8' })
    assert.equal(run.status, 0, run.stderr)
    for (const name of VECTOR_FILES) {
      assert.ok(readFileSync(join(outDir, name)).equals(readFileSync(join(VECTORS_DIR, name))), `${name} differs`)
    }
  } finally {
    rmSync(outDir, { recursive: true, force: true })
  }
})
