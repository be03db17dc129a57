// Drives many SCALE rounds through the node's real round store, content store, SQLite state and
// pruning pass, and measures the data directory after every round (shared by
// scale-pruning.test.ts and bench/scale-prune.ts; not a test file itself).
import { createHash } from 'node:crypto'
import { lstat, readdir } from 'node:fs/promises'
import { join } from 'node:path'

import { buildRoundDag } from '@coop/protocol'
import { createContentStore } from '@coop/sdk'
import { type Address, getAddress } from 'viem'

import { prunePass } from '../src/scale/pruning.ts'
import { RoundStore } from '../src/scale/round-store.ts'
import { ScaleState } from '../src/scale/scale-state.ts'
import { openState } from '../src/state/store.ts'

/** Bytes the directory occupies on disk (allocated blocks, like `du`), every file and directory. */
export async function diskUsage(dir: string): Promise<number> {
  let total = 0
  const walk = async (path: string): Promise<void> => {
    const info = await lstat(path)
    total += info.blocks * 512
    if (info.isDirectory()) for (const name of await readdir(path)) await walk(join(path, name))
  }
  await walk(dir)
  return total
}

/** A leaf shaped and sized like a signed device payload (~180 bytes of dag-cbor), unique per (round, index). */
export function payloadSizedLeaf(round: number, index: number): Uint8Array {
  const seed = createHash('sha256').update(`leaf:${round}:${index}`).digest()
  const leaf = new Uint8Array(180)
  for (let i = 0; i < leaf.length; i += 32) leaf.set(seed.subarray(0, Math.min(32, leaf.length - i)), i)
  leaf[0] = round & 0xff
  leaf[1] = index & 0xff
  leaf[2] = (index >> 8) & 0xff
  return leaf
}

export type PruneSeriesOptions = {
  dir: string
  rounds: number
  leaves: number
  retentionRounds: number
  unbondingRounds: number
  /** Leaves of another node's round this node holds as a replica each round (0 = none). */
  replicaLeaves?: number
  onRound?: (entry: PruneSeriesEntry) => void
}

export type PruneSeriesEntry = { round: number; bytes: number; pruned: number; heldRounds: number }

const SELF: Address = getAddress('0x1000000000000000000000000000000000000001')
const PEER: Address = getAddress('0x2000000000000000000000000000000000000002')

/**
 * Round r: the node builds its round DAG of cycle r (and stores a peer's as a replica), the chain
 * settles cycle r − 2 (its distribution final), then the pruning pass runs and the data dir is
 * measured. Returns the series and the state objects for further checks.
 */
export async function runPruneSeries(options: PruneSeriesOptions) {
  const state = openState(join(options.dir, 'state.sqlite'))
  const content = createContentStore(join(options.dir, 'content'))
  const rounds = new RoundStore({ state, content, self: SELF })
  const scale = new ScaleState(state)
  const taskId = '1'
  const series: PruneSeriesEntry[] = []
  try {
    for (let round = 0; round < options.rounds; round++) {
      await rounds.buildOwnRound(taskId, round, Array.from({ length: options.leaves }, (_, i) => payloadSizedLeaf(round, i)))
      if (options.replicaLeaves) {
        const dag = buildRoundDag(Array.from({ length: options.replicaLeaves }, (_, i) => payloadSizedLeaf(round + 1_000_000, i)))
        await rounds.importRound({ taskId, cycle: round, node: PEER, root: dag.root, blocks: dag.blocks })
      }
      const report = await prunePass({
        taskId,
        state,
        rounds,
        scale,
        currentRound: round,
        retentionRounds: options.retentionRounds,
        unbondingRounds: options.unbondingRounds,
        settlement: async (cycle) => ({ status: cycle + 2 <= round ? 'final' : 'open', openAudits: 0 }),
      })
      const entry = {
        round,
        bytes: await diskUsage(options.dir),
        pruned: report.pruned.length,
        heldRounds: rounds.listRounds(taskId).filter((r) => r.status !== 'pruned').length,
      }
      series.push(entry)
      options.onRound?.(entry)
    }
    return { series, state, rounds, scale, taskId, self: SELF, peer: PEER, close: () => state.close() }
  } catch (error) {
    state.close()
    throw error
  }
}
