// Writes packages/protocol/vectors/leaf-sampling.json: fisherman leaf positions
// (sampleLeafPositions) for fixed inputs, so any implementation can be checked against them.
// Run: npx tsx packages/protocol/scripts/leaf-sampling-vectors.ts [--out <dir>]
// (TS-only rule: no Solidity twin; the test replays the file and checks it regenerates byte for byte.)

import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { type Address, type Hex, encodeAbiParameters, getAddress, keccak256, numberToHex } from 'viem'
import { LEAF_SAMPLE_TAG, LEAF_SAMPLE_TAG_STRING, MAX_DAG_LEAVES, sampleLeafPositions } from '../src/index.ts'

export const LEAF_SAMPLING_VECTOR_FILE = 'leaf-sampling.json'

const word = (label: string, counter: number): Hex =>
  keccak256(encodeAbiParameters([{ type: 'string' }, { type: 'uint256' }], [label, BigInt(counter)]))

/** The vector file's exact text (2-space JSON, trailing newline). */
export function buildLeafSamplingVectors(): string {
  const seed = (i: number): Hex => word('leaf-sampling.seed', i)
  const node = (i: number): Address => getAddress(`0x${word('leaf-sampling.node', i).slice(26)}`)
  const inputs: Array<{ seed: Hex; node: Address; leafCount: number; samples: number }> = [
    { seed: numberToHex(0, { size: 32 }), node: getAddress('0x0000000000000000000000000000000000000001'), leafCount: 1, samples: 16 },
    { seed: seed(0), node: node(0), leafCount: 2, samples: 1 },
    { seed: seed(1), node: node(1), leafCount: 16, samples: 16 },
    { seed: seed(2), node: node(2), leafCount: 17, samples: 16 },
    { seed: seed(3), node: node(3), leafCount: 100, samples: 0 },
    { seed: seed(4), node: node(4), leafCount: 100, samples: 16 },
    { seed: seed(4), node: node(5), leafCount: 100, samples: 16 },
    { seed: seed(5), node: node(4), leafCount: 100, samples: 16 },
    { seed: seed(6), node: node(6), leafCount: 1000, samples: 64 },
    { seed: seed(7), node: node(7), leafCount: 3, samples: 2 },
    { seed: numberToHex((1n << 256n) - 1n, { size: 32 }), node: getAddress('0xffffffffffffffffffffffffffffffffffffffff'), leafCount: MAX_DAG_LEAVES, samples: 32 },
  ]
  const cases = inputs.map((input) => ({ ...input, positions: sampleLeafPositions(input.seed, input.node, input.leafCount, input.samples) }))
  return `${JSON.stringify({ tag: LEAF_SAMPLE_TAG_STRING, tagHash: LEAF_SAMPLE_TAG, count: cases.length, cases }, null, 2)}\n`
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const outFlag = process.argv.indexOf('--out')
  const outDir = outFlag === -1 ? join(import.meta.dirname, '..', 'vectors') : resolve(process.argv[outFlag + 1] ?? '.')
  mkdirSync(outDir, { recursive: true })
  writeFileSync(join(outDir, LEAF_SAMPLING_VECTOR_FILE), buildLeafSamplingVectors())
  console.log(`wrote ${join(outDir, LEAF_SAMPLING_VECTOR_FILE)}`)
}
