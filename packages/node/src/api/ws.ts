// WebSocket push on /ws: every event the chain view applies, as JSON ({ type, taskId, cycle, … }).
// Clients may send {"type":"ping"} (answered with pong) and {"type":"subscribe","taskIds":["1"]}
// (only those tasks' events, plus task-less ones; [] or null = everything). Anything else — binary
// frames, invalid JSON, unknown types, oversized frames — closes that client with a reason; other
// clients and the server carry on.
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'

import { WebSocketServer, type RawData, type WebSocket } from 'ws'

import type { Logger, ViewEvent } from '../view/types.ts'
import { toJson } from './http.ts'

export type WsHubOptions = {
  logger: Logger
  maxClients: number
  /** Largest frame a client may send (default 16 KiB). */
  maxPayload?: number
  /** Ping interval; clients that miss a pong are dropped (default 30 s). */
  heartbeatMs?: number
  /** Clients whose unsent backlog exceeds this are dropped (default 4 MiB). */
  maxBufferedBytes?: number
  hello: () => unknown
}

type Client = { socket: WebSocket; alive: boolean; taskIds: Set<string> | null }

export const WsClose = {
  goingAway: 1001,
  unsupportedData: 1003,
  invalidPayload: 1007,
  policyViolation: 1008,
  tryAgainLater: 1013,
} as const

export function createWsHub(options: WsHubOptions) {
  const { logger } = options
  const maxBufferedBytes = options.maxBufferedBytes ?? 4 * 1024 * 1024
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxPayload ?? 16 * 1024,
    perMessageDeflate: false,
    clientTracking: false,
  })
  const clients = new Set<Client>()

  const heartbeat = setInterval(() => {
    for (const client of clients) {
      if (!client.alive) {
        client.socket.terminate()
        continue
      }
      client.alive = false
      try {
        client.socket.ping()
      } catch {
        client.socket.terminate()
      }
    }
  }, options.heartbeatMs ?? 30_000)
  heartbeat.unref()

  function send(client: Client, message: unknown) {
    if (client.socket.readyState !== client.socket.OPEN) return
    if (client.socket.bufferedAmount > maxBufferedBytes) {
      logger.warn({ buffered: client.socket.bufferedAmount }, 'api ws: dropping a client that does not keep up')
      client.socket.terminate()
      return
    }
    client.socket.send(typeof message === 'string' ? message : toJson(message))
  }

  function refuse(client: Client, code: number, reason: string) {
    logger.debug?.({ code, reason }, 'api ws: closing a client')
    client.socket.close(code, reason)
    // A client that ignores the close handshake is cut off.
    setTimeout(() => client.socket.terminate(), 2_000).unref()
  }

  function onMessage(client: Client, data: RawData, isBinary: boolean) {
    if (isBinary) return refuse(client, WsClose.unsupportedData, 'binary frames are not supported; send JSON text')
    let message: unknown
    try {
      message = JSON.parse(data.toString())
    } catch {
      return refuse(client, WsClose.invalidPayload, 'invalid JSON; send {"type":"ping"} or {"type":"subscribe","taskIds":[…]}')
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      return refuse(client, WsClose.invalidPayload, 'messages must be JSON objects with a type')
    }
    const { type } = message as { type?: unknown }
    if (type === 'ping') return send(client, { type: 'pong', at: Date.now() })
    if (type === 'subscribe') {
      const ids = (message as { taskIds?: unknown }).taskIds
      if (ids === null || ids === undefined || (Array.isArray(ids) && ids.length === 0)) {
        client.taskIds = null
      } else if (Array.isArray(ids) && ids.length <= 1_000 && ids.every((id) => typeof id === 'string' && /^[0-9]{1,78}$/.test(id))) {
        client.taskIds = new Set(ids as string[])
      } else {
        return refuse(client, WsClose.policyViolation, 'taskIds must be an array of decimal strings')
      }
      return send(client, { type: 'subscribed', taskIds: client.taskIds ? [...client.taskIds] : null })
    }
    return refuse(client, WsClose.policyViolation, `unknown message type ${JSON.stringify(String(type)).slice(0, 60)}`)
  }

  return {
    get size() {
      return clients.size
    },

    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
      if (clients.size >= options.maxClients) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
        return
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        const client: Client = { socket: ws, alive: true, taskIds: null }
        clients.add(client)
        ws.on('pong', () => {
          client.alive = true
        })
        ws.on('message', (data, isBinary) => {
          try {
            onMessage(client, data, isBinary)
          } catch (error) {
            logger.warn({ err: (error as Error).message }, 'api ws: message handling failed')
            refuse(client, WsClose.policyViolation, 'bad message')
          }
        })
        ws.on('error', (error) => {
          // Protocol errors (oversized or malformed frames): ws closes the socket itself.
          logger.debug?.({ err: error.message }, 'api ws: client error')
        })
        ws.on('close', () => clients.delete(client))
        send(client, { type: 'hello', ...(options.hello() as object) })
      })
    },

    broadcast(event: ViewEvent | { type: string; taskId?: unknown }) {
      if (clients.size === 0) return
      const text = toJson(event)
      const taskId = event.taskId === undefined ? undefined : String(event.taskId)
      for (const client of clients) {
        if (client.taskIds && taskId !== undefined && !client.taskIds.has(taskId)) continue
        send(client, text)
      }
    },

    async close() {
      clearInterval(heartbeat)
      for (const client of clients) client.socket.close(WsClose.goingAway, 'server shutting down')
      const deadline = Date.now() + 1_000
      while (clients.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
      for (const client of clients) client.socket.terminate()
      clients.clear()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    },
  }
}
