// GUN's WebSocket endpoint: an HTTP server whose upgrade path (default /gun) speaks the wire
// protocol to every client (GUN peers, Coop peers). Frames above the mesh's limit but under the
// hard cap are refused with a typed error and the connection kept; above the hard cap `ws` closes
// the connection (1009) without buffering the frame. Dead clients are found by ping/pong.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

import { WebSocketServer, type WebSocket } from 'ws'

import type { GraphMesh, MeshPeer, WireTransport } from './mesh.ts'

export interface GraphWebSocketServerOptions {
  mesh: GraphMesh
  /** Default 0: a free port. */
  port?: number
  /** Default 127.0.0.1. */
  host?: string
  /** Default '/gun' (GUN's). */
  path?: string
  /** Frames larger than this close the connection; default 4 × the mesh's frame limit. */
  hardMaxFrameBytes?: number
  /** Ping interval; a client that missed a pong by the next ping is dropped. Default 20 s. */
  heartbeatMs?: number
}

export interface GraphWebSocketServer {
  /** ws://host:port/path */
  readonly url: string
  readonly port: number
  readonly http: Server
  /** Open client connections. */
  connections(): number
  close(): Promise<void>
}

export async function listenGraphWebSocket(options: GraphWebSocketServerOptions): Promise<GraphWebSocketServer> {
  const { mesh } = options
  const host = options.host ?? '127.0.0.1'
  const path = options.path ?? '/gun'
  const heartbeatMs = options.heartbeatMs ?? 20_000
  const http = createServer((request, response) => {
    response.writeHead(426, { 'content-type': 'text/plain' }).end(`Coop graph peer: open a WebSocket to ${path}\n`)
  })
  const wss = new WebSocketServer({
    server: http,
    path,
    maxPayload: options.hardMaxFrameBytes ?? mesh.limits.maxFrameBytes * 4,
    perMessageDeflate: false,
  })
  const alive = new WeakMap<WebSocket, boolean>()
  wss.on('connection', (socket) => {
    if (mesh.closed) {
      socket.close(1001, 'peer closing')
      return
    }
    const peer = mesh.attach(webSocketTransport(socket), { direction: 'inbound' })
    alive.set(socket, true)
    socket.on('pong', () => alive.set(socket, true))
    wireSocket(socket, mesh, peer)
  })
  const heartbeat = setInterval(() => {
    for (const socket of wss.clients) {
      if (alive.get(socket) === false) {
        socket.terminate()
        continue
      }
      alive.set(socket, false)
      socket.ping()
    }
  }, heartbeatMs)
  heartbeat.unref()

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(options.port ?? 0, host, () => {
      http.off('error', reject)
      resolve()
    })
  })
  const port = (http.address() as AddressInfo).port
  return {
    url: `ws://${host}:${port}${path}`,
    port,
    http,
    connections: () => wss.clients.size,
    async close() {
      clearInterval(heartbeat)
      for (const socket of wss.clients) socket.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      await new Promise<void>((resolve) => http.close(() => resolve()))
      http.closeAllConnections()
    },
  }
}

/** Bytes a peer may leave unread in our send buffer before it is dropped as too slow (64 MiB). */
export const MAX_BUFFERED_BYTES = 64 * 1024 * 1024

/** The mesh's view of a ws socket (used by the server and the client). */
export function webSocketTransport(socket: WebSocket): WireTransport {
  return {
    kind: 'websocket',
    send(frame) {
      if (socket.readyState !== socket.OPEN) return
      if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
        socket.close(1013, 'peer reads too slowly')
        return
      }
      socket.send(frame)
    },
    close(code, reason) {
      if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) socket.close(code, reason)
    },
    pause: () => socket.pause(),
    resume: () => socket.resume(),
  }
}

/** Feeds a socket's frames to the mesh and detaches the peer when it closes. */
export function wireSocket(socket: WebSocket, mesh: GraphMesh, peer: MeshPeer): void {
  socket.on('message', (data) => {
    const frame = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data
    mesh.receive(peer, frame)
  })
  socket.on('close', () => mesh.detach(peer))
  socket.on('error', () => {
    // 'close' follows; ws reports oversized frames (1009) and protocol errors here
  })
}
