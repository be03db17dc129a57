// A relay peer: a GraphStore (durable with storePath), the wire mesh, the WebSocket endpoint
// ws://host:port/path that GUN and Coop peers connect to, and outbound links to `peers`.
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'

import { GraphStore } from './graph-store.ts'
import type { RelayPolicy } from './trust/relay-policy.ts'
import type { GraphStoreOptions } from './types.ts'
import { admitSignedUserWrites, admitTrustedWrites, gateWrites } from './wire/admission.ts'
import { GraphMesh, type GraphMeshOptions } from './wire/mesh.ts'
import type { BackoffOptions } from './wire/reconnect.ts'
import { connectGraphWebSocket, type GraphWebSocketPeer } from './wire/websocket-client.ts'
import { listenGraphWebSocket, type GraphWebSocketServer } from './wire/websocket-server.ts'

export interface GraphRelayOptions {
  /** Default 0: a free port (read it from the result). */
  port?: number
  /** Default 127.0.0.1. */
  host?: string
  /** Default '/gun'. */
  path?: string
  /** Peers to keep connected to (ws:// or http:// URLs of GUN or Coop peers). */
  peers?: string[]
  /** SQLite file for the graph; absent: in memory. */
  storePath?: string
  /**
   * Further store options (clock, limits …). `verify` replaces the relay's own check of in-process
   * writes (by default sea.userGraphVerifier(); writes from peers are checked by the mesh either way).
   */
  store?: Omit<GraphStoreOptions, 'path'>
  /**
   * Default true: writes to user graphs (`~pub` souls, alias lists, content-addressed souls) are
   * stored only when verifiably signed (SEA); a forged or unsigned one is refused with an err ack
   * (BAD_SIGNATURE) naming it, the rest of the put stored. `false` turns this off (like gun without
   * SEA) — for tests of the raw wire only.
   */
  verifyUserGraphs?: boolean
  /**
   * Trust relay (seed 004 §4.3): store — and so relay — only writes signed by keys whose weighted
   * trust is at least `minWeight` (public data only with `relayPublic`). Refused keys get an err ack
   * (UNTRUSTED, or BAD_SIGNATURE for forgeries) naming them; the allowed part is stored and passed on.
   */
  trust?: RelayPolicy
  /** Mesh options (limits, strikes …). */
  mesh?: Omit<GraphMeshOptions, 'store'>
  backoff?: BackoffOptions
  heartbeatMs?: number
}

export interface GraphRelay {
  /** ws://host:port/path */
  readonly url: string
  readonly port: number
  readonly store: GraphStore
  readonly mesh: GraphMesh
  readonly server: GraphWebSocketServer
  readonly peers: GraphWebSocketPeer[]
  /** Keeps a link to one more peer. */
  addPeer(url: string): GraphWebSocketPeer
  close(): Promise<void>
}

export async function startGraphRelay(options: GraphRelayOptions = {}): Promise<GraphRelay> {
  // The mesh admits peers' writes (and names what it refuses in its acks); the store's verify lets
  // those admitted deltas through unchecked and verifies any other put made on it in-process.
  const gate =
    options.trust !== undefined ? gateWrites(admitTrustedWrites(options.trust)) : options.verifyUserGraphs === false ? undefined : gateWrites(admitSignedUserWrites())
  const verify = options.store?.verify ?? gate?.verify
  const admit = options.mesh?.admit ?? gate?.admit
  const store = await GraphStore.open({
    ...options.store,
    ...(verify === undefined ? {} : { verify }),
    ...(options.storePath === undefined ? {} : { path: options.storePath }),
  })
  // A durable relay keeps its mesh id across restarts: peers then know it still has what it acked
  // and resend only what changed while it was down. (An in-memory relay is a new peer every start.)
  const pid = options.mesh?.pid ?? (options.storePath === undefined ? undefined : loadOrCreatePid(`${options.storePath}.peer-id`))
  const mesh = new GraphMesh({ ...options.mesh, store, ...(pid === undefined ? {} : { pid }), ...(admit === undefined ? {} : { admit }) })
  let server: GraphWebSocketServer
  try {
    server = await listenGraphWebSocket({
      mesh,
      ...(options.port === undefined ? {} : { port: options.port }),
      ...(options.host === undefined ? {} : { host: options.host }),
      ...(options.path === undefined ? {} : { path: options.path }),
      ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
    })
  } catch (error) {
    mesh.close()
    await store.close()
    throw error
  }
  const peers: GraphWebSocketPeer[] = []
  const addPeer = (url: string): GraphWebSocketPeer => {
    const peer = connectGraphWebSocket({ mesh, url, ...(options.backoff === undefined ? {} : { backoff: options.backoff }) })
    peers.push(peer)
    return peer
  }
  for (const url of options.peers ?? []) addPeer(url)
  let closing: Promise<void> | undefined
  return {
    url: server.url,
    port: server.port,
    store,
    mesh,
    server,
    peers,
    addPeer,
    close() {
      closing ??= (async () => {
        for (const peer of peers) peer.close()
        mesh.close()
        await server.close()
        await store.close()
      })()
      return closing
    },
  }
}

function loadOrCreatePid(file: string): string {
  try {
    const pid = readFileSync(file, 'utf8').trim()
    if (/^[A-Za-z0-9_-]{8,64}$/.test(pid)) return pid
  } catch {
    // first start
  }
  const pid = randomBytes(12).toString('base64url')
  writeFileSync(file, `${pid}\n`)
  return pid
}
