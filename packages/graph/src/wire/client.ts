// A light, short-lived client of one peer (what `coop graph put|get` uses): no replication, no
// store of its own beyond memory; each put waits for the peer's ack, each get for its answer.
import { GraphError } from '../errors.ts'
import { GraphStore } from '../graph-store.ts'
import type { Graph, GraphNode, Soul } from '../types.ts'
import { newMessageId } from './codec.ts'
import { GraphMesh, type MeshPeer } from './mesh.ts'
import type { KeyLex } from './messages.ts'
import { connectGraphWebSocket } from './websocket-client.ts'

export interface GraphClient {
  readonly url: string
  /** Sends the delta; resolves once the peer acknowledged it (stored durably, for a durable peer). Rejects with the peer's error. */
  put(delta: Graph): Promise<void>
  /** The peer's node (or only `key` of it); undefined when the peer does not know it. */
  get(soul: Soul, key?: string | KeyLex): Promise<GraphNode | undefined>
  close(): Promise<void>
}

/** Connects to `url` (GraphError UNREACHABLE after `timeoutMs`). */
export async function openGraphClient(url: string, options: { timeoutMs?: number } = {}): Promise<GraphClient> {
  const timeoutMs = options.timeoutMs ?? 10_000
  const store = await GraphStore.open()
  const mesh = new GraphMesh({ store, replicate: false })
  let lastError: unknown
  const link = connectGraphWebSocket({ mesh, url, connectTimeoutMs: timeoutMs, backoff: { initialMs: 100, maxMs: 1_000 }, onError: (error) => (lastError = error) })
  const close = async (): Promise<void> => {
    link.close()
    mesh.close()
    await store.close()
  }
  let timer: NodeJS.Timeout | undefined
  let peer: MeshPeer
  try {
    peer = await Promise.race([
      link.whenConnected(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new GraphError('UNREACHABLE', 'could not connect to the peer', { details: { url: link.url, timeoutMs }, cause: lastError })), timeoutMs)
      }),
    ])
  } catch (error) {
    await close()
    throw error
  } finally {
    clearTimeout(timer)
  }
  return {
    url: link.url,
    async put(delta) {
      const reply = await mesh.request(peer, { kind: 'put', id: newMessageId(), put: delta }, timeoutMs)
      if (reply.kind === 'ack' && reply.err !== undefined) {
        const code = /^([A-Z_]+):/.exec(reply.err)?.[1]
        throw new GraphError(isKnownCode(code) ? code : 'MALFORMED', `the peer refused the write: ${reply.err}`, { details: { url: link.url } })
      }
    },
    async get(soul, key) {
      const reply = await mesh.request(peer, { kind: 'get', id: newMessageId(), query: { soul }, ...(key === undefined ? {} : { key }) }, timeoutMs)
      if (reply.kind === 'ack') {
        if (reply.err !== undefined) throw new GraphError('MALFORMED', `the peer refused the read: ${reply.err}`, { details: { url: link.url } })
        return undefined
      }
      return reply.put[soul]
    },
    close,
  }
}

const KNOWN = new Set(['MALFORMED', 'TOO_LARGE', 'INVALID_SOUL', 'INVALID_VALUE', 'INVALID_STATE', 'FUTURE_STATE', 'BAD_SIGNATURE', 'UNTRUSTED', 'STORAGE', 'CLOSED'])
function isKnownCode(code: string | undefined): code is 'MALFORMED' {
  return code !== undefined && KNOWN.has(code)
}
