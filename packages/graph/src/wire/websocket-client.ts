// A WebSocket connection to another peer (GUN relay or Coop peer) that stays up: reconnects with
// backoff, and every reconnect is a fresh attach to the mesh — which resyncs what changed since the
// other side's last acknowledged state and re-issues our gets.
import { WebSocket } from 'ws'

import { GraphError } from '../errors.ts'
import type { GraphMesh, MeshPeer } from './mesh.ts'
import { KeepConnected, type BackoffOptions, type DialedConnection } from './reconnect.ts'
import { webSocketTransport, wireSocket } from './websocket-server.ts'

export interface GraphWebSocketPeerOptions {
  mesh: GraphMesh
  /** ws://…/gun (http:// is accepted, like GUN's `peers`). */
  url: string
  backoff?: BackoffOptions
  /** Give up an attempt after this long, ms (default 10 s). */
  connectTimeoutMs?: number
  /** Ping interval; no pong by the next ping drops the connection (then reconnects). Default 10 s. */
  heartbeatMs?: number
  /** Frames larger than this close the connection; default 4 × the mesh's frame limit. */
  hardMaxFrameBytes?: number
  onError?: (error: unknown) => void
}

export type GraphWebSocketPeer = KeepConnected<MeshPeer> & { readonly url: string }

/** Connects (and keeps connecting) to `url`. Returns at once; `whenConnected()` waits for the link. */
export function connectGraphWebSocket(options: GraphWebSocketPeerOptions): GraphWebSocketPeer {
  const url = toWebSocketUrl(options.url)
  const keeper = new KeepConnected<MeshPeer>(() => dialWebSocket(url, options), {
    ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
    ...(options.onError === undefined ? {} : { onError: options.onError }),
  })
  return Object.assign(keeper, { url })
}

export function toWebSocketUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch (cause) {
    throw new GraphError('UNREACHABLE', 'peer URL is not a URL', { details: { url }, cause })
  }
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:'
  else if (parsed.protocol === 'https:') parsed.protocol = 'wss:'
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') throw new GraphError('UNREACHABLE', 'peer URL must be ws(s):// or http(s)://', { details: { url } })
  return parsed.toString()
}

function dialWebSocket(url: string, options: GraphWebSocketPeerOptions): Promise<DialedConnection<MeshPeer>> {
  const { mesh } = options
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, {
      handshakeTimeout: options.connectTimeoutMs ?? 10_000,
      maxPayload: options.hardMaxFrameBytes ?? mesh.limits.maxFrameBytes * 4,
      perMessageDeflate: false,
    })
    const failed = (error: unknown): void => {
      socket.removeAllListeners()
      socket.on('error', () => {})
      socket.terminate()
      reject(new GraphError('UNREACHABLE', 'could not connect to the peer', { details: { url }, cause: error }))
    }
    socket.once('error', failed)
    socket.once('unexpected-response', (_request, response) => failed(new Error(`HTTP ${response.statusCode}`)))
    socket.once('open', () => {
      socket.off('error', failed)
      socket.removeAllListeners('unexpected-response')
      if (mesh.closed) return failed(new GraphError('CLOSED', 'The mesh is closed'))
      const peer = mesh.attach(webSocketTransport(socket), { direction: 'outbound', remote: url })
      wireSocket(socket, mesh, peer)
      let alive = true
      socket.on('pong', () => {
        alive = true
      })
      const heartbeat = setInterval(() => {
        if (!alive) {
          socket.terminate()
          return
        }
        alive = false
        socket.ping()
      }, options.heartbeatMs ?? 10_000)
      heartbeat.unref()
      const closed = new Promise<void>((done) =>
        socket.once('close', () => {
          clearInterval(heartbeat)
          done()
        }),
      )
      resolve({ peer, closed, kill: () => socket.terminate(), close: () => socket.close(1000, 'closing') })
    })
  })
}
