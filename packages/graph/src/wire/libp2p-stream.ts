// The same wire protocol between Coop nodes over a libp2p stream (`/coop/graph/1.0.0`): one
// long-lived stream per link, each GUN JSON frame UTF-8 encoded behind a varint length prefix.
// Frames over the mesh's limit are skipped unread (typed TOO_LARGE, stream kept); a broken length
// prefix ends the stream. Writes respect the stream's backpressure; a heartbeat frame ("[]", as
// GUN's server sends) keeps the stream from the muxer's inactivity timeout.
import type { Connection, Stream, StreamHandler } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'

import { GraphError, isGraphError } from '../errors.ts'
import { LengthPrefixedDecoder, encodeLengthPrefixed } from './length-prefixed.ts'
import type { GraphMesh, MeshPeer, WireTransport } from './mesh.ts'
import { KeepConnected, type BackoffOptions, type DialedConnection } from './reconnect.ts'

export const GRAPH_PROTOCOL = '/coop/graph/1.0.0'

/** What we need from a libp2p node. */
export interface GraphLibp2pNode {
  handle(protocol: string, handler: StreamHandler, options?: { maxInboundStreams?: number; maxOutboundStreams?: number }): Promise<void>
  unhandle(protocol: string): Promise<void>
  dialProtocol(target: Multiaddr, protocol: string, options?: { signal?: AbortSignal }): Promise<Stream>
}

/** What we need from a Coop node's host (@coop/p2p CoopHost: its raw stream API). */
export interface GraphStreamHost {
  handleStream(protocol: string, handler: StreamHandler, options?: { maxInboundStreams?: number; maxOutboundStreams?: number }): Promise<void>
  unhandleStream(protocol: string): Promise<void>
  dialStream(peerMultiaddr: string, protocol: string, options?: { signal?: AbortSignal }): Promise<Stream>
}

/** A plain libp2p node or a CoopHost: both carry the graph protocol the same way. */
export type GraphStreamNode = GraphLibp2pNode | GraphStreamHost

function isStreamHost(node: GraphStreamNode): node is GraphStreamHost {
  return typeof (node as Partial<GraphStreamHost>).dialStream === 'function'
}

function handleGraphProtocol(node: GraphStreamNode, handler: StreamHandler, options: { maxInboundStreams: number }): Promise<void> {
  return isStreamHost(node) ? node.handleStream(GRAPH_PROTOCOL, handler, options) : node.handle(GRAPH_PROTOCOL, handler, options)
}

function unhandleGraphProtocol(node: GraphStreamNode): Promise<void> {
  return isStreamHost(node) ? node.unhandleStream(GRAPH_PROTOCOL) : node.unhandle(GRAPH_PROTOCOL)
}

function dialGraphProtocol(node: GraphStreamNode, target: Multiaddr, signal: AbortSignal): Promise<Stream> {
  return isStreamHost(node) ? node.dialStream(target.toString(), GRAPH_PROTOCOL, { signal }) : node.dialProtocol(target, GRAPH_PROTOCOL, { signal })
}

export interface GraphLibp2pOptions {
  /** Heartbeat interval, ms (default 20 s; yamux drops streams idle for 120 s). */
  heartbeatMs?: number
  /** Bytes queued behind backpressure before the stream is aborted (default 64 MiB). */
  maxQueuedBytes?: number
}

/** Serves the graph protocol on a libp2p node or a CoopHost: every inbound stream becomes an inbound mesh peer. */
export async function serveGraphOverLibp2p(node: GraphStreamNode, mesh: GraphMesh, options: GraphLibp2pOptions = {}): Promise<{ close(): Promise<void> }> {
  const streams = new Set<Stream>()
  await handleGraphProtocol(
    node,
    (stream: Stream, _connection: Connection) => {
      if (mesh.closed) {
        stream.abort(new Error('graph service closing'))
        return
      }
      streams.add(stream)
      const { closed } = attachStream(stream, mesh, 'inbound', undefined, options)
      void closed.then(() => streams.delete(stream))
    },
    { maxInboundStreams: 64 },
  )
  return {
    async close() {
      await unhandleGraphProtocol(node)
      for (const stream of streams) stream.abort(new Error('graph service closing'))
    },
  }
}

export interface GraphLibp2pPeerOptions extends GraphLibp2pOptions {
  backoff?: BackoffOptions
  dialTimeoutMs?: number
  onError?: (error: unknown) => void
}

export type GraphLibp2pPeer = KeepConnected<MeshPeer> & { readonly target: string }

/** Opens (and keeps re-opening, e.g. after either host was stopped and started) the graph stream to `target` (a multiaddr with /p2p/<peer id>). */
export function dialGraphOverLibp2p(node: GraphStreamNode, mesh: GraphMesh, target: string | Multiaddr, options: GraphLibp2pPeerOptions = {}): GraphLibp2pPeer {
  const address = typeof target === 'string' ? multiaddr(target) : target
  const remote = address.toString()
  const keeper = new KeepConnected<MeshPeer>(
    async () => {
      if (mesh.closed) throw new GraphError('CLOSED', 'The mesh is closed')
      let stream: Stream
      try {
        stream = await dialGraphProtocol(node, address, AbortSignal.timeout(options.dialTimeoutMs ?? 10_000))
      } catch (cause) {
        throw new GraphError('UNREACHABLE', 'could not open the graph stream', { details: { target: remote }, cause })
      }
      return attachStream(stream, mesh, 'outbound', remote, options)
    },
    {
      ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
      ...(options.onError === undefined ? {} : { onError: options.onError }),
    },
  )
  return Object.assign(keeper, { target: remote })
}

function attachStream(stream: Stream, mesh: GraphMesh, direction: 'inbound' | 'outbound', remote: string | undefined, options: GraphLibp2pOptions): DialedConnection<MeshPeer> {
  const maxQueuedBytes = options.maxQueuedBytes ?? 64 * 1024 * 1024
  const encoder = new TextEncoder()
  let queued: Uint8Array[] = []
  let queuedBytes = 0
  const write = (bytes: Uint8Array): void => {
    if (stream.status !== 'open' || stream.writeStatus !== 'writable') return
    if (queued.length > 0 || stream.writableNeedsDrain) {
      queued.push(bytes)
      queuedBytes += bytes.byteLength
      if (queuedBytes > maxQueuedBytes) stream.abort(new Error('graph stream: peer reads too slowly'))
      return
    }
    stream.send(bytes)
  }
  stream.addEventListener('drain', () => {
    const pending = queued
    queued = []
    queuedBytes = 0
    for (let i = 0; i < pending.length; i++) {
      if (stream.writableNeedsDrain) {
        queued = pending.slice(i)
        for (const bytes of queued) queuedBytes += bytes.byteLength
        return
      }
      stream.send(pending[i] as Uint8Array)
    }
  })
  const transport: WireTransport = {
    kind: 'libp2p',
    send: (frame) => write(encodeLengthPrefixed(encoder.encode(frame))),
    close: () => {
      void stream.close().catch(() => stream.abort(new Error('graph stream close failed')))
    },
    pause: () => stream.pause(),
    resume: () => stream.resume(),
  }
  const peer = mesh.attach(transport, remote === undefined ? { direction } : { direction, remote })
  const decoder = new LengthPrefixedDecoder(mesh.limits.maxFrameBytes)
  stream.addEventListener('message', (event) => {
    const data = event.data instanceof Uint8Array ? event.data : event.data.subarray()
    let chunks
    try {
      chunks = decoder.push(data)
    } catch (error) {
      if (isGraphError(error)) mesh.rejectFrame(peer, error)
      stream.abort(error instanceof Error ? error : new Error(String(error)))
      return
    }
    for (const chunk of chunks) {
      if ('frame' in chunk) mesh.receive(peer, chunk.frame)
      else mesh.rejectFrame(peer, new GraphError('TOO_LARGE', 'frame is larger than the limit', { details: { bytes: chunk.tooLarge, limit: mesh.limits.maxFrameBytes } }))
    }
  })
  const heartbeat = setInterval(() => write(encodeLengthPrefixed(encoder.encode('[]'))), options.heartbeatMs ?? 20_000)
  heartbeat.unref()
  const closed = new Promise<void>((resolve) => {
    stream.addEventListener('close', () => {
      clearInterval(heartbeat)
      mesh.detach(peer)
      resolve()
    })
  })
  if (stream.status !== 'open') {
    clearInterval(heartbeat)
    mesh.detach(peer)
  }
  return {
    peer,
    closed: stream.status === 'open' ? closed : Promise.resolve(),
    kill: () => stream.abort(new Error('graph stream killed')),
    close: () => transport.close(1000, 'closing'),
  }
}
