import type { Address, Hex } from 'viem'

import { BatchDecodeError, batchEntryLeaf, batchEntryProof, type BatchedEntry } from '../batch/entries.ts'
import type { AnyClient } from '../internal/contract.ts'
import { getBatchEntries, type CycleBatch, type GetBatchEntriesParameters } from './getBatchEntries.ts'

export type BuildMaterializeProofParameters = GetBatchEntriesParameters & {
  node: Address
  /** The cycle's batches if already read (getBatchEntries); read from the chain otherwise. */
  batches?: readonly CycleBatch[] | undefined
}

export type MaterializeProof = { batchIndex: bigint; entry: BatchedEntry; proof: Hex[] }

/** Finds `node`'s batched entry of `cycle` and builds its proof for materializeSubmission; undefined if the node has none. */
export async function buildMaterializeProof(
  client: AnyClient,
  parameters: BuildMaterializeProofParameters,
): Promise<MaterializeProof | undefined> {
  const { node, batches: given, ...read } = parameters
  const batches = given ?? (await getBatchEntries(client, read))
  return materializeProofOf(batches, node)
}

/** The same from already decoded batches (pure). */
export function materializeProofOf(batches: readonly CycleBatch[], node: Address): MaterializeProof | undefined {
  for (const batch of batches) {
    const index = batch.entries.findIndex((entry) => entry.node.toLowerCase() === node.toLowerCase())
    if (index < 0) continue
    const leaves = batch.entries.map(batchEntryLeaf)
    if (leaves.length === 0) throw new BatchDecodeError(`batch ${batch.batchIndex} has no entries`)
    return { batchIndex: batch.batchIndex, entry: batch.entries[index]!, proof: batchEntryProof(leaves, index) }
  }
  return undefined
}
