// The sandbox runner: the only code that runs in the sandboxed child besides the task bundle.
// startSandbox reads this file's source and runs it with `--input-type=module-typescript -e`, so
// the child needs no read access to the SDK. Therefore: imports of `node:` builtins only, and
// only erasable TypeScript syntax (no enums, namespaces or parameter properties).
//
// Channel: a private pipe on fd 3 (not Node's built-in IPC, whose internal NODE_* messages let a
// child crash its parent). Frames are a 4-byte big-endian length + a v8 structured-clone payload
// (bigint, Uint8Array, Map, Date survive), the same encoding as Node's 'advanced' serialization.
//   parent → child  { t: 'init', context: { address, behaviour, config } }
//                   { t: 'call', id, method, args }
//                   { t: 'reply', id, ok: true, value } | { t: 'reply', id, ok: false, error: { code, message } }
//   child → parent  { t: 'ready', name, routes, setup, scale } | { t: 'fatal', error }
//                   { t: 'result', id, ok: true, value } | { t: 'result', id, ok: false, error }
//                   { t: 'op', id, op, args }   op: kv.get kv.put kv.delete kv.list store.put store.get sign request
//                   { t: 'log', level, msg, data }
import { Socket } from 'node:net'
import { deserialize, serialize } from 'node:v8'
import { pathToFileURL } from 'node:url'

type AnyRecord = Record<string, unknown>
type Fn = (...args: unknown[]) => Promise<unknown>
type WireError = { name: string; message: string; code?: string; stack?: string }

const BRAND = Symbol.for('coop.task.v1')
const channel = new Socket({ fd: 3, readable: true, writable: true })
// The parent went away: nothing left to serve.
channel.on('end', () => process.exit(0))
channel.on('close', () => process.exit(0))
channel.on('error', () => process.exit(0))

function write(message: AnyRecord): void {
  const payload = serialize(message)
  const header = Buffer.alloc(4)
  header.writeUInt32BE(payload.byteLength, 0)
  channel.write(Buffer.concat([header, payload]))
}

function post(message: AnyRecord): void {
  try {
    write(message)
  } catch (error) {
    // Not cloneable (functions, symbols…): report instead of dying.
    if (message.t === 'result') {
      const reason = error instanceof Error ? error.message : String(error)
      write({ t: 'result', id: message.id, ok: false, error: { name: 'HostError', code: 'UNSERIALIZABLE', message: `result cannot cross the sandbox boundary: ${reason}` } })
    }
    else if (message.t === 'log') write({ t: 'log', level: message.level, msg: message.msg, data: String(message.data) })
    else throw error
  }
}

function wireError(error: unknown, fallbackCode?: string): WireError {
  if (error instanceof Error) {
    const code = (error as Error & { code?: unknown }).code
    return {
      name: error.name,
      message: error.message,
      code: typeof code === 'string' ? code : fallbackCode,
      stack: typeof error.stack === 'string' ? error.stack.slice(0, 4000) : undefined,
    }
  }
  return { name: 'Error', message: String(error), code: fallbackCode }
}

class HostError extends Error {
  code: string
  constructor(code: string, message: string) {
    super(message)
    this.name = 'HostError'
    this.code = code
  }
}

let nextOp = 1
const pendingOps = new Map<number, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>()
let base: AnyRecord | undefined
let lastRound: unknown = { taskId: 0n, round: 0, cycle: 0, startTime: 0, roundLength: 0 }

function op(name: string, args: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const id = nextOp++
    pendingOps.set(id, { resolve, reject })
    try {
      write({ t: 'op', id, op: name, args })
    } catch (error) {
      pendingOps.delete(id)
      reject(new HostError('UNSERIALIZABLE', `ctx ${name} argument cannot cross the sandbox boundary: ${String(error)}`))
    }
  })
}

function log(level: string) {
  return (msg: unknown, data?: unknown) => post({ t: 'log', level, msg: String(msg), data })
}

function context(round: unknown): AnyRecord {
  if (!base) throw new HostError('NOT_INITIALISED', 'sandbox context not initialised')
  return {
    round,
    address: base.address,
    behaviour: base.behaviour,
    config: base.config,
    kv: {
      get: (key: unknown) => op('kv.get', [key]),
      put: async (key: unknown, value: unknown) => void (await op('kv.put', [key, value])),
      delete: async (key: unknown) => void (await op('kv.delete', [key])),
      list: (prefix: unknown) => op('kv.list', [prefix]),
    },
    store: {
      put: (value: unknown) => op('store.put', [value]),
      get: (cid: unknown) => op('store.get', [cid]),
    },
    sign: (message: unknown) => op('sign', [message]),
    request: (node: unknown, path: unknown, body?: unknown) => op('request', [node, path, body]),
    log: { info: log('info'), warn: log('warn'), error: log('error') },
  }
}

function resolveRoute(routes: AnyRecord | undefined, path: string): Fn | undefined {
  if (!routes) return undefined
  let key = (path.split('?')[0] ?? '').replace(/^\/+/, '').replace(/\/+$/, '')
  while (key.length > 0) {
    const handler = Object.hasOwn(routes, key) ? routes[key] : undefined
    if (typeof handler === 'function') return handler as Fn
    const slash = key.lastIndexOf('/')
    if (slash < 0) break
    key = key.slice(0, slash)
  }
  return undefined
}

let task: AnyRecord | undefined

function scaleFn(name: string): Fn {
  const scale = task?.scale as AnyRecord | undefined
  const fn = scale?.[name]
  if (typeof fn !== 'function') throw new HostError('INVALID_CALL', `this task has no scale.${name}`)
  return fn as Fn
}

function ingestFn(name: string): Fn {
  const ingest = (task?.scale as AnyRecord | undefined)?.ingest as AnyRecord | undefined
  const fn = ingest?.[name]
  if (typeof fn !== 'function') throw new HostError('INVALID_CALL', `this task has no scale.ingest.${name}`)
  return fn as Fn
}

/** The SCALE settings with defaults (the same rule as the SDK's scaleSettings; this file cannot import it). */
function scaleSettings(candidate: AnyRecord): unknown {
  const scale = candidate.scale as AnyRecord | undefined
  if (!scale || typeof scale !== 'object') return null
  const ingest = scale.ingest as AnyRecord | undefined
  const int = (value: unknown, fallback: number) => (typeof value === 'number' ? value : fallback)
  return {
    ingest: ingest
      ? { maxPayloadBytes: int(ingest.maxPayloadBytes, 16 * 1024), accept: typeof ingest.accept === 'function', leaves: typeof ingest.leaves === 'function' }
      : null,
    samples: int(scale.samples, 16),
    retentionRounds: int(scale.retentionRounds, 8),
    replication: int(scale.replication, 2),
  }
}

async function dispatch(method: string, args: unknown[]): Promise<unknown> {
  if (!task) throw new HostError('NOT_READY', 'task not loaded')
  const fn = (name: string) => task![name] as Fn
  const withRound = (round: unknown) => {
    if (round !== undefined) lastRound = round
    return context(round ?? lastRound)
  }
  switch (method) {
    case 'setup':
      return typeof task.setup === 'function' ? fn('setup')(withRound(args[0])) : undefined
    case 'work':
      // A SCALE task may have no work of its own (an ingest task's work comes from devices).
      return typeof task.work === 'function' ? fn('work')(args[0], withRound(args[0])) : undefined
    case 'submission':
      if (typeof task.submission !== 'function') throw new HostError('INVALID_CALL', 'this task has no submission(): its leaves are device payloads')
      return fn('submission')(args[0], withRound(args[0]))
    case 'audit':
      if (typeof task.audit !== 'function') throw new HostError('INVALID_CALL', 'this task has no audit(): it is audited leaf by leaf (scale.leafAudit)')
      return fn('audit')(args[0], args[1], args[2], withRound(args[1]))
    case 'leafAudit':
      return scaleFn('leafAudit')(args[0], args[1], args[2], args[3], withRound(args[2]))
    case 'ingestAccept':
      return ingestFn('accept')(args[0], args[1], withRound(args[1]))
    case 'ingestLeaves':
      return ingestFn('leaves')(args[0], args[1], withRound(args[1]))
    case 'distribution':
      return fn('distribution')(args[0], args[1], args[2], withRound(args[2]))
    case 'route': {
      const request = args[0] as AnyRecord | undefined
      const path = typeof request?.path === 'string' ? request.path : ''
      const handler = resolveRoute(task.routes as AnyRecord | undefined, path)
      if (!handler) throw new HostError('NO_ROUTE', `no route for ${JSON.stringify(path)}`)
      return handler(request, withRound(args[1]))
    }
    default:
      throw new HostError('INVALID_CALL', `unknown method ${JSON.stringify(method)}`)
  }
}

function onMessage(message: unknown): void {
  if (message === null || typeof message !== 'object') return
  const m = message as AnyRecord
  if (m.t === 'init') {
    base = (m.context ?? {}) as AnyRecord
  } else if (m.t === 'reply' && typeof m.id === 'number') {
    const pending = pendingOps.get(m.id)
    if (!pending) return
    pendingOps.delete(m.id)
    if (m.ok === true) pending.resolve(m.value)
    else {
      const error = (m.error ?? {}) as AnyRecord
      pending.reject(new HostError(String(error.code ?? 'HOST_ERROR'), String(error.message ?? 'host error')))
    }
  } else if (m.t === 'call' && typeof m.id === 'number' && typeof m.method === 'string' && Array.isArray(m.args)) {
    const id = m.id
    dispatch(m.method, m.args).then(
      (value) => post({ t: 'result', id, ok: true, value }),
      (error: unknown) => post({ t: 'result', id, ok: false, error: wireError(error) }),
    )
  }
}

// Frames from the parent (trusted): length-prefixed v8 payloads.
let chunks: Buffer[] = []
let buffered = 0
channel.on('data', (chunk: Buffer) => {
  chunks.push(chunk)
  buffered += chunk.byteLength
  for (;;) {
    if (buffered < 4) return
    let all = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)
    const length = all.readUInt32BE(0)
    if (buffered < 4 + length) {
      chunks = [all]
      return
    }
    const frame = all.subarray(4, 4 + length)
    all = all.subarray(4 + length)
    chunks = all.byteLength > 0 ? [all] : []
    buffered = all.byteLength
    onMessage(deserialize(frame))
  }
})

const programPath = process.argv[process.argv.length - 1] ?? ''
try {
  const module = (await import(pathToFileURL(programPath).href)) as AnyRecord
  const candidate = (module.default ?? module.task) as AnyRecord | undefined
  if (!candidate || typeof candidate !== 'object' || (candidate as Record<symbol, unknown>)[BRAND] !== true) {
    throw new HostError('NOT_A_TASK', 'the program must default-export defineTask(...)')
  }
  const required = candidate.scale ? ['distribution'] : ['work', 'submission', 'audit', 'distribution']
  for (const name of required) {
    if (typeof candidate[name] !== 'function') throw new HostError('NOT_A_TASK', `task.${name} is not a function`)
  }
  if (candidate.scale && typeof (candidate.scale as AnyRecord).leafAudit !== 'function') throw new HostError('NOT_A_TASK', 'task.scale.leafAudit is not a function')
  task = candidate
  const routes = candidate.routes && typeof candidate.routes === 'object' ? Object.keys(candidate.routes as AnyRecord) : []
  post({ t: 'ready', name: String(candidate.name), routes, setup: typeof candidate.setup === 'function', scale: scaleSettings(candidate) })
} catch (error) {
  write({ t: 'fatal', error: wireError(error, 'LOAD_FAILED') })
  channel.end(() => process.exit(1))
}
