// A relay peer: a GraphStore (durable with storePath), the wire mesh, the WebSocket endpoint
// ws://host:port/path that GUN and Coop peers connect to, and outbound links to `peers`.
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'

import { GraphStore } from './graph-store.ts'
import type { GraphStoreOptions } from './types.ts'
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
  /** Further store options (clock, verify, limits …). */
  store?: Omit<GraphStoreOptions, 'path'>
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
  const store = await GraphStore.open({ ...options.store, ...(options.storePath === undefined ? {} : { path: options.storePath }) })
  // A durable relay keeps its mesh id across restarts: peers then know it still has what it acked
  // and resend only what changed while it was down. (An in-memory relay is a new peer every start.)
  const pid = options.mesh?.pid ?? (options.storePath === undefined ? undefined : loadOrCreatePid(`${options.storePath}.peer-id`))
  const mesh = new GraphMesh({ ...options.mesh, store, ...(pid === undefined ? {} : { pid }) })
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
