import { type Address, type Hex, encodeAbiParameters, keccak256 } from 'viem'
import { AUDITORS_TAG, BPS, SAMPLE_TAG } from './constants.ts'
import { ProtocolError } from './errors.ts'
import { checkedAdd, checkedDiv, checkedMod, checkedMul, checkedSub } from './uint256.ts'
import { assertBps, assertBytes32, assertUint256, toChecksumAddress } from './validate.ts'

// Twin of contracts/src/libraries/AuditSampling.sol. Vectors: vectors/sampling.json.
// Every draw is a pure function of the cycle seed (fixed on-chain when submissions close), so all
// nodes compute the same sample and the same auditors, and nobody picks whom they audit.

/**
 * Probability (bps) that a submission by a node with `score` is sampled. A node pays its dues
 * at 100% while score < dues; after that p = 10000 · decay / (decay + score − dues), never below
 * `floorBps`. decay = 0 means "straight to the floor once dues are paid".
 */
export function auditProbabilityBps(score: bigint, dues: bigint, floorBps: bigint, decay: bigint): bigint {
  assertUint256(score, 'score')
  assertUint256(dues, 'dues')
  assertBps(floorBps, 'floorBps')
  assertUint256(decay, 'decay')
  if (score < dues) return BPS
  // Same evaluation order as Solidity: (decay + score) − dues, so overflow throws where it reverts.
  const probability = decay === 0n ? 0n : checkedDiv(checkedMul(BPS, decay), checkedSub(checkedAdd(decay, score), dues))
  return probability < floorBps ? floorBps : probability
}

/** The uniform draw in [0, 10000) that decides whether `node`'s submission for `cycle` is sampled. */
export function sampleDraw(seed: Hex, taskId: bigint, cycle: bigint, node: Address): bigint {
  const encoded = encodeAbiParameters(
    [{ type: 'bytes32' }, { type: 'bytes32' }, { type: 'uint256' }, { type: 'uint256' }, { type: 'address' }],
    [
      SAMPLE_TAG,
      assertBytes32(seed, 'seed'),
      assertUint256(taskId, 'taskId'),
      assertUint256(cycle, 'cycle'),
      toChecksumAddress(node, 'node'),
    ],
  )
  return BigInt(keccak256(encoded)) % BPS
}

/** Whether `node`'s submission for `cycle` is sampled for audit at `probabilityBps`. */
export function isSampled(seed: Hex, taskId: bigint, cycle: bigint, node: Address, probabilityBps: bigint): boolean {
  assertBps(probabilityBps, 'probabilityBps')
  return sampleDraw(seed, taskId, cycle, node) < probabilityBps
}

/**
 * Indices (into the cycle's submitter list) of the auditors of the submitter at `submitterIndex`:
 * min(count, submitters − 1) distinct other submitters, taken consecutively after a seeded offset,
 * so the assignment is uniform and never includes the submitter itself.
 */
export function auditorIndices(
  seed: Hex,
  taskId: bigint,
  cycle: bigint,
  submitterIndex: bigint,
  count: bigint,
  submitters: bigint,
): bigint[] {
  assertBytes32(seed, 'seed')
  assertUint256(taskId, 'taskId')
  assertUint256(cycle, 'cycle')
  assertUint256(submitterIndex, 'submitterIndex')
  assertUint256(count, 'count')
  assertUint256(submitters, 'submitters')
  // Solidity does not check this (TaskLens only passes stored indices); an index outside the list
  // is a caller bug here, and its "auditors" would be meaningless.
  if (submitterIndex >= submitters) {
    throw new ProtocolError('INDEX_OUT_OF_RANGE', 'submitterIndex is outside the submitter list', {
      details: { submitterIndex, submitters },
    })
  }
  if (submitters <= 1n || count === 0n) return []
  const others = submitters - 1n
  const auditorCount = count < others ? count : others
  const encoded = encodeAbiParameters(
    [{ type: 'bytes32' }, { type: 'bytes32' }, { type: 'uint256' }, { type: 'uint256' }, { type: 'uint256' }],
    [AUDITORS_TAG, seed, taskId, cycle, submitterIndex],
  )
  const offset = checkedMod(BigInt(keccak256(encoded)), others)
  const indices: bigint[] = []
  for (let j = 0n; j < auditorCount; j++) {
    // Stepping 1..others past the submitter (mod n) visits every other index once and never itself.
    indices.push(checkedAdd(checkedAdd(submitterIndex, 1n), (offset + j) % others) % submitters)
  }
  return indices
}
