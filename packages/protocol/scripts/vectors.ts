// Builds the shared JSON test vectors: TS computes them, forge and the TS tests replay them.
// Deterministic by construction: every "random" input comes from keccak256(label, counter),
// never Math.random, so regenerating yields byte-identical files.
//
// Layout is read by forge's vm.parseJson*: uint256 values are decimal strings, bools are JSON
// booleans, addresses and bytes32 are 0x hex, and each list carries an explicit count.

import { type Address, type Hex, encodeAbiParameters, getAddress, keccak256, numberToHex } from 'viem'
import { privateKeyToAddress } from 'viem/accounts'
import {
  BPS,
  MAX_UINT256,
  WAD,
  auditProbabilityBps,
  auditorIndices,
  batchEntryProof,
  buildDistribution,
  commitBatch,
  cumulativeWeights,
  drawPoint,
  equalSplit,
  isSampled,
  reputationWeight,
  selectDistributor,
  slashAmount,
  splitSlash,
  voterShare,
  weightFactor,
  MAX_UINT128,
  MAX_UINT32,
  type BatchEntryInput,
  type DistributionEntry,
} from '../src/index.ts'

export const VECTOR_FILES = [
  'reputation.json',
  'sampling.json',
  'selection.json',
  'slash-split.json',
  'merkle.json',
  'batch-commitment.json',
] as const
export type VectorFile = (typeof VECTOR_FILES)[number]

/** Each vector file's exact text (2-space JSON, trailing newline). */
export function buildVectorFiles(): Record<VectorFile, string> {
  return {
    'reputation.json': toJson(reputationVectors()),
    'sampling.json': toJson(samplingVectors()),
    'selection.json': toJson(selectionVectors()),
    'slash-split.json': toJson(slashSplitVectors()),
    'merkle.json': toJson(merkleVectors()),
    'batch-commitment.json': toJson(batchCommitmentVectors()),
  }
}

export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}

const dec = (value: bigint): string => value.toString(10)

/** A reproducible stream of 256-bit values: keccak256(abi.encode(label, counter)). */
class DeterministicStream {
  private counter = 0n
  constructor(private readonly label: string) {}

  word(): bigint {
    const encoded = encodeAbiParameters([{ type: 'string' }, { type: 'uint256' }], [this.label, this.counter])
    this.counter += 1n
    return BigInt(keccak256(encoded))
  }

  /** Uniform-enough value in [0, bound) (modulo bias is irrelevant for test inputs). */
  below(bound: bigint): bigint {
    return this.word() % bound
  }

  /** Value in [low, high]. */
  between(low: bigint, high: bigint): bigint {
    return low + this.below(high - low + 1n)
  }

  /** Value of a random bit width up to `maxBits`, so small and large magnitudes both appear. */
  ofBits(maxBits: number): bigint {
    const bits = this.between(1n, BigInt(maxBits))
    return this.below(1n << bits)
  }

  bytes32(): Hex {
    return numberToHex(this.word(), { size: 32 })
  }

  address(): Address {
    return getAddress(numberToHex(this.word() >> 96n, { size: 20 }))
  }

  flag(): boolean {
    return (this.word() & 1n) === 1n
  }
}

// ───────────────────────────── reputation ─────────────────────────────

/** Largest score for which WAD · score does not overflow. */
const MAX_SCORE = MAX_UINT256 / WAD

function reputationVectors() {
  const stream = new DeterministicStream('coop.vectors.reputation')
  const inputs: Array<[stake: bigint, score: bigint]> = [
    [0n, 0n],
    [1n, 0n],
    [1n, 1n],
    [3n, 16n],
    [7n, 5n],
    [WAD, 0n],
    [WAD, 1n],
    [WAD, 15n],
    [WAD, 16n],
    [WAD, 17n],
    [32n * WAD, 100n],
    [WAD, 1_000_000n],
    [WAD, 2n ** 32n - 1n], // largest on-chain score (uint32)
    [WAD, MAX_SCORE], // largest score that does not overflow
    [0n, MAX_SCORE],
    [MAX_UINT256 / WAD, 0n], // largest stake at factor 1.0
    [MAX_UINT256 / weightFactor(MAX_SCORE), MAX_SCORE], // largest stake at the largest factor
  ]
  for (let i = 0; i < 17; i++) inputs.push([stream.ofBits(128), stream.ofBits(32)])
  const cases = inputs.map(([stake, score]) => ({
    stake: dec(stake),
    score: dec(score),
    weightFactor: dec(weightFactor(score)),
    weight: dec(reputationWeight(stake, score)),
  }))
  return { count: cases.length, cases }
}

// ───────────────────────────── audit sampling ─────────────────────────────

function samplingVectors() {
  const stream = new DeterministicStream('coop.vectors.sampling')

  const probabilityInputs: Array<[score: bigint, dues: bigint, floorBps: bigint, decay: bigint]> = [
    [0n, 5n, 500n, 20n], // new node pays dues
    [4n, 5n, 500n, 20n], // dues − 1
    [5n, 5n, 500n, 20n], // dues: decay / decay = 100%
    [6n, 5n, 500n, 20n],
    [25n, 5n, 500n, 20n], // half
    [395n, 5n, 500n, 20n], // 487 bps, floor binds
    [2n ** 32n - 1n, 5n, 500n, 20n],
    [2n ** 200n, 5n, 500n, 20n], // huge score
    [MAX_UINT256 - 100n, 0n, 300n, 100n], // decay + score = max uint256
    [MAX_UINT256, 0n, 300n, 0n], // decay 0 never adds
    [10n, 5n, 500n, 0n], // decay 0: straight to the floor
    [10n, 5n, 0n, 0n], // decay 0, floor 0
    [4n, 5n, 0n, 0n], // decay 0 but dues unpaid
    [0n, 0n, 0n, 20n], // no dues
    [1n, 0n, 0n, 1n], // 50%
    [1_000_000n, 0n, 0n, 1n], // rounds to 0
    [7n, 3n, 10_000n, 5n], // floor 100%
    [65_535n, 65_535n, 10_000n, 65_535n], // uint16 params at max
    [200_000n, 65_535n, 1n, 65_535n],
  ]
  for (let i = 0; i < 15; i++) {
    probabilityInputs.push([stream.ofBits(16), stream.below(64n), stream.below(2001n), stream.ofBits(16)])
  }
  const probability = probabilityInputs.map(([score, dues, floorBps, decay]) => ({
    score: dec(score),
    dues: dec(dues),
    floorBps: dec(floorBps),
    decay: dec(decay),
    probabilityBps: dec(auditProbabilityBps(score, dues, floorBps, decay)),
  }))

  const fixedProbabilities = [0n, BPS, 1n, BPS - 1n, 5_000n, 500n, 9_000n]
  const sampled = []
  for (let i = 0; i < 30; i++) {
    const seed = stream.bytes32()
    const taskId = i % 3 === 0 ? BigInt(i + 1) : stream.ofBits(64)
    const cycle = i % 4 === 0 ? 0n : stream.ofBits(32)
    const node = stream.address()
    const probabilityBps = fixedProbabilities[i] ?? stream.below(BPS + 1n)
    sampled.push({
      seed,
      taskId: dec(taskId),
      cycle: dec(cycle),
      node,
      probabilityBps: dec(probabilityBps),
      sampled: isSampled(seed, taskId, cycle, node, probabilityBps),
    })
  }

  const auditorInputs: Array<[submitters: bigint, submitterIndex: bigint, count: bigint]> = [
    [1n, 0n, 3n], // alone: nobody to audit
    [2n, 0n, 1n],
    [2n, 1n, 1n],
    [2n, 0n, 5n], // count capped at the one other
    [3n, 0n, 2n],
    [3n, 2n, 2n],
    [3n, 1n, 0n], // count 0
    [5n, 4n, 3n],
    [10n, 0n, 9n], // everyone else
    [10n, 9n, 20n],
    [10n, 3n, 255n], // uint8 max
    [64n, 17n, 3n],
    [1000n, 999n, 5n],
    [2n ** 32n, 2n ** 31n, 4n], // huge cycle
  ]
  for (let i = 0; i < 16; i++) {
    const submitters = stream.between(2n, 200n)
    auditorInputs.push([submitters, stream.below(submitters), stream.below(9n)])
  }
  const auditors = auditorInputs.map(([submitters, submitterIndex, count], i) => {
    const seed = stream.bytes32()
    const taskId = stream.ofBits(32)
    const cycle = i === 0 ? 0n : stream.ofBits(32)
    const indices = auditorIndices(seed, taskId, cycle, submitterIndex, count, submitters)
    return {
      seed,
      taskId: dec(taskId),
      cycle: dec(cycle),
      submitterIndex: dec(submitterIndex),
      count: dec(count),
      submitters: dec(submitters),
      indicesCount: indices.length,
      indices: indices.map(dec),
    }
  })

  return {
    probabilityCount: probability.length,
    probability,
    sampledCount: sampled.length,
    sampled,
    auditorsCount: auditors.length,
    auditors,
  }
}

// ───────────────────────────── distributor selection ─────────────────────────────

function selectionVectors() {
  const stream = new DeterministicStream('coop.vectors.selection')
  const weightSets: bigint[][] = [
    [5n], // one submitter
    [1n],
    [WAD, WAD], // two, equal
    [1n, 10n ** 30n], // two, very unequal
    [10n ** 30n, 1n],
    Array.from({ length: 10 }, () => WAD), // ten equal
    [1n, 10n ** 30n, 1n], // one giant in the middle
    [5n, 0n, 5n], // a zero weight is never selected
    [MAX_UINT256 / 2n, MAX_UINT256 - MAX_UINT256 / 2n], // total = max uint256
    [3n, 1n, 4n, 1n, 5n, 9n, 2n, 6n],
  ]
  for (let i = 0; i < 12; i++) {
    const n = Number(stream.between(1n, 20n))
    weightSets.push(Array.from({ length: n }, () => stream.between(1n, 2n ** 96n)))
  }
  const inputs: Array<{ weights: bigint[]; attempt: bigint }> = weightSets.map((weights, i) => ({
    weights,
    attempt: BigInt(i % 3),
  }))
  // The same list across successive attempts: each attempt is a fresh draw.
  const repeated = [WAD, 2n * WAD, 3n * WAD, 4n * WAD]
  for (let attempt = 0n; attempt < 8n; attempt++) inputs.push({ weights: repeated, attempt })
  inputs.push({ weights: [7n, 7n, 7n], attempt: 255n })

  const fixedSeed = keccak256(encodeAbiParameters([{ type: 'string' }], ['coop.vectors.selection.fixed-seed']))
  const cases = inputs.map(({ weights, attempt }, i) => {
    const seed = i >= weightSets.length ? fixedSeed : stream.bytes32()
    const taskId = i >= weightSets.length ? 7n : stream.ofBits(32)
    const cycle = i >= weightSets.length ? 3n : stream.ofBits(32)
    const cumulative = cumulativeWeights(weights)
    const total = cumulative[cumulative.length - 1] as bigint
    return {
      seed,
      taskId: dec(taskId),
      cycle: dec(cycle),
      attempt: dec(attempt),
      cumulativeWeights: cumulative.map(dec),
      point: dec(drawPoint(seed, taskId, cycle, attempt, total)),
      index: dec(selectDistributor(seed, taskId, cycle, attempt, cumulative)),
    }
  })
  return { count: cases.length, cases }
}

// ───────────────────────────── slash split ─────────────────────────────

/** Largest amount for which amount · 10000 does not overflow. */
const MAX_BPS_OPERAND = MAX_UINT256 / BPS

function slashSplitVectors() {
  const stream = new DeterministicStream('coop.vectors.slash-split')

  const splitInputs: Array<[slashed: bigint, winnerBps: bigint, votersBps: bigint, hasVoters: boolean]> = [
    [0n, 5_000n, 3_000n, true],
    [1n, 5_000n, 3_000n, true], // all dust to the pool
    [1n, 10_000n, 0n, true],
    [1n, 0n, 10_000n, true],
    [1n, 0n, 10_000n, false], // no voters: their part goes to the pool
    [100n, 3_333n, 3_333n, true],
    [WAD, 5_000n, 5_000n, true],
    [WAD, 5_000n, 5_000n, false],
    [999n, 0n, 0n, true],
    [12_345n, 1_234n, 4_321n, true],
    [12_345n, 1_234n, 4_321n, false],
    [MAX_BPS_OPERAND, 10_000n, 0n, true], // huge
    [MAX_BPS_OPERAND, 2_500n, 7_500n, true],
    [MAX_BPS_OPERAND, 1n, 1n, true],
    [MAX_BPS_OPERAND, 1n, 1n, false],
  ]
  for (let i = 0; i < 17; i++) {
    const winnerBps = stream.below(BPS + 1n)
    splitInputs.push([stream.ofBits(128), winnerBps, stream.below(BPS - winnerBps + 1n), stream.flag()])
  }
  const split = splitInputs.map(([slashed, winnerBps, votersBps, hasVoters]) => {
    const parts = splitSlash(slashed, winnerBps, votersBps, hasVoters)
    return {
      slashed: dec(slashed),
      winnerBps: dec(winnerBps),
      votersBps: dec(votersBps),
      hasVoters,
      toWinner: dec(parts.toWinner),
      toVoters: dec(parts.toVoters),
      toPool: dec(parts.toPool),
    }
  })

  const voterShareInputs: Array<[votersPool: bigint, voterWeight: bigint, winningVotersWeight: bigint]> = [
    [0n, 0n, 0n],
    [100n, 0n, 0n], // nobody else won
    [100n, 5n, 0n],
    [0n, 5n, 10n],
    [100n, 10n, 10n], // the only other voter takes it all
    [100n, 1n, 3n],
    [1n, 1n, 2n], // rounds to 0
    [WAD, WAD / 3n, WAD],
    [2n ** 128n, 2n ** 127n, 2n ** 128n],
    [MAX_UINT256, 1n, 1n],
    [1n, MAX_UINT256, MAX_UINT256],
  ]
  for (let i = 0; i < 15; i++) {
    const winningVotersWeight = stream.between(1n, 2n ** 120n)
    voterShareInputs.push([stream.ofBits(128), stream.between(0n, winningVotersWeight), winningVotersWeight])
  }
  const voterShares = voterShareInputs.map(([votersPool, voterWeight, winningVotersWeight]) => ({
    votersPool: dec(votersPool),
    voterWeight: dec(voterWeight),
    winningVotersWeight: dec(winningVotersWeight),
    share: dec(voterShare(votersPool, voterWeight, winningVotersWeight)),
  }))

  const slashAmountInputs: Array<[stake: bigint, bps: bigint]> = [
    [0n, 0n],
    [0n, 10_000n],
    [1n, 9_999n], // rounds to 0
    [1n, 10_000n],
    [WAD, 1n],
    [WAD, 5_000n],
    [32n * WAD, 10_000n],
    [MAX_BPS_OPERAND, 10_000n], // huge
    [MAX_UINT256, 1n],
    [MAX_UINT256, 0n],
  ]
  for (let i = 0; i < 14; i++) slashAmountInputs.push([stream.ofBits(128), stream.below(BPS + 1n)])
  const slashAmounts = slashAmountInputs.map(([stake, bps]) => ({
    stake: dec(stake),
    bps: dec(bps),
    amount: dec(slashAmount(stake, bps)),
  }))

  return {
    splitCount: split.length,
    split,
    voterShareCount: voterShares.length,
    voterShare: voterShares,
    slashAmountCount: slashAmounts.length,
    slashAmount: slashAmounts,
  }
}

// ───────────────────────────── distribution Merkle trees ─────────────────────────────

function merkleVectors() {
  const stream = new DeterministicStream('coop.vectors.merkle')
  const randomEntries = (count: number): DistributionEntry[] =>
    Array.from({ length: count }, (_, i) => ({
      node: stream.address(),
      // Zero rewards and bonuses appear too: a node may be owed only one of the two.
      reward: i % 5 === 4 ? 0n : stream.ofBits(96),
      bonus: i % 3 === 0 ? 0n : stream.ofBits(80),
    }))
  const sevenPassed = Array.from({ length: 7 }, () => stream.address())
  const trees: Array<{ taskId: bigint; cycle: bigint; entries: DistributionEntry[] }> = [
    { taskId: 1n, cycle: 0n, entries: randomEntries(1) },
    { taskId: 2n, cycle: 1n, entries: randomEntries(2) },
    { taskId: 3n, cycle: 12_345n, entries: randomEntries(3) },
    // The default split: each gets 1 WAD and 100 / 7 = 14; remainders 6 and 2 stay with the task.
    { taskId: 42n, cycle: 7n, entries: equalSplit(7n * WAD + 6n, 100n, sevenPassed) },
    { taskId: MAX_UINT256, cycle: 2n ** 64n - 1n, entries: randomEntries(16) },
  ]
  const built = trees.map(({ taskId, cycle, entries }) => {
    const distribution = buildDistribution({ taskId, cycle, entries })
    return {
      taskId: dec(taskId),
      cycle: dec(cycle),
      root: distribution.root,
      totalReward: dec(distribution.totalReward),
      totalBonus: dec(distribution.totalBonus),
      leafCount: distribution.leaves.length,
      leaves: distribution.leaves.map((leaf) => ({
        node: leaf.node,
        reward: dec(leaf.reward),
        bonus: dec(leaf.bonus),
        leaf: leaf.leaf,
        proofCount: leaf.proof.length,
        proof: leaf.proof,
      })),
    }
  })
  return { count: built.length, trees: built }
}

// ───────────────────────────── batch commitment ─────────────────────────────

/** MIN_STAKE of the forge fixture's default task (contracts/test/utils/DefaultTaskParams.sol). */
const FIXTURE_MIN_STAKE = 100n * WAD

function batchCommitmentVectors() {
  const stream = new DeterministicStream('coop.vectors.batch-commitment')

  // Pure cases: any entries, positions and weight line offsets (replayed through batchEntryLeaf and
  // MerkleProof in forge). Sizes cover the odd-node promotion at several levels.
  const shapes: Array<{ count: number; firstPosition: bigint; weightStart: bigint; weight?: () => bigint; score?: () => bigint }> = [
    { count: 1, firstPosition: 0n, weightStart: 0n },
    { count: 2, firstPosition: 0n, weightStart: 0n },
    { count: 3, firstPosition: 2n, weightStart: 3n * WAD },
    { count: 4, firstPosition: 0n, weightStart: 0n },
    { count: 5, firstPosition: 17n, weightStart: 123_456_789n },
    { count: 6, firstPosition: 0n, weightStart: 0n, score: () => 0n },
    { count: 7, firstPosition: 1_000n, weightStart: WAD },
    { count: 9, firstPosition: 0n, weightStart: 0n },
    { count: 13, firstPosition: 64n, weightStart: 2n ** 100n },
    { count: 16, firstPosition: 0n, weightStart: 0n },
    { count: 2, firstPosition: MAX_UINT32 - 1n, weightStart: MAX_UINT128 - 2n * WAD, weight: () => WAD, score: () => MAX_UINT32 }, // bounds of the packing
  ]
  const batches = shapes.map(({ count, firstPosition, weightStart, weight, score }) => {
    const inputs: BatchEntryInput[] = Array.from({ length: count }, () => ({
      node: stream.address(),
      root: stream.bytes32(),
      weight: weight ? weight() : stream.between(1n, 2n ** 96n),
      score: score ? score() : stream.ofBits(32),
    }))
    const commitment = commitBatch({ entries: inputs, firstPosition, weightStart })
    return {
      firstPosition: dec(firstPosition),
      weightStart: dec(weightStart),
      weightEnd: dec(commitment.weightEnd),
      entriesRoot: commitment.entriesRoot,
      weights: commitment.weights,
      entryCount: count,
      entries: commitment.entries.map((entry, i) => {
        const proof = batchEntryProof(commitment.leaves, i)
        return {
          node: entry.node,
          root: entry.root,
          weight: dec(entry.weightEnd - entry.weightStart),
          position: dec(entry.position),
          weightStart: dec(entry.weightStart),
          weightEnd: dec(entry.weightEnd),
          score: dec(entry.score),
          leaf: commitment.leaves[i]!,
          proofCount: proof.length,
          proof,
        }
      }),
    }
  })

  // On-chain cases: forge stakes these keys in a fresh task (score 0, so weight = stake), posts the
  // batches with submitBatch in cycle 0 and compares the contract's entries roots and event data
  // with these, then materializes every entry with the TS proofs.
  const splits: number[][] = [[1], [3], [2, 3], [5], [4, 1, 2], [7], [1, 8]]
  const onchain = splits.map((split) => {
    const total = split.reduce((a, b) => a + b, 0)
    const keys = Array.from({ length: total }, () => stream.between(1n, 2n ** 248n))
    const nodes = keys.map((key) => privateKeyToAddress(numberToHex(key, { size: 32 })))
    const stakes = keys.map(() => FIXTURE_MIN_STAKE + stream.below(10_000n * WAD))
    const roots = keys.map(() => stream.bytes32())
    let firstPosition = 0n
    let weightStart = 0n
    let offset = 0
    const posted = split.map((count) => {
      const slice = Array.from({ length: count }, (_, i) => offset + i)
      const commitment = commitBatch({
        entries: slice.map((j) => ({ node: nodes[j]!, root: roots[j]!, weight: stakes[j]!, score: 0n })),
        firstPosition,
        weightStart,
      })
      const batch = {
        firstEntry: offset,
        entryCount: count,
        firstPosition: dec(firstPosition),
        weightStart: dec(weightStart),
        weightEnd: dec(commitment.weightEnd),
        entriesRoot: commitment.entriesRoot,
        weights: commitment.weights,
        proofCounts: slice.map((_, i) => batchEntryProof(commitment.leaves, i).length),
        proofs: slice.map((_, i) => batchEntryProof(commitment.leaves, i)),
      }
      offset += count
      firstPosition += BigInt(count)
      weightStart = commitment.weightEnd
      return batch
    })
    return {
      nodeCount: total,
      keys: keys.map(dec),
      nodes,
      stakes: stakes.map(dec),
      roots,
      batchCount: posted.length,
      batches: posted,
    }
  })

  return { count: batches.length, batches, onchainCount: onchain.length, onchain }
}
