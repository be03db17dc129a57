// Succinct state (issue 4, extra): disk use of a node's data directory (SQLite state + block store,
// allocated blocks like `du`) over many SCALE rounds run through the node's real round store,
// content store and pruning pass (packages/node/test/scale-prune-series.ts). Each round the node
// builds its own round DAG and holds one replica round; a cycle settles 2 rounds later and is
// pruned `retention` rounds after that (and past the penalty re-open horizon).
// Result scale.prune.disk: ours = the peak data-dir size after the window (rounds 20…end),
// baseline = the data-dir size after the same rounds run through the same code with pruning off
// (retention beyond the run; measured in the same run, in its own directory), better "lower".
//
//   npx tsx bench/scale-prune.ts [rounds=60] [leaves=200] [retention=5]
// One block = one fsynced file, so 2,000-leaf rounds take ~4 s each on a quiet disk and much more
// on a busy one; the default keeps the run to a few minutes.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { machineFacts, writeBenchResult } from './results-file.ts'

import { runPruneSeries } from '../packages/node/test/scale-prune-series.ts'

const [rounds = 60, leaves = 200, retention = 5] = process.argv.slice(2).map(Number)
const REPLICA_LEAVES = Math.round(leaves / 4)
const UNBONDING = 3

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'coop-scale-prune-bench-'))
  const baselineDir = mkdtempSync(join(tmpdir(), 'coop-scale-prune-bench-off-'))
  const started = Date.now()
  const runSeries = (label: string, dataDir: string, retentionRounds: number) =>
    runPruneSeries({
      dir: dataDir,
      rounds,
      leaves,
      replicaLeaves: REPLICA_LEAVES,
      retentionRounds,
      unbondingRounds: UNBONDING,
      onRound: (entry) => console.log(`${label} round ${String(entry.round).padStart(3)}  ${String(Math.round(entry.bytes / 1024)).padStart(8)} KiB  held rounds ${entry.heldRounds}  pruned ${entry.pruned}`),
    })
  try {
    const run = await runSeries('pruning', dir, retention)
    const compact = run.scale.compact(run.taskId)
    run.close()
    // The baseline: the same rounds, nothing ever due for pruning.
    const off = await runSeries('no pruning', baselineDir, rounds + 1_000)
    off.close()
    assert.equal(off.series.reduce((sum, entry) => sum + entry.pruned, 0), 0, 'the baseline run pruned nothing')
    const unpruned = off.series[off.series.length - 1]!.bytes
    const series = run.series
    const window = Math.min(20, Math.floor(rounds / 2))
    const peak = Math.max(...series.slice(window).map((e) => e.bytes))
    const atWindow = series[Math.min(15, series.length - 1)]!.bytes
    const flat = peak <= atWindow * 1.15
    const file = {
      id: 'scale.prune.disk',
      metric: `peak data-dir size over rounds ${window}…${rounds - 1} with pruning (retention ${retention})`,
      unit: 'bytes',
      ours: peak,
      baseline: unpruned,
      baselineName: 'data-dir size after the same rounds through the same code with pruning off (same run)',
      ratio: Math.round((unpruned / peak) * 1000) / 1000,
      better: 'lower',
      params: {
        rounds,
        leavesPerRound: leaves,
        replicaLeavesPerRound: REPLICA_LEAVES,
        retentionRounds: retention,
        unbondingRounds: UNBONDING,
        leafBytes: 180,
        flatAfterWindow: flat,
        sizeAtRound15: atWindow,
        maxOverWindowOverRound15: Math.round((peak / atWindow) * 1000) / 1000,
        bytesPerRound: series.map((e) => e.bytes),
        bytesPerRoundWithoutPruning: off.series.map((e) => e.bytes),
        compactState: { roundsPruned: compact.roundsPruned, leavesPruned: compact.leavesPruned, bytesFreed: compact.bytesFreed, prunedAccumulator: compact.prunedAccumulator },
        seconds: Math.round((Date.now() - started) / 1000),
        machine: machineFacts(),
      },
      measuredAt: new Date().toISOString(),
    }
    writeBenchResult(file)
    console.log(`scale.prune.disk  ours ${peak} B peak after the window   baseline ${unpruned} B unpruned   ratio ${file.ratio}   flat: ${flat} (max/round-15 = ${file.params.maxOverWindowOverRound15})`)
    if (!flat) process.exitCode = 1
  } finally {
    rmSync(dir, { recursive: true, force: true })
    rmSync(baselineDir, { recursive: true, force: true })
  }
}

await main()
