// Map throughput and memory of the Coop graph against gun and Yjs (issue 5; DESIGN.md "Map
// throughput"): the same three workloads, the same durability (all in memory), measured until every
// write is applied and readable, each system × workload in its own `node --expose-gc` process so
// heaps never mix. Writes bench/results/graph.{a,b,c}.{gun,yjs}.json and graph.mem.yjs.json.
//
// Workloads (fixed seeds, bench/graph/workloads.ts; sizes in bench/graph/params.ts):
// (a) one writer, 1,000,000 sets on 10,000 keys of one map (random keys, numbers and short strings);
// (b) crdt-benchmarks B3-style: 1,000 clients, each its own replica, each sets the shared key "v"
//     (B3.1's conflict) and 9 keys of its own, then every client's state is merged into one replica;
// (c) two replicas write the same 100,000 keys with different values (a seeded coin per key picks
//     which writes last), then B's state is merged into A.
// Timed: (a) first set → all 10k final values read back; (b) first client set → every client's
// state shipped, merged into the target and read back there; (c) export of B's state → merged
// into A and every key read back on A (the later write under HAM; Yjs: its own rule, and B merging
// A's result afterwards must read the same map — checked, not timed). ops/s = sets (a, b) or
// conflicting keys merged (c) per second. Writers yield to the event loop every 1,000 sets.
// Coop and Yjs run 3 times each, alternating, one process per run, and the median run counts
// (the machine is shared); gun runs once.
// Memory: heap after GC with the replica holding the map, minus the heap after GC before it
// existed, over the live keys (client replicas of (b) and replica B of (c) released first); every
// path runs once on throwaway replicas before the baseline and children run with
// --no-flush-bytecode, so compiled code is neither counted nor freed during the measurement.
//
// gun runs the first GUN_A_SETS sets of (a) only: it slows as it goes (≈15k sets/s over 20k sets,
// ≈3–7k/s over 100k here), so 1M would take far more than 3 minutes; its rate on the prefix is
// what is compared (conservative: the full run would be slower still). Coop and Yjs run all of it.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { machineFacts, writeBenchResult } from './results-file.ts'

import { PARAMS, type WorkloadName, type WorkloadResult } from './graph/params.ts'
import { SEEDS } from './graph/workloads.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const runner = join(root, 'bench', 'graph', 'run-workload.ts')
const tsxLoader = import.meta.resolve('tsx')
const gunDir = dirname(fileURLToPath(import.meta.resolve('gun')))

/** Runs of Coop and of Yjs per workload (alternating); the median run counts. */
const REPEATS = 3

/** The prefix of (a) gun runs (see the header). */
const GUN_A_SETS = 100_000

type SystemName = 'coop' | 'coop-put' | 'gun' | 'yjs'

const scratch = mkdtempSync(join(tmpdir(), 'coop-graph-map-'))

/** Runs one system on one workload in a fresh process whose working directory is an empty folder. */
function run(system: SystemName, workload: WorkloadName, size?: number): WorkloadResult {
  const cwd = mkdtempSync(join(scratch, `${system}-${workload}-`))
  const out = join(scratch, `${system}-${workload}.json`)
  const gunStatsBefore = gunStatsFiles()
  const started = performance.now()
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', '--no-flush-bytecode', '--import', tsxLoader, runner, system, workload, out, ...(size === undefined ? [] : [String(size)])],
    { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  )
  if (child.status !== 0) {
    throw new Error(`${system} ${workload} failed (exit ${child.status}):\n${child.stdout}\n${child.stderr}`)
  }
  const result = JSON.parse(readFileSync(out, 'utf8')) as WorkloadResult
  // Nothing on disk: the run's folder stays empty and gun's stats file does not appear or change.
  const left = readdirSync(cwd)
  const gunStatsAfter = gunStatsFiles()
  if (left.length > 0 || gunStatsAfter !== gunStatsBefore) {
    throw new Error(`${system} ${workload} wrote files: ${JSON.stringify({ left, gunStatsBefore, gunStatsAfter })}`)
  }
  result.detail.processSeconds = round((performance.now() - started) / 1000, 1)
  console.log(`  ${system.padEnd(8)} (${workload}) ${fmt(rate(result))} ops/s over ${result.ops} ops, ${fmt(bytesPerKey(result))} B/key  [${result.detail.processSeconds} s]`)
  return result
}

function gunStatsFiles(): string {
  return readdirSync(gunDir)
    .filter((name) => name.startsWith('stats.'))
    .map((name) => `${name}:${statSync(join(gunDir, name)).mtimeMs}`)
    .join(',')
}

/** The run with the median rate; its rate list goes into its detail. */
function median(runs: WorkloadResult[]): WorkloadResult {
  const sorted = [...runs].sort((x, y) => rate(x) - rate(y))
  const chosen = sorted[Math.floor(sorted.length / 2)]!
  return { ...chosen, detail: { ...chosen.detail, runsOpsPerSecond: runs.map((r) => Math.round(rate(r))), runsBytesPerKey: runs.map((r) => Math.round(bytesPerKey(r))) } }
}

const rate = (r: WorkloadResult) => r.ops / (r.ms / 1000)
const bytesPerKey = (r: WorkloadResult) => r.heapBytes / r.liveKeys
const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits
const fmt = (x: number) => Math.round(x).toLocaleString('en-US')

function summary(r: WorkloadResult, extra: Record<string, unknown> = {}) {
  return {
    ops: r.ops,
    ms: round(r.ms, 1),
    opsPerSecond: Math.round(rate(r)),
    liveKeys: r.liveKeys,
    heapBytes: r.heapBytes,
    bytesPerKey: Math.round(bytesPerKey(r)),
    ...extra,
    detail: r.detail,
  }
}

function main() {
  const t0 = performance.now()
  const machine = { ...machineFacts(), node: process.version }
  console.log(`graph map benches on ${machine.cpu} (${machine.cores} cores), node ${machine.node}`)
  const results: Record<WorkloadName, Partial<Record<SystemName, WorkloadResult>>> = { a: {}, b: {}, c: {} }
  for (const workload of ['a', 'b', 'c'] as const) {
    console.log(`workload (${workload})`)
    // Coop and Yjs alternate, REPEATS runs each, and the median counts: the machine is shared, so
    // a load spike during one run must not decide a ratio. gun (20× or more behind, minutes long) runs once.
    const runs: Record<'coop' | 'coop-put' | 'yjs', WorkloadResult[]> = { coop: [], 'coop-put': [], yjs: [] }
    for (let i = 0; i < REPEATS; i++) {
      runs.coop.push(run('coop', workload))
      if (workload === 'a') runs['coop-put'].push(run('coop-put', 'a'))
      runs.yjs.push(run('yjs', workload))
    }
    results[workload].coop = median(runs.coop)
    if (workload === 'a') results.a['coop-put'] = median(runs['coop-put'])
    results[workload].yjs = median(runs.yjs)
    results[workload].gun = run('gun', workload, workload === 'a' ? GUN_A_SETS : undefined)
  }
  rmSync(scratch, { recursive: true, force: true })

  const describe = {
    coop: results.a.coop!.describe,
    coopPutVariant: results.a['coop-put']!.describe,
    yjs: results.a.yjs!.describe,
    gun: results.a.gun!.describe,
  }
  const common = {
    workloads: {
      a: { ...PARAMS.a, seed: SEEDS.a, gunSets: GUN_A_SETS, gunNote: `gun runs the first ${GUN_A_SETS} of the ${PARAMS.a.sets} sets (same keys, values, order): its rate falls as it goes and 1M would take far more than 3 min; Coop and Yjs run all ${PARAMS.a.sets}` },
      b: { ...PARAMS.b, seed: SEEDS.b, setsPerClient: PARAMS.b.ownKeys + 1, sharedKey: 'v' },
      c: { ...PARAMS.c, seed: SEEDS.c },
    },
    measured: 'from the first call until every write is applied and read back through the system’s read API (DESIGN.md Map throughput); all in memory; writers yield to the event loop every 1,000 sets; one process per system, workload and run; Coop and Yjs: median of 3 alternating runs, gun: one run',
    noFiles: 'each run in an empty working directory that must stay empty; gun’s stats file must not appear (checked)',
    systems: describe,
    machine,
    seconds: 0,
  }
  const files: Array<Record<string, unknown>> = []
  const measuredAt = new Date().toISOString()
  for (const workload of ['a', 'b', 'c'] as const) {
    const ours = results[workload].coop!
    for (const baseline of ['gun', 'yjs'] as const) {
      const theirs = results[workload][baseline]!
      files.push({
        id: `graph.${workload}.${baseline}`,
        metric: `${{ a: 'sets/s, one writer, 1M sets on 10k keys', b: 'sets/s, 1,000 clients set keys of one map then merge into one replica (B3-style)', c: 'conflicting keys merged/s, two replicas diverged on 100k keys' }[workload]}, until applied and readable`,
        unit: 'ops/s',
        ours: Math.round(rate(ours)),
        baseline: Math.round(rate(theirs)),
        baselineName: baseline === 'gun' ? 'gun 0.2020.1241 (npm), same process, no peers, no storage' : 'Yjs 13.6.33 Y.Map, same process',
        ratio: round(rate(ours) / rate(theirs)),
        better: 'higher',
        params: {
          workload,
          ours: summary(ours),
          baseline: summary(theirs),
          ...(workload === 'a' ? { oursPutVariant: summary(results.a['coop-put']!) } : {}),
          ...common,
        },
        measuredAt,
      })
    }
  }
  // Memory: headline = the workload least favourable to Coop (smallest Yjs/Coop ratio); all three in params.
  const perWorkload = (['a', 'b', 'c'] as const).map((workload) => {
    const ours = bytesPerKey(results[workload].coop!)
    const yjs = bytesPerKey(results[workload].yjs!)
    return { workload, ours: Math.round(ours), yjs: Math.round(yjs), gun: Math.round(bytesPerKey(results[workload].gun!)), ratio: round(yjs / ours), liveKeys: results[workload].coop!.liveKeys }
  })
  const worst = perWorkload.reduce((a, b) => (b.ratio < a.ratio ? b : a))
  files.push({
    id: 'graph.mem.yjs',
    metric: 'heap after GC per live key of the replica holding the map (workload least favourable to Coop)',
    unit: 'bytes/key',
    ours: worst.ours,
    baseline: worst.yjs,
    baselineName: 'Yjs 13.6.33 Y.Map, same workload, same measurement',
    ratio: worst.ratio,
    better: 'lower',
    params: { headlineWorkload: worst.workload, perWorkload, note: 'gun (a) holds the map after its 100k-set prefix', ...common },
    measuredAt,
  })
  const seconds = round((performance.now() - t0) / 1000, 1)
  for (const file of files) {
    ;(file.params as { seconds: number }).seconds = seconds
    writeBenchResult(file as { id: string })
  }

  console.log('')
  console.log(`${'result'.padEnd(15)} ${'ours'.padStart(12)} ${'baseline'.padStart(12)} ${'unit'.padEnd(10)} ${'ratio'.padStart(8)}  target`)
  for (const file of files) {
    const target = file.id === 'graph.mem.yjs' ? 1 : String(file.id).endsWith('.gun') ? 5 : 1
    const ratio = file.ratio as number
    console.log(
      `${String(file.id).padEnd(15)} ${fmt(file.ours as number).padStart(12)} ${fmt(file.baseline as number).padStart(12)} ${String(file.unit).padEnd(10)} ${ratio.toFixed(2).padStart(8)}  ≥ ${target}× ${ratio >= target ? 'met' : 'NOT MET'}`,
    )
  }
  console.log(`memory per key (bytes): ${perWorkload.map((m) => `(${m.workload}) coop ${m.ours}, yjs ${m.yjs}, gun ${m.gun}`).join('; ')}`)
  console.log(`${seconds} s; results in bench/results/graph.{a,b,c}.{gun,yjs}.json, graph.mem.yjs.json`)
}

try {
  main()
} finally {
  if (existsSync(scratch)) rmSync(scratch, { recursive: true, force: true })
}
