// One system on one workload, in a process of its own (started by bench/graph-map.ts with
// --expose-gc) so that heaps of different systems never mix. Writes its measurement as JSON to the
// path given as the third argument.
//
//   node --expose-gc --import tsx bench/graph/run-workload.ts <coop|coop-put|gun|yjs> <a|b|c> <out.json> [size]
//
// size: for (a) the number of sets (a prefix of the 1M), for (c) the number of keys (a prefix of
// the 100k); only gun is ever run on less, and the orchestrator records it.
import { writeFileSync } from 'node:fs'
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises'

import { coopSystem } from './systems/coop.ts'
import { gunSystem } from './systems/gun.ts'
import type { MapReader, MapReplica, MapSystem } from './systems/types.ts'
import { yjsSystem } from './systems/yjs.ts'
import { PARAMS, type WorkloadName, type WorkloadResult } from './params.ts'
import { workloadA, workloadB, workloadC, type MapValue } from './workloads.ts'

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with node --expose-gc')

/** Writers yield to the event loop after every this many sets (a writer that lets the system work). */
const YIELD_EVERY = 1000
/** How long a system may take after its calls returned until the writes are readable. */
const READABLE_TIMEOUT_MS = 10 * 60_000

/**
 * Runs every path once on throwaway replicas before the heap baseline, so that the baseline already
 * holds the system's compiled code and one-time state: the memory measured is the map's, not the
 * code's (which would be hundreds of bytes per key on the 9k-key map of (b)).
 */
async function warmUp(system: MapSystem): Promise<void> {
  const x = await system.replica(9_000_001)
  const y = await system.replica(9_000_002)
  const sets = Array.from({ length: 200 }, (_, i) => [`warm${i % 50}`, i % 2 ? i : `w${i}`] as const)
  await writeAll(x, sets)
  await writeAll(y, sets.map(([key, value]) => [`other.${key}`, value] as const))
  const last = new Map<string, MapValue>(sets)
  await untilReadable(system, x, expectValues(last), false)
  await y.merge([x.exportState()])
  await untilReadable(system, y, expectValues(last))
  await x.close()
  await y.close()
}

function heapAfterGc(): number {
  gc!()
  gc!()
  return process.memoryUsage().heapUsed
}

/**
 * Until `matches(read)` holds: the one read for synchronous systems; for asynchronous ones, polled
 * (through `peek` when the system has one, then confirmed through `read`). `confirm: false` only
 * peeks (setup steps that are not measured, so that no read leaves a trace in the replica).
 */
async function untilReadable(
  system: MapSystem,
  replica: MapReplica,
  matches: (read: MapReader) => string | undefined,
  confirm = true,
): Promise<number> {
  const deadline = performance.now() + READABLE_TIMEOUT_MS
  let reads = 0
  let peeking = replica.peek !== undefined
  for (;;) {
    reads++
    const mismatch = matches(peeking ? replica.peek!() : await replica.read())
    if (mismatch === undefined) {
      if (!peeking || !confirm) return reads
      peeking = false // applied: now the read the application would make must show it
      continue
    }
    if (!system.writesAreAsync) throw new Error(`${system.name}: not readable once its writes returned: ${mismatch}`)
    if (process.env.GRAPH_BENCH_DEBUG && reads % 200 === 0) console.error(`${system.name}: read ${reads}: ${mismatch}`)
    if (performance.now() > deadline) throw new Error(`${system.name}: still not readable after ${READABLE_TIMEOUT_MS} ms: ${mismatch}`)
    await sleep(5)
  }
}

function expectValues(expected: Map<string, MapValue>): (read: MapReader) => string | undefined {
  return (read) => {
    for (const [key, value] of expected) {
      const got = read(key)
      if (got !== value) return `${key}: expected ${JSON.stringify(value)}, read ${JSON.stringify(got)}`
    }
    return undefined
  }
}

async function writeAll(replica: MapReplica, sets: Iterable<readonly [string, MapValue]>): Promise<void> {
  let n = 0
  for (const [key, value] of sets) {
    const pending = replica.set(key, value)
    if (pending !== undefined) await pending
    if (++n % YIELD_EVERY === 0) await yieldToLoop()
  }
}

function* setsOfA(keys: string[], keyOf: Uint32Array, values: MapValue[], count: number): Generator<readonly [string, MapValue]> {
  for (let i = 0; i < count; i++) yield [keys[keyOf[i]!]!, values[i]!] as const
}

async function runA(system: MapSystem, sets: number): Promise<WorkloadResult> {
  const w = workloadA(PARAMS.a.sets, PARAMS.a.keys)
  const final = new Map<string, MapValue>()
  for (let i = 0; i < sets; i++) final.set(w.keys[w.keyOf[i]!]!, w.values[i]!)
  await warmUp(system)
  const base = heapAfterGc()
  const replica = await system.replica(0)
  const t0 = performance.now()
  await writeAll(replica, setsOfA(w.keys, w.keyOf, w.values, sets))
  const returned = performance.now() - t0
  const reads = await untilReadable(system, replica, expectValues(final))
  const ms = performance.now() - t0
  const heap = heapAfterGc() - base
  await replica.close()
  return { system: system.name, workload: 'a', ops: sets, ms, liveKeys: final.size, heapBytes: heap, detail: { callsReturnedMs: returned, readsUntilReadable: reads } }
}

async function runB(system: MapSystem): Promise<WorkloadResult> {
  const w = workloadB(PARAMS.b.clients, PARAMS.b.ownKeys)
  await warmUp(system)
  const base = heapAfterGc()
  const target = await system.replica(0)
  const clients: MapReplica[] = []
  for (let i = 0; i < w.clients.length; i++) clients.push(await system.replica(i + 1))
  const t0 = performance.now()
  // Every client writes its keys ...
  for (let i = 0; i < clients.length; i++) await writeAll(clients[i]!, w.clients[i]!.sets)
  // ... and, once its writes are applied, ships its state; the target merges them all.
  const states: unknown[] = []
  for (let i = 0; i < clients.length; i++) {
    const own = new Map(w.clients[i]!.sets.slice(1))
    await untilReadable(system, clients[i]!, expectValues(own), false)
    states.push(clients[i]!.exportState())
  }
  const tMerge = performance.now()
  await target.merge(states)
  const sharedValues = new Set(w.clients.map((_, i) => i))
  const reads = await untilReadable(system, target, (read) => {
    const shared = read(w.sharedKey)
    if (typeof shared !== 'number' || !sharedValues.has(shared)) return `${w.sharedKey}: read ${JSON.stringify(shared)}`
    return expectValues(w.own)(read)
  })
  const t1 = performance.now()
  const sharedWinner = (await target.read())(w.sharedKey)
  states.length = 0
  for (const client of clients) await client.close()
  // Emptied in place: a suspended async frame may still hold the array (or an iterator over it).
  clients.length = 0
  const heap = heapAfterGc() - base
  await target.close()
  return {
    system: system.name,
    workload: 'b',
    ops: w.sets,
    ms: t1 - t0,
    liveKeys: w.liveKeys,
    heapBytes: heap,
    detail: { writeAndShipMs: tMerge - t0, mergeMs: t1 - tMerge, readsUntilReadable: reads, sharedKeyWinner: sharedWinner },
  }
}

async function runC(system: MapSystem, keyCount: number): Promise<WorkloadResult> {
  const w = workloadC(keyCount)
  await warmUp(system)
  const base = heapAfterGc()
  const a = await system.replica(0)
  let b: MapReplica | undefined = await system.replica(1)
  // Divergence (not timed): for each key, the replica the coin names writes first, then the other.
  let n = 0
  for (let i = 0; i < w.keys.length; i++) {
    const key = w.keys[i]!
    const first = w.bLater[i] ? a : b
    const second = w.bLater[i] ? b : a
    for (const [replica, value] of [
      [first, first === a ? w.valuesA[i]! : w.valuesB[i]!],
      [second, second === a ? w.valuesA[i]! : w.valuesB[i]!],
    ] as const) {
      const pending = replica.set(key, value)
      if (pending !== undefined) await pending
    }
    if (++n % YIELD_EVERY === 0) await yieldToLoop()
  }
  const ownA = new Map(w.keys.map((k, i) => [k, w.valuesA[i]!]))
  const ownB = new Map(w.keys.map((k, i) => [k, w.valuesB[i]!]))
  await untilReadable(system, a, expectValues(ownA), false)
  await untilReadable(system, b, expectValues(ownB), false)
  ownA.clear()
  ownB.clear()
  // The merge, timed: ship B's state, merge it into A, until A reads the merged map.
  const t0 = performance.now()
  await a.merge([b.exportState()])
  let lwwWins = 0
  const reads = await untilReadable(system, a, (read) => {
    lwwWins = 0
    for (let i = 0; i < w.keys.length; i++) {
      const got = read(w.keys[i]!)
      if (got !== w.valuesA[i] && got !== w.valuesB[i]) return `${w.keys[i]}: read ${JSON.stringify(got)}`
      if (got === (w.bLater[i] ? w.valuesB[i] : w.valuesA[i])) lwwWins++
    }
    // HAM systems must pick the later write on every key; a system with another rule just must converge.
    if (system.name !== 'yjs' && lwwWins !== w.keys.length) return `only ${lwwWins} keys hold the later write`
    return undefined
  })
  const ms = performance.now() - t0
  // Convergence check (not timed): B merges A's result and must read the same map.
  await b.merge([a.exportState()])
  const readA = await a.read()
  await untilReadable(system, b, (readB) => {
    for (const key of w.keys) if (readB(key) !== readA(key)) return `${key}: replicas differ after merging both ways`
    return undefined
  })
  await b.close()
  b = undefined
  const heap = heapAfterGc() - base
  await a.close()
  return { system: system.name, workload: 'c', ops: w.keys.length, ms, liveKeys: w.keys.length, heapBytes: heap, detail: { readsUntilReadable: reads, laterWriteWins: lwwWins } }
}

async function main() {
  const [name, workload, out, sizeArg] = process.argv.slice(2) as [string, WorkloadName, string, string | undefined]
  const system = name === 'coop' ? coopSystem('set') : name === 'coop-put' ? coopSystem('put') : name === 'gun' ? gunSystem() : name === 'yjs' ? yjsSystem() : undefined
  if (system === undefined || !out) throw new Error('usage: run-workload.ts <coop|coop-put|gun|yjs> <a|b|c> <out.json> [size]')
  const size = (fallback: number) => (sizeArg === undefined ? fallback : Number(sizeArg))
  const result =
    workload === 'a' ? await runA(system, size(PARAMS.a.sets)) : workload === 'b' ? await runB(system) : await runC(system, size(PARAMS.c.keys))
  result.describe = system.describe()
  writeFileSync(out, JSON.stringify(result))
  // gun keeps timers alive; the measurement is written.
  process.exit(0)
}

await main()
