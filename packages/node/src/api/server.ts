// The node's (and the devnet's) HTTP API: JSON read endpoints over the chain view, the task
// programs' routes (when a node runs them), Prometheus metrics, the dashboard's static files, and
// a WebSocket (/ws) pushing what the view applies. See docs/node-architecture.md.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

import { Counter, Registry, collectDefaultMetrics } from 'prom-client'
import type { Address } from 'viem'

import type { ChainView } from '../view/chain-view.ts'
import type { Logger } from '../view/types.ts'
import { type DeviceService, handleDeviceRequest } from './devices.ts'
import { ApiError, baseHeaders, parseIntParam, parseJsonBody, parseTaskId, readBody, sendError, sendJson } from './http.ts'
import { defaultDashboardDir, serveStatic } from './static.ts'
import { createWsHub } from './ws.ts'

/** What the API needs of a task the node runs. */
export interface ApiNodeTask {
  /** The sandboxed task program (@coop/sdk TaskRuntime); absent while it is not running. */
  runtime?: { call(method: 'route', ...args: unknown[]): Promise<unknown> } | null | undefined
}

export type RewardEntry = { cycle: bigint; reward: bigint; bonus: bigint; claimed: boolean }

/** What the API needs of a running node (CoopNode satisfies it structurally). */
export interface ApiNode {
  name: string
  address: Address
  peerId?: string
  multiaddrs?: () => string[]
  /** The node's prom-client registry (or an object holding it as `registry`); /metrics serves it, with the view's and API's metrics added. */
  metrics?: Registry | { registry: Registry }
  /** Tasks the node runs, keyed by the decimal task id (`'1'`). A Map<string, …> fits. */
  tasks: { get(taskId: never): ApiNodeTask | undefined; keys?(): Iterable<unknown> }
  /** This node's entitlements per cycle of a task (from the distribution lists it holds) and whether claimed. */
  rewards?: (taskId: bigint) => Promise<readonly RewardEntry[]> | readonly RewardEntry[]
  /** The node's own events (`'event'` → `{ type, taskId?, … }`), pushed over /ws with `source: 'node'`. */
  events?: { on(name: 'event', listener: (event: unknown) => void): unknown; off(name: 'event', listener: (event: unknown) => void): unknown }
  /** SCALE device endpoints (POST …/payloads, GET …/rounds/:cycle/proof/:position): ./devices.ts */
  devices?: DeviceService
  /** The final SCALE heads the node keeps (GET /api/tasks/:id/heads[/:cycle]). */
  heads?: {
    list(taskId: string, options?: { fromCycle?: number; limit?: number }): readonly ApiHead[]
    get(taskId: string, cycle: number): ApiHead | undefined
  }
}

export type ApiHead = { cycle: number; cid: string; digest: string; prev: string | null; bytes: Uint8Array }

export type ApiServerOptions = {
  view: ChainView
  node?: ApiNode | undefined
  /** Default 127.0.0.1. */
  host?: string
  /** Default 0 (a free port). */
  port?: number
  logger?: Logger
  /** Static files served at `/`; default: @coop/dashboard's public/ when installed. */
  dashboardDir?: string
  /** Name in /api/status when no node is given (default 'coop'). */
  name?: string
  /** Largest request body (default 1 MiB). */
  maxBodyBytes?: number
  /** Concurrent WebSocket clients (default 64). */
  maxWsClients?: number
  /** Open sockets at once (default 256); more are refused. */
  maxConnections?: number
  /** Time to receive the request headers (default 10 s) and the whole request (default 30 s). */
  headersTimeoutMs?: number
  requestTimeoutMs?: number
}

export type ApiServer = {
  url: string
  host: string
  port: number
  server: Server
  close(): Promise<void>
}

const noopLogger: Logger = { info() {}, warn() {}, error() {} }
const readOnly = { allow: 'GET, HEAD' }

export async function createApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { view, node } = options
  const logger = options.logger ?? noopLogger
  const host = options.host ?? '127.0.0.1'
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024
  const dashboardDir = options.dashboardDir ?? defaultDashboardDir()

  // Metrics: the node's registry when there is one, else our own; the view's gauges and the
  // API's request counter are added to it (once).
  const nodeRegistry = node?.metrics ? ('registry' in node.metrics ? node.metrics.registry : node.metrics) : undefined
  const registry = nodeRegistry ?? new Registry()
  if (!nodeRegistry) collectDefaultMetrics({ register: registry })
  view.registerMetrics(registry)
  const requests =
    (registry.getSingleMetric('coop_api_requests_total') as Counter<'route' | 'status'> | undefined) ??
    new Counter({
      name: 'coop_api_requests_total',
      help: 'HTTP requests answered by the API, by route and status',
      labelNames: ['route', 'status'] as const,
      registers: [registry],
    })

  const status = () => {
    const s = view.status()
    return {
      name: node?.name ?? options.name ?? 'coop',
      address: node?.address ?? null,
      peerId: node?.peerId ?? null,
      multiaddrs: node?.multiaddrs?.() ?? [],
      chainId: s.chainId,
      blockNumber: s.blockNumber,
      now: s.now,
      // A node lists the tasks it runs; the devnet's API every task of the deployment.
      tasks: node?.tasks.keys ? [...node.tasks.keys()].map(String) : view.taskIds().map(String),
      taskManager: view.addresses.taskManager,
      taskLens: view.addresses.taskLens,
      view: {
        headBlock: s.headBlock,
        syncing: s.syncing,
        running: s.running,
        rpcErrors: s.rpcErrors,
        lastError: s.lastError,
        lastSyncAt: s.lastSyncAt,
      },
    }
  }

  const hub = createWsHub({ logger, maxClients: options.maxWsClients ?? 64, hello: status })
  const unsubscribeView = view.subscribe((event) => hub.broadcast(event))
  const onNodeEvent = (event: unknown) => {
    if (typeof event === 'object' && event !== null && typeof (event as { type?: unknown }).type === 'string') {
      const message: { type: string; source: string } = { source: 'node', ...(event as { type: string }) }
      hub.broadcast(message)
    }
  }
  node?.events?.on('event', onNodeEvent)
  const unsubscribe = () => {
    unsubscribeView()
    node?.events?.off('event', onNodeEvent)
  }

  const nodeTask = (taskId: bigint): ApiNodeTask | undefined => {
    const get = node?.tasks.get as ((key: unknown) => ApiNodeTask | undefined) | undefined
    if (!get || !node) return undefined
    return get.call(node.tasks, taskId.toString()) ?? get.call(node.tasks, taskId)
  }

  function requireTask(segment: string) {
    const taskId = parseTaskId(segment)
    const task = view.task(taskId)
    if (!task) throw new ApiError(404, 'TASK_NOT_FOUND', `task ${taskId} does not exist (or the view has not seen it yet)`)
    return task
  }

  function requireRead(req: IncomingMessage) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new ApiError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use GET`, readOnly)
    }
  }

  async function routeCall(req: IncomingMessage, res: ServerResponse, url: URL, taskId: bigint, rest: string[]) {
    if (!node) {
      throw new ApiError(404, 'NO_NODE', 'task routes are served by a node running the task; this API has no node')
    }
    const runtime = nodeTask(taskId)?.runtime
    if (!runtime) throw new ApiError(404, 'TASK_NOT_RUN', `this node does not run task ${taskId}`)
    const body = parseJsonBody(req, await readBody(req, maxBodyBytes))
    const name = rest.join('/')
    const query: Record<string, string> = {}
    for (const [key, value] of url.searchParams) if (!(key in query)) query[key] = value
    let result: unknown
    try {
      // @coop/sdk: call('route', request) → the task's routes[<longest matching prefix of path>](request, ctx)
      result = await runtime.call('route', { method: req.method ?? 'GET', path: `/${name}`, query, body })
    } catch (error) {
      const e = error as { code?: unknown; shortMessage?: unknown; message?: unknown }
      const code = typeof e?.code === 'string' ? e.code : ''
      const text = typeof e?.shortMessage === 'string' ? e.shortMessage : typeof e?.message === 'string' ? e.message : ''
      const message = text.split('\n')[0] || 'the task program failed'
      if (code === 'NO_ROUTE') throw new ApiError(404, 'NOT_FOUND', `task ${taskId} has no route /${name}`)
      logger.warn({ taskId: taskId.toString(), route: name, code, err: message }, 'api: task route failed')
      if (code === 'TIMEOUT') throw new ApiError(504, 'ROUTE_FAILED', `task ${taskId} route /${name} timed out`)
      throw new ApiError(502, 'ROUTE_FAILED', `task ${taskId} route /${name} failed: ${message}`)
    }
    sendJson(req, res, 200, result ?? null)
  }

  /**
   * GET /api/tasks/:id/heads?from=&limit= → [{ cycle, cid, digest, prev, bytes (0x hex dag-cbor) }] (ascending cycle)
   * GET /api/tasks/:id/heads/:cycle → the head block itself (application/vnd.ipld.dag-cbor)
   */
  function scaleHeads(req: IncomingMessage, res: ServerResponse, url: URL, taskId: string, rest: string[]): string {
    if (!node) throw new ApiError(404, 'NO_NODE', 'SCALE heads are kept by nodes; this API has no node (ask a node\'s API)')
    if (!node.heads) throw new ApiError(501, 'NOT_IMPLEMENTED', 'this node does not keep SCALE heads')
    if (rest.length === 0) {
      const fromCycle = parseIntParam(url, 'from', 0, 0, Number.MAX_SAFE_INTEGER)
      const limit = parseIntParam(url, 'limit', 1_000, 1, 10_000)
      const heads = node.heads.list(taskId, { fromCycle, limit })
      sendJson(req, res, 200, heads.map((head) => ({ cycle: head.cycle, cid: head.cid, digest: head.digest, prev: head.prev, bytes: `0x${Buffer.from(head.bytes).toString('hex')}` })))
      return 'heads'
    }
    if (rest.length !== 1 || !/^\d{1,15}$/.test(rest[0] as string)) throw new ApiError(400, 'BAD_PARAM', 'the cycle must be a non-negative integer')
    const head = node.heads.get(taskId, Number(rest[0]))
    if (!head) throw new ApiError(404, 'NOT_FOUND', `no final SCALE head for task ${taskId} cycle ${rest[0]}`)
    if (res.headersSent || res.destroyed) return 'head'
    res.writeHead(200, { ...baseHeaders, 'content-type': 'application/vnd.ipld.dag-cbor', 'content-length': String(head.bytes.length), 'x-coop-head-cid': head.cid, 'x-coop-head-digest': head.digest })
    res.end(req.method === 'HEAD' ? undefined : Buffer.from(head.bytes))
    return 'head'
  }

  async function api(req: IncomingMessage, res: ServerResponse, url: URL, segments: string[]): Promise<string> {
    // segments after 'api'
    const [first, id, sub, ...rest] = segments
    if (first === 'status' && segments.length === 1) {
      requireRead(req)
      sendJson(req, res, 200, status())
      return 'status'
    }
    if (first === 'tasks' && segments.length === 1) {
      requireRead(req)
      sendJson(req, res, 200, view.tasks())
      return 'tasks'
    }
    if (first === 'tasks' && id !== undefined) {
      if (sub === 'payloads' || (sub === 'rounds' && rest[1] === 'proof')) {
        const task = requireTask(id)
        const route = await handleDeviceRequest(req, res, url, task.taskId.toString(), sub, rest, node?.devices)
        if (route) return route
      }
      if (sub === 'routes') {
        const task = requireTask(id)
        await routeCall(req, res, url, task.taskId, rest)
        return 'routes'
      }
      if (sub === 'heads') {
        requireRead(req)
        return scaleHeads(req, res, url, requireTask(id).taskId.toString(), rest)
      }
      if (rest.length > 0) throw new ApiError(404, 'NOT_FOUND', `no such endpoint: ${url.pathname}`)
      if (sub === undefined) {
        requireRead(req)
        sendJson(req, res, 200, requireTask(id))
        return 'task'
      }
      if (!['rounds', 'nodes', 'audits', 'rewards'].includes(sub)) {
        throw new ApiError(404, 'NOT_FOUND', `no such endpoint: ${url.pathname}`)
      }
      requireRead(req)
      const task = requireTask(id)
      switch (sub) {
        case 'rounds': {
          const limit = parseIntParam(url, 'limit', 20, 1, 1_000)
          sendJson(req, res, 200, view.rounds(task.taskId, { limit }))
          return 'rounds'
        }
        case 'nodes':
          sendJson(req, res, 200, view.nodes(task.taskId))
          return 'nodes'
        case 'audits':
          sendJson(req, res, 200, view.audits(task.taskId))
          return 'audits'
        case 'rewards': {
          if (!node) throw new ApiError(404, 'NO_NODE', 'rewards are per node; this API has no node (ask a node\'s API)')
          if (!node.rewards) throw new ApiError(501, 'NOT_IMPLEMENTED', 'this node does not report rewards')
          const rewards = await node.rewards(task.taskId)
          sendJson(
            req,
            res,
            200,
            rewards.map((r) => ({ cycle: r.cycle, reward: r.reward, bonus: r.bonus, claimed: r.claimed })),
          )
          return 'rewards'
        }
      }
    }
    throw new ApiError(404, 'NOT_FOUND', `no such endpoint: ${url.pathname}`)
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<string> {
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://localhost')
    } catch {
      throw new ApiError(400, 'BAD_URL', 'malformed request URL')
    }
    const declared = req.headers['content-length']
    if (declared !== undefined && Number(declared) > maxBodyBytes) {
      throw new ApiError(413, 'BODY_TOO_LARGE', `request body exceeds ${maxBodyBytes} bytes`, { connection: 'close' })
    }
    const { pathname } = url
    if (pathname === '/metrics') {
      requireRead(req)
      const text = await registry.metrics()
      res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' })
      res.end(req.method === 'HEAD' ? undefined : text)
      return 'metrics'
    }
    if (pathname === '/ws') throw new ApiError(426, 'UPGRADE_REQUIRED', 'connect with a WebSocket', { upgrade: 'websocket' })
    if (pathname === '/api' || pathname.startsWith('/api/')) {
      let segments: string[]
      try {
        segments = pathname.split('/').slice(2).map((s) => decodeURIComponent(s))
      } catch {
        throw new ApiError(400, 'BAD_URL', 'malformed percent-encoding in the path')
      }
      if (segments.at(-1) === '' && segments.length > 1) segments.pop()
      return await api(req, res, url, segments)
    }
    await serveStatic(req, res, dashboardDir, pathname)
    return 'static'
  }

  const server = createServer(
    {
      headersTimeout: options.headersTimeoutMs ?? 10_000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      keepAliveTimeout: 5_000,
      maxHeaderSize: 16 * 1024,
      // How often Node enforces the two timeouts above (its default, 30 s, lets a slow client linger).
      connectionsCheckingInterval: Math.min(1_000, options.headersTimeoutMs ?? 1_000),
    },
    (req, res) => {
      handle(req, res)
        .then((route) => {
          requests.inc({ route, status: String(res.statusCode) })
        })
        .catch((error: unknown) => {
          const apiError =
            error instanceof ApiError
              ? error
              : new ApiError(500, 'INTERNAL', 'internal error; see the node log')
          if (!(error instanceof ApiError)) logger.error({ err: (error as Error)?.message, url: req.url }, 'api: request failed')
          requests.inc({ route: 'error', status: String(apiError.status) })
          if (res.headersSent) {
            res.destroy()
            return
          }
          sendError(req, res, apiError)
        })
    },
  )
  server.maxRequestsPerSocket = 1_000
  server.maxConnections = options.maxConnections ?? 256
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    // Malformed HTTP, oversized headers, timeouts: answer if we still can, never throw.
    if (socket.writable && !(socket as { _httpMessage?: unknown })._httpMessage) {
      const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
      const body = JSON.stringify({ error: { code: status === 408 ? 'TIMEOUT' : 'BAD_REQUEST', message: error.code ?? 'bad request' } })
      socket.end(
        `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      )
    } else {
      socket.destroy()
    }
  })
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy())
    let pathname = ''
    try {
      pathname = new URL(req.url ?? '/', 'http://localhost').pathname
    } catch {
      // fall through to 400
    }
    const origin = req.headers.origin
    if (pathname !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    if (origin !== undefined && !sameOrigin(origin, req.headers.host)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    hub.handleUpgrade(req, socket, head)
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  server.on('error', (error) => logger.error({ err: error.message }, 'api: server error'))
  const port = (server.address() as AddressInfo).port
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  logger.info({ url, dashboard: dashboardDir ?? null }, 'api: listening')

  let closing: Promise<void> | undefined
  return {
    url,
    host,
    port,
    server,
    close() {
      closing ??= (async () => {
        unsubscribe()
        await hub.close()
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        })
      })()
      return closing
    },
  }
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host
  } catch {
    return false
  }
}
