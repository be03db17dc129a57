import { type Address, type Hex, hexToBytes, keccak256, stringToBytes } from 'viem'
import { assertBytes32, toChecksumAddress } from '../validate.ts'
import { scaleError } from './errors.ts'
import { MAX_DAG_LEAVES } from './round-dag.ts'

// Fisherman audits (DESIGN.md §2): which leaves of `node`'s round DAG an auditor asks for. The
// positions are a pure function of the cycle seed (fixed on-chain after submissions close), the
// submitter and the DAG's leaf count (stated by its root block, so fixed by the on-chain root):
// every node computes the same positions, and the submitter cannot know them when it commits.
//
// Draw: a partial Fisher–Yates shuffle of [0, leafCount) driven by the stream
//   h_k = keccak256(TAG ‖ seed ‖ uint256(node) ‖ uint256(k)),  k = 0, 1, 2, …   (abi.encode layout)
// Step i picks j uniform in [i, leafCount) from the next h_k by rejection sampling (h_k is
// rejected when it falls in the last, incomplete multiple of the range, so no position is
// favoured), swaps j into place i and takes it. Hence positions are distinct and every
// `samples`-subset is equally likely. Vectors: vectors/leaf-sampling.json.

export const LEAF_SAMPLE_TAG_STRING = 'coop.scale.leaf-sample.v1'
export const LEAF_SAMPLE_TAG: Hex = keccak256(stringToBytes(LEAF_SAMPLE_TAG_STRING))

const TWO_256 = 1n << 256n

function assertCount(value: number, name: string, min: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw scaleError('MALFORMED', `${name} must be an integer ≥ ${min}`, { [name]: String(value) })
  }
}

/**
 * The leaf positions (ascending, distinct) a fisherman audits in `node`'s round DAG of
 * `leafCount` leaves for a cycle with `seed`: `min(samples, leafCount)` of them, uniformly drawn
 * without replacement; every position when `samples ≥ leafCount`. Throws ProtocolError
 * INVALID_BYTES32 / INVALID_ADDRESS for a bad seed or node, EMPTY_DAG for `leafCount = 0`,
 * TOO_LARGE above MAX_DAG_LEAVES and MALFORMED for non-integer or negative counts.
 */
export function sampleLeafPositions(seed: Hex, node: Address, leafCount: number, samples: number): number[] {
  assertBytes32(seed, 'seed')
  const checksummed = toChecksumAddress(node, 'node')
  assertCount(leafCount, 'leafCount', 0)
  assertCount(samples, 'samples', 0)
  if (leafCount === 0) throw scaleError('EMPTY_DAG', 'a round DAG has at least one leaf', { leafCount })
  if (leafCount > MAX_DAG_LEAVES) throw scaleError('TOO_LARGE', 'leafCount exceeds MAX_DAG_LEAVES', { leafCount, max: MAX_DAG_LEAVES })
  if (samples >= leafCount) return Array.from({ length: leafCount }, (_, i) => i)

  // abi.encode(bytes32 tag, bytes32 seed, address node, uint256 counter): 4 words.
  const input = new Uint8Array(128)
  input.set(hexToBytes(LEAF_SAMPLE_TAG), 0)
  input.set(hexToBytes(seed), 32)
  input.set(hexToBytes(checksummed), 64 + 12)
  let counter = 0
  const next = (): bigint => {
    // The counter never exceeds 2^53 in practice (each step rejects with probability < 2^-235).
    let value = counter++
    for (let byte = 127; byte >= 96; byte--) {
      input[byte] = value % 256
      value = Math.floor(value / 256)
    }
    return BigInt(keccak256(input))
  }

  const moved = new Map<number, number>() // sparse swaps of the virtual array [0, leafCount)
  const at = (i: number) => moved.get(i) ?? i
  const positions: number[] = []
  for (let i = 0; i < samples; i++) {
    const range = BigInt(leafCount - i)
    const limit = TWO_256 - (TWO_256 % range)
    let draw = next()
    while (draw >= limit) draw = next()
    const j = i + Number(draw % range)
    const picked = at(j)
    moved.set(j, at(i))
    positions.push(picked)
  }
  return positions.sort((a, b) => a - b)
}
