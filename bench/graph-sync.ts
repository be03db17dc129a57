// graph.sync.gun — sync throughput between two peers over loopback WebSocket: N key writes on peer A
// (one put per key, each system's own write call) until every one is readable on peer B.
//   ours:     Coop peer A (in-memory GraphStore + mesh) → ws → Coop relay B (startGraphRelay, in memory)
//   baseline: gun peer A (gun from npm)                  → ws → gun server B (Gun({ web }), in memory)
// Same process, same durability (memory only: gun radisk/localStorage off, Coop without a path), same
// workload (fixed seed: N keys over N/100 souls, values are short strings and numbers). The clock
// stops when B holds every key with A's value (counted by B's own change feed: the store's `change`
// event for Coop, gun's `put` hook — the one storage adapters use — for gun), then a full check.
// Writes bench/results/graph.sync.gun.json (keys/s, better: higher).
import { mkdirSync } from 'node:fs'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { machineFacts, writeBenchResult } from './results-file.ts'

import { GraphMesh, GraphStore, connectGraphWebSocket, createStateClock, startGraphRelay, type Graph, type Value } from '@coop/graph'

const require = createRequire(import.meta.url)
const KEYS = Number(process.env.GRAPH_SYNC_KEYS ?? 100_000)
const KEYS_PER_SOUL = 100
const SEED = 20_261_121
const TIMEOUT_MS = Number(process.env.GRAPH_SYNC_TIMEOUT_MS ?? 600_000)

type Write = { soul: string; key: string; value: Value }

/** The workload: KEYS writes, deterministic (mulberry32 on SEED). */
function workload(): Write[] {
  let seed = SEED
  const random = (): number => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = seed
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const writes: Write[] = []
  for (let i = 0; i < KEYS; i++) {
    const value: Value = random() < 0.5 ? `v${Math.floor(random() * 1e9).toString(36)}` : Math.floor(random() * 1e6)
    writes.push({ soul: `bench/${Math.floor(i / KEYS_PER_SOUL)}`, key: `k${i % KEYS_PER_SOUL}`, value })
  }
  return writes
}

function waitUntil(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (check()) return resolve()
      if (Date.now() > deadline) return reject(new Error(`timed out: ${what}`))
      setTimeout(poll, 5)
    }
    poll()
  })
}

async function runCoop(writes: Write[]): Promise<number> {
  const relay = await startGraphRelay({})
  const store = await GraphStore.open()
  const mesh = new GraphMesh({ store })
  const link = connectGraphWebSocket({ mesh, url: relay.url })
  await link.whenConnected()
  await waitUntil(() => relay.mesh.linkStates().some((state) => state.connected), 'link up')
  let received = 0
  const seen = new Set<string>()
  relay.store.on('change', (applied) => {
    for (const soul in applied) for (const key in applied[soul]!._['>']) if (soul.startsWith('bench/')) seen.add(`${soul}\u0000${key}`)
    received = seen.size
  })
  const state = createStateClock()
  const started = performance.now()
  for (const { soul, key, value } of writes) {
    const delta: Graph = { [soul]: { _: { '#': soul, '>': { [key]: state() } }, [key]: value } }
    void mesh.put(delta)
  }
  await waitUntil(() => received >= writes.length, 'B has every key')
  for (const { soul, key, value } of writes) if (relay.store.value(soul, key) !== value) throw new Error(`Coop B: ${soul}.${key} wrong`)
  const seconds = (performance.now() - started) / 1000
  link.close()
  mesh.close()
  await store.close()
  await relay.close()
  return writes.length / seconds
}

async function runGun(writes: Write[]): Promise<number> {
  const Gun = require('gun')
  const dir = join(tmpdir(), `coop-bench-gun-${process.pid}`)
  mkdirSync(dir, { recursive: true })
  const http = createServer()
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const port = (http.address() as AddressInfo).port
  const options = { multicast: false, axe: false, radisk: false, localStorage: false, stats: false }
  const b = Gun({ ...options, web: http, file: join(dir, 'b') })
  let received = 0
  const seen = new Set<string>()
  b._.on('put', function (this: { to: { next(msg: unknown): void } }, msg: { put: { '#': string; '.': string } }) {
    this.to.next(msg)
    if (msg.put['#'].startsWith('bench/')) seen.add(`${msg.put['#']}\u0000${msg.put['.']}`)
    received = seen.size
  })
  const a = Gun({ ...options, peers: [`http://127.0.0.1:${port}/gun`], file: join(dir, 'a') })
  let ready = false
  b._.on('put', function (this: { to: { next(msg: unknown): void } }, msg: { put: { '#': string } }) {
    this.to.next(msg)
    if (msg.put['#'] === 'ready') ready = true
  })
  a.get('ready').put({ at: 1 })
  await waitUntil(() => ready, 'gun link up')
  const started = performance.now()
  for (const { soul, key, value } of writes) a.get(soul).get(key).put(value)
  await waitUntil(() => received >= writes.length, 'gun B has every key')
  const graph = b.back(-1)._.graph
  for (const { soul, key, value } of writes) if (graph[soul]?.[key] !== value) throw new Error(`gun B: ${soul}.${key} wrong`)
  const seconds = (performance.now() - started) / 1000
  http.closeAllConnections()
  http.close()
  return writes.length / seconds
}

const writes = workload()
const ours = await runCoop(writes)
console.log(`graph.sync: Coop ↔ Coop ${Math.round(ours).toLocaleString('en')} keys/s`)
const baseline = await runGun(writes)
console.log(`graph.sync: gun ↔ gun   ${Math.round(baseline).toLocaleString('en')} keys/s`)
const ratio = Math.round((ours / baseline) * 1000) / 1000
console.log(`graph.sync.gun: ${ratio}× (target ≥ 3×)`)

const result = {
  id: 'graph.sync.gun',
  metric: 'sync throughput: key writes on peer A until readable on peer B, two peers over loopback WebSocket, in memory',
  unit: 'keys/s',
  ours: Math.round(ours),
  baseline: Math.round(baseline),
  baselineName: 'gun 0.2020.1241 ↔ gun (npm), same process, radisk/localStorage off',
  ratio,
  better: 'higher',
  params: {
    keys: KEYS,
    keysPerSoul: KEYS_PER_SOUL,
    souls: Math.ceil(KEYS / KEYS_PER_SOUL),
    writeCall: 'one put per key: Coop mesh.put({soul: {key}}), gun a.get(soul).get(key).put(value)',
    transport: 'ws over 127.0.0.1, A dials B',
    seed: SEED,
    node: process.version,
    ...machineFacts(),
  },
  measuredAt: new Date().toISOString(),
}
writeBenchResult(result)
process.exit(0) // gun keeps timers alive
