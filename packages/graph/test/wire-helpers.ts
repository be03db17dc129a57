// Shared by the wire tests: real gun peers, libp2p nodes, Coop peers and a poll helper. 127.0.0.1 only.
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2p } from 'libp2p'

import { GraphStore } from '../src/graph-store.ts'
import type { Graph, GraphNode, Value } from '../src/types.ts'
import { GraphMesh, type GraphMeshOptions } from '../src/wire/mesh.ts'

const require = createRequire(import.meta.url)

/** gun as published on npm, unmodified. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type GunChain = any
export const Gun: (options: Record<string, unknown>) => GunChain = require('gun')

// gun has no close(): its housekeeping timers (dedup sweeps every 9 s, its server's 20 s heartbeat)
// keep a test process alive long after the tests end. Timers are recorded here (gun's own setTimeout
// helpers, attached to the global function, are carried over) and `releaseTimers()` unrefs the
// leftovers (and any started later) once a file's cleanups ran, so the process can exit.
const pendingTimers = new Set<NodeJS.Timeout>()
let released = false
const originalSetTimeout = globalThis.setTimeout
const trackingSetTimeout = function (this: unknown, callback: (...args: unknown[]) => void, delay?: number, ...args: unknown[]) {
  const timer: NodeJS.Timeout = originalSetTimeout(
    (...callArgs: unknown[]) => {
      pendingTimers.delete(timer)
      callback(...callArgs)
    },
    delay,
    ...args,
  )
  if (released) timer.unref()
  else pendingTimers.add(timer)
  return timer
}
Object.assign(trackingSetTimeout, originalSetTimeout)
globalThis.setTimeout = trackingSetTimeout as unknown as typeof setTimeout

export function releaseTimers(): void {
  released = true // and the timers gun starts while its sockets wind down
  for (const timer of pendingTimers) timer.unref()
  pendingTimers.clear()
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `coop-${prefix}-`))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

/** A gun peer that connects to `urls` (no multicast, no AXE, no storage: memory only). */
export function gunPeer(urls: string[], dir: string, extra: Record<string, unknown> = {}): GunChain {
  return Gun({ peers: urls.map((url) => url.replace(/^ws/, 'http')), multicast: false, axe: false, radisk: false, localStorage: false, stats: false, file: join(dir, 'gun-data'), ...extra })
}

/** Closes a gun peer's sockets (gun has no close(); its peers' wires are ws sockets). */
export function closeGun(gun: GunChain): void {
  const root = gun.back(-1)._
  const peers = root.opt.peers ?? {}
  for (const id of Object.keys(peers)) {
    const peer = peers[id]
    delete peers[id] // stops gun's reconnect loop (it checks opt.peers[url])
    try {
      clearTimeout(peer.defer)
      peer.wire?.terminate?.()
      peer.wire?.close?.()
    } catch {
      // already closed
    }
  }
}

/** A Coop peer: an in-memory (or durable) store and its mesh. */
export async function coopPeer(options: { path?: string; mesh?: Omit<GraphMeshOptions, 'store'> } = {}): Promise<{ store: GraphStore; mesh: GraphMesh; close(): Promise<void> }> {
  const store = await GraphStore.open(options.path === undefined ? {} : { path: options.path })
  const mesh = new GraphMesh({ ...options.mesh, store })
  return {
    store,
    mesh,
    async close() {
      mesh.close()
      await store.close()
    },
  }
}

export async function libp2pNode(): Promise<Libp2p> {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
  })
}

/** Polls `check` until it returns true (or throws after `timeoutMs` with `what`). */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** One-key put delta. */
export function one(soul: string, key: string, value: Value, state: number): Graph {
  return { [soul]: { _: { '#': soul, '>': { [key]: state } }, [key]: value } as GraphNode }
}

/** gun's `once` as a promise (resolves with the node or key value gun has). */
export function gunOnce(chain: GunChain): Promise<unknown> {
  return new Promise((resolve) => chain.once((data: unknown) => resolve(data)))
}

/** The value of `soul.key` in a gun peer's in-memory graph. */
export function gunValue(gun: GunChain, soul: string, key: string): unknown {
  const node = gun.back(-1)._.graph[soul]
  return node === undefined ? undefined : node[key]
}
