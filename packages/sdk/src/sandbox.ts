import { type ChildProcess, spawn } from 'node:child_process'
import type { Duplex } from 'node:stream'
import { readFileSync } from 'node:fs'
import { mkdir, readFile, realpath, stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { encodeValue } from './cid.ts'
import { createFrameReader, encodeFrame } from './frames.ts'
import { SandboxError, type SandboxErrorCode } from './errors.ts'
import type { ContextServices } from './memory.ts'
import type { AuditVerdict, DistributionShare, ScaleSettings } from './types.ts'

/**
 * What the parent (the node) provides to a sandboxed program: the task context minus `round`
 * (the round travels with each call). kv/store/sign/request/log calls made by the program are
 * forwarded over IPC and answered by these functions.
 */
export type SandboxHost = ContextServices

export type SandboxMethod = 'setup' | 'work' | 'submission' | 'audit' | 'distribution' | 'route' | 'leafAudit' | 'ingestAccept' | 'ingestLeaves'

export interface SandboxOptions {
  /** The bundled task program (an ESM file, e.g. `program.mjs`); readable by the child. */
  programPath: string
  /** The program's private directory (created if missing); the only place it may read and write. */
  dataDir: string
  /** V8 old-space limit of the child (--max-old-space-size). Default 256. */
  memoryMb?: number
  /** The child is killed when its resident set exceeds this (Linux /proc watchdog). Default 2·memoryMb + 256. */
  maxRssMb?: number
  /** Per call. Default 30 000. */
  callTimeoutMs?: number
  /** Time for the child to load the program and report ready. Default 10 000. */
  startTimeoutMs?: number
  host: SandboxHost
  /** Called for each IPC message from the child that is not part of the protocol (it is dropped). */
  onMalformed?: (error: SandboxError) => void
  /** The child's stdout/stderr (console.*), as they arrive. */
  onOutput?: (stream: 'stdout' | 'stderr', text: string) => void
  /** A child that sends more malformed messages than this is killed. Default 100. */
  maxMalformed?: number
  /** Largest frame accepted from the child; a larger one kills it. Default 32 MiB. */
  maxMessageBytes?: number
}

export interface SandboxStats {
  calls: number
  ops: number
  timeouts: number
  exits: number
  restarts: number
  malformed: number
}

export interface TaskRuntime {
  /** The task's name (from its definition), its route names and whether it has setup. */
  readonly name: string
  readonly routes: readonly string[]
  readonly hasSetup: boolean
  /** The task's SCALE settings (defaults filled in), or null for a task without a `scale` section. */
  readonly scale: ScaleSettings | null
  /** The current child's pid (undefined between a crash and the restart on the next call). */
  readonly pid: number | undefined
  /** The argv of the child, with the inline runner source replaced by '<runner>'. */
  readonly command: readonly string[]
  /**
   * setup(round?) · work(round) · submission(round) · audit(submission, round, submitter) ·
   * distribution(submitters, bounty, round) · route(request, round?) · SCALE tasks:
   * leafAudit(leaf, position, round, submitter) · ingestAccept(payload, round) ·
   * ingestLeaves(payloads: Uint8Array[], round). A crashed or timed-out child is restarted by the
   * next call.
   */
  call(method: SandboxMethod, ...args: unknown[]): Promise<unknown>
  stats(): SandboxStats
  /** Kills the child and waits until it is gone; pending calls fail with STOPPED. Idempotent. */
  stop(): Promise<void>
}

const METHODS = new Set<string>(['setup', 'work', 'submission', 'audit', 'distribution', 'route', 'leafAudit', 'ingestAccept', 'ingestLeaves'])
const OPS = new Set<string>(['kv.get', 'kv.put', 'kv.delete', 'kv.list', 'store.put', 'store.get', 'sign', 'request'])
const LOG_LEVELS = new Set<string>(['info', 'warn', 'error'])
const MAX_INFLIGHT_OPS = 256
const TAIL_BYTES = 8192
const ADDRESS = /^0x[0-9a-fA-F]{40}$/

let runnerSource: string | undefined
function runner(): string {
  runnerSource ??= readFileSync(new URL('./runner.ts', import.meta.url), 'utf8')
  return runnerSource
}

// Children die with the parent even if stop() was never called.
const liveChildren = new Set<ChildProcess>()
let exitHookInstalled = false
function track(proc: ChildProcess): void {
  liveChildren.add(proc)
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.once('exit', () => {
      for (const child of liveChildren) child.kill('SIGKILL')
    })
  }
}

type WireError = { name?: unknown; message?: unknown; code?: unknown; stack?: unknown }

interface PendingCall {
  method: SandboxMethod
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
  timer: NodeJS.Timeout
}

interface Child {
  proc: ChildProcess
  channel: Duplex
  /** Sends one frame; throws if the message cannot be serialized. */
  send(message: Record<string, unknown>): void
  calls: Map<number, PendingCall>
  stdout: string
  stderr: string
  ready: boolean
  killReason?: string
  inflightOps: number
  closed: Promise<void>
  rssTimer?: NodeJS.Timeout
}

/**
 * Starts the task program in a child process under Node's permission model and resolves once
 * the program is loaded. See TaskRuntime for calls; every failure is a SandboxError.
 */
export async function startSandbox(options: SandboxOptions): Promise<TaskRuntime> {
  const memoryMb = options.memoryMb ?? 256
  const callTimeoutMs = options.callTimeoutMs ?? 30_000
  const startTimeoutMs = options.startTimeoutMs ?? 10_000
  const maxRssMb = options.maxRssMb ?? memoryMb * 2 + 256
  const maxMalformed = options.maxMalformed ?? 100
  const maxMessageBytes = options.maxMessageBytes ?? 32 << 20
  for (const [key, value] of Object.entries({ memoryMb, callTimeoutMs, startTimeoutMs, maxRssMb, maxMalformed, maxMessageBytes })) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new SandboxError('INVALID_CALL', `${key} must be a positive integer`, { details: { [key]: value } })
    }
  }
  const host = options.host
  if (!host || typeof host !== 'object' || !host.kv || !host.store) {
    throw new SandboxError('INVALID_CALL', 'host must provide kv, store, sign, request and log')
  }
  let programPath: string
  try {
    programPath = await realpath(resolve(options.programPath))
    if (!(await stat(programPath)).isFile()) throw new Error('not a file')
  } catch (cause) {
    throw new SandboxError('START_FAILED', 'program file not found', { details: { programPath: options.programPath }, cause })
  }
  await mkdir(resolve(options.dataDir), { recursive: true })
  const dataDir = await realpath(resolve(options.dataDir))

  const flags = [
    '--permission',
    `--allow-fs-read=${programPath}`,
    `--allow-fs-read=${dataDir}`,
    `--allow-fs-write=${dataDir}`,
    `--max-old-space-size=${memoryMb}`,
    '--input-type=module-typescript',
  ]
  const argv = [...flags, '-e', runner(), '--', programPath]
  const command = [process.execPath, ...flags, '-e', '<runner>', '--', programPath]
  // Scrubbed environment: nothing of the parent's (keys, tokens, NODE_OPTIONS) reaches the program.
  const env: NodeJS.ProcessEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: dataDir, TMPDIR: dataDir, TZ: 'UTC', LANG: 'C.UTF-8' }

  const stats: SandboxStats = { calls: 0, ops: 0, timeouts: 0, exits: 0, restarts: 0, malformed: 0 }
  let info: { name: string; routes: string[]; setup: boolean; scale: ScaleSettings | null } = { name: '', routes: [], setup: false, scale: null }
  let current: Child | undefined
  let starting: Promise<Child> | undefined
  let stopped = false
  let spawned = 0
  let nextCallId = 1

  function tail(text: string, chunk: string): string {
    const joined = text + chunk
    return joined.length > TAIL_BYTES ? joined.slice(-TAIL_BYTES) : joined
  }

  function malformed(child: Child, reason: string, message: unknown): void {
    stats.malformed += 1
    const error = new SandboxError('MALFORMED_MESSAGE', 'sandbox sent a malformed IPC message; dropped', {
      details: { reason, preview: preview(message), pid: child.proc.pid },
    })
    try {
      if (options.onMalformed) options.onMalformed(error)
      else host.log?.warn(error.message)
    } catch {
      // a throwing callback must not take the parent down
    }
    if (stats.malformed > maxMalformed && child.killReason === undefined) {
      kill(child, 'too many malformed messages')
    }
  }

  function kill(child: Child, reason: string): void {
    child.killReason ??= reason
    child.proc.kill('SIGKILL')
  }

  function replyToChild(child: Child, id: number, reply: Record<string, unknown>): void {
    if (child !== current || child.killReason !== undefined || child.channel.destroyed) return
    try {
      child.send({ t: 'reply', id, ...reply })
    } catch (error) {
      try {
        child.send({
          t: 'reply',
          id,
          ok: false,
          error: { code: 'UNSERIALIZABLE', message: `host reply cannot cross the sandbox boundary: ${String(error)}` },
        })
      } catch {
        // channel gone
      }
    }
  }

  function serveOp(child: Child, message: Record<string, unknown>): void {
    const id = message.id as number
    const op = message.op
    const args = message.args
    if (typeof op !== 'string' || !OPS.has(op) || !Array.isArray(args)) {
      malformed(child, 'unknown op or args not an array', message)
      replyToChild(child, id, { ok: false, error: { code: 'MALFORMED', message: 'unknown op or bad arguments' } })
      return
    }
    const problem = opArgumentProblem(op, args)
    if (problem) {
      malformed(child, problem, message)
      replyToChild(child, id, { ok: false, error: { code: 'MALFORMED', message: problem } })
      return
    }
    if (child.inflightOps >= MAX_INFLIGHT_OPS) {
      replyToChild(child, id, { ok: false, error: { code: 'BUSY', message: `more than ${MAX_INFLIGHT_OPS} ctx operations in flight` } })
      return
    }
    child.inflightOps += 1
    stats.ops += 1
    Promise.resolve()
      .then(() => runOp(host, op, args))
      .then(
        (value) => replyToChild(child, id, { ok: true, value }),
        (error: unknown) => {
          const code = (error as { code?: unknown })?.code
          replyToChild(child, id, {
            ok: false,
            error: { code: typeof code === 'string' ? code : 'HOST_ERROR', message: error instanceof Error ? error.message : String(error) },
          })
        },
      )
      .finally(() => {
        child.inflightOps -= 1
      })
  }

  function settleCall(child: Child, message: Record<string, unknown>): void {
    const id = message.id as number
    const call = child.calls.get(id)
    if (!call) {
      malformed(child, 'result for an unknown call id', message)
      return
    }
    if (message.ok === true) {
      let value: unknown
      try {
        value = checkResult(call.method, message.value)
      } catch (error) {
        finish(child, id, { error })
        return
      }
      finish(child, id, { value })
    } else if (message.ok === false) {
      finish(child, id, { error: taskError(call.method, message.error) })
    } else {
      malformed(child, 'result without ok flag', message)
      finish(child, id, { error: new SandboxError('BAD_RESULT', 'malformed result message', { details: { method: call.method } }) })
    }
  }

  function finish(child: Child, id: number, outcome: { value?: unknown; error?: unknown }): void {
    const call = child.calls.get(id)
    if (!call) return
    child.calls.delete(id)
    clearTimeout(call.timer)
    if (outcome.error !== undefined) call.reject(outcome.error)
    else call.resolve(outcome.value)
  }

  function onMessage(child: Child, message: unknown, onReady: () => void, onFatal: (error: SandboxError) => void): void {
    if (message === null || typeof message !== 'object' || Array.isArray(message)) {
      malformed(child, 'not an object', message)
      return
    }
    const m = message as Record<string, unknown>
    switch (m.t) {
      case 'ready':
        if (child.ready) return malformed(child, 'duplicate ready', m)
        if (typeof m.name !== 'string' || !Array.isArray(m.routes) || !m.routes.every((r) => typeof r === 'string')) {
          return malformed(child, 'bad ready message', m)
        }
        const scale = parseScaleSettings(m.scale)
        if (scale === undefined) return malformed(child, 'bad scale settings in the ready message', m)
        info = { name: m.name, routes: m.routes as string[], setup: m.setup === true, scale }
        return onReady()
      case 'fatal': {
        if (child.ready) return malformed(child, 'fatal after ready', m)
        const error = (m.error ?? {}) as WireError
        return onFatal(
          new SandboxError('LOAD_FAILED', 'task program failed to load', {
            details: { programPath, code: stringOr(error.code), reason: stringOr(error.message) },
          }),
        )
      }
      case 'result':
        if (!child.ready || !Number.isSafeInteger(m.id)) return malformed(child, 'result without a valid id', m)
        return settleCall(child, m)
      case 'op':
        if (!child.ready || !Number.isSafeInteger(m.id)) return malformed(child, 'op without a valid id', m)
        return serveOp(child, m)
      case 'log':
        if (typeof m.level !== 'string' || !LOG_LEVELS.has(m.level) || typeof m.msg !== 'string') {
          return malformed(child, 'bad log message', m)
        }
        try {
          host.log?.[m.level as 'info' | 'warn' | 'error'](m.msg.slice(0, 10_000), m.data)
        } catch {
          // logging must not take the parent down
        }
        return
      default:
        return malformed(child, 'unknown message type', m)
    }
  }

  function spawnChild(): Promise<Child> {
    if (spawned > 0) stats.restarts += 1
    spawned += 1
    return new Promise<Child>((resolveStart, rejectStart) => {
      let proc: ChildProcess
      try {
        proc = spawn(process.execPath, argv, {
          cwd: dataDir,
          env,
          stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
        })
      } catch (cause) {
        rejectStart(new SandboxError('START_FAILED', 'could not spawn the sandbox', { cause }))
        return
      }
      track(proc)
      let resolveClosed!: () => void
      const channel = proc.stdio[3] as Duplex
      const child: Child = {
        proc,
        channel,
        send(message) {
          const frame = encodeFrame(message)
          if (!channel.destroyed) channel.write(frame)
        },
        calls: new Map(),
        stdout: '',
        stderr: '',
        ready: false,
        inflightOps: 0,
        closed: new Promise<void>((r) => {
          resolveClosed = r
        }),
      }
      current = child
      let settled = false
      const startTimer = setTimeout(() => {
        fail(new SandboxError('START_FAILED', 'sandbox did not become ready in time', { details: { startTimeoutMs } }))
        kill(child, 'start timeout')
      }, startTimeoutMs)
      function fail(error: SandboxError): void {
        if (settled) return
        settled = true
        clearTimeout(startTimer)
        rejectStart(error)
      }
      proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        child.stdout = tail(child.stdout, chunk)
        options.onOutput?.('stdout', chunk)
      })
      proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        child.stderr = tail(child.stderr, chunk)
        options.onOutput?.('stderr', chunk)
      })
      const reader = createFrameReader({
        maxBytes: maxMessageBytes,
        onMessage: (message) => handle(message),
        onBadPayload: (error, bytes) => malformed(child, `frame does not deserialize: ${String(error)}`, `<${bytes} bytes>`),
        onOversize: (bytes) => {
          malformed(child, `frame of ${bytes} bytes is over the ${maxMessageBytes}-byte limit`, `<${bytes} bytes>`)
          kill(child, 'oversized frame')
        },
      })
      channel.on('data', (chunk: Buffer) => reader.push(chunk))
      channel.on('error', () => undefined) // EPIPE etc. when the child dies; 'close' reports it
      const handle = (message: unknown) =>
        onMessage(
          child,
          message,
          () => {
            if (settled) return
            child.ready = true
            settled = true
            clearTimeout(startTimer)
            try {
              child.send({ t: 'init', context: { address: host.address, behaviour: host.behaviour, config: host.config ?? {} } })
            } catch (cause) {
              kill(child, 'init failed')
              rejectStart(new SandboxError('UNSERIALIZABLE', 'host address/behaviour/config cannot cross the sandbox boundary', { cause }))
              return
            }
            resolveStart(child)
          },
          (error) => {
            fail(error)
            kill(child, 'load failed')
          },
        )
      proc.on('error', (cause) => {
        fail(new SandboxError('START_FAILED', 'sandbox process error', { cause }))
        kill(child, 'process error')
      })
      proc.on('close', (code, signal) => {
        liveChildren.delete(proc)
        if (child.rssTimer) clearInterval(child.rssTimer)
        stats.exits += 1
        if (current === child) current = undefined
        const outOfMemory = /heap out of memory|Reached heap limit|allocation failed/i.test(child.stderr)
        const reason = child.killReason ?? (outOfMemory ? 'out of memory' : signal ? `signal ${signal}` : `exit code ${code}`)
        const details = { reason, exitCode: code, signal, outOfMemory, stderr: child.stderr.slice(-2000) }
        fail(new SandboxError('START_FAILED', 'sandbox exited before it was ready', { details }))
        for (const [id, call] of [...child.calls]) {
          const code: SandboxErrorCode = child.killReason === 'stopped' ? 'STOPPED' : 'CRASHED'
          finish(child, id, {
            error: new SandboxError(code, code === 'STOPPED' ? 'sandbox stopped' : 'sandbox process died during the call', {
              details: { method: call.method, ...details },
            }),
          })
        }
        resolveClosed()
      })
      const pid = proc.pid
      if (pid !== undefined && process.platform === 'linux') {
        child.rssTimer = setInterval(() => {
          readFile(`/proc/${pid}/status`, 'utf8').then(
            (status) => {
              const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? 0)
              if (kb > maxRssMb * 1024 && child.killReason === undefined) kill(child, `resident memory above ${maxRssMb} MB`)
            },
            () => undefined,
          )
        }, 200)
        child.rssTimer.unref()
      }
    })
  }

  async function ensureChild(): Promise<Child> {
    if (current?.ready && current.killReason === undefined) return current
    if (!starting) {
      starting = spawnChild().finally(() => {
        starting = undefined
      })
    }
    return starting
  }

  await ensureChild()

  return {
    get name() {
      return info.name
    },
    get routes() {
      return info.routes
    },
    get hasSetup() {
      return info.setup
    },
    get scale() {
      return info.scale
    },
    get pid() {
      return current?.proc.pid
    },
    command,
    stats: () => ({ ...stats }),
    async call(method, ...args) {
      if (stopped) throw new SandboxError('STOPPED', 'sandbox stopped', { details: { method } })
      if (typeof method !== 'string' || !METHODS.has(method)) {
        throw new SandboxError('INVALID_CALL', 'unknown sandbox method', { details: { method: String(method) } })
      }
      const child = await ensureChild()
      if (stopped) throw new SandboxError('STOPPED', 'sandbox stopped', { details: { method } })
      stats.calls += 1
      return new Promise((resolveCall, rejectCall) => {
        const id = nextCallId++
        const timer = setTimeout(() => {
          stats.timeouts += 1
          finish(child, id, {
            error: new SandboxError('TIMEOUT', 'sandbox call timed out; the sandbox was killed', { details: { method, callTimeoutMs } }),
          })
          kill(child, `call ${method} timed out after ${callTimeoutMs} ms`)
        }, callTimeoutMs)
        child.calls.set(id, { method, resolve: resolveCall, reject: rejectCall, timer })
        try {
          child.send({ t: 'call', id, method, args })
        } catch (cause) {
          finish(child, id, {
            error: new SandboxError('UNSERIALIZABLE', 'call arguments cannot cross the sandbox boundary', { details: { method }, cause }),
          })
        }
      })
    },
    async stop() {
      stopped = true
      if (starting) await starting.catch(() => undefined)
      const child = current
      if (!child) return
      if (child.proc.exitCode === null && child.proc.signalCode === null) kill(child, 'stopped')
      child.killReason ??= 'stopped'
      await child.closed
    },
  }
}

async function runOp(host: SandboxHost, op: string, args: unknown[]): Promise<unknown> {
  switch (op) {
    case 'kv.get':
      return host.kv.get(args[0] as string)
    case 'kv.put':
      return host.kv.put(args[0] as string, args[1])
    case 'kv.delete':
      return host.kv.delete(args[0] as string)
    case 'kv.list':
      return host.kv.list(args[0] as string)
    case 'store.put':
      return host.store.put(args[0])
    case 'store.get':
      return host.store.get(args[0] as string)
    case 'sign':
      return host.sign(args[0] as string | Uint8Array)
    case 'request':
      return host.request(args[0] as `0x${string}`, args[1] as string, args[2])
    default:
      throw new SandboxError('MALFORMED_MESSAGE', 'unknown op', { details: { op } })
  }
}

function opArgumentProblem(op: string, args: unknown[]): string | undefined {
  const isKey = (value: unknown) => typeof value === 'string' && value.length > 0 && value.length <= 1024
  switch (op) {
    case 'kv.get':
    case 'kv.delete':
      return isKey(args[0]) ? undefined : `${op}: key must be a non-empty string ≤ 1024 chars`
    case 'kv.put':
      return isKey(args[0]) && args.length >= 2 ? undefined : 'kv.put: key must be a non-empty string ≤ 1024 chars, with a value'
    case 'kv.list':
      return typeof args[0] === 'string' && args[0].length <= 1024 ? undefined : 'kv.list: prefix must be a string'
    case 'store.put':
      return args.length >= 1 ? undefined : 'store.put: missing value'
    case 'store.get':
      return typeof args[0] === 'string' && args[0].length <= 200 ? undefined : 'store.get: cid must be a string'
    case 'sign':
      return typeof args[0] === 'string' || args[0] instanceof Uint8Array ? undefined : 'sign: message must be a string or bytes'
    case 'request':
      return typeof args[0] === 'string' && ADDRESS.test(args[0]) && typeof args[1] === 'string' && args[1].length <= 1024
        ? undefined
        : 'request: node must be an address and path a string'
    default:
      return `unknown op ${op}`
  }
}

function checkResult(method: SandboxMethod, value: unknown): unknown {
  switch (method) {
    case 'setup':
    case 'work':
      return undefined
    case 'submission':
      try {
        encodeValue(value)
      } catch (cause) {
        throw new SandboxError('BAD_RESULT', 'submission is not dag-cbor encodable', { details: { method }, cause })
      }
      return value
    case 'audit':
    case 'leafAudit':
    case 'ingestAccept':
      return checkVerdict(value)
    case 'ingestLeaves':
      if (!Array.isArray(value)) throw new SandboxError('BAD_RESULT', 'scale.ingest.leaves must return an array', { details: { value: preview(value) } })
      for (const [index, leaf] of value.entries()) {
        if (leaf instanceof Uint8Array) continue
        try {
          encodeValue(leaf)
        } catch (cause) {
          throw new SandboxError('BAD_RESULT', 'a leaf is neither bytes nor dag-cbor encodable', { details: { index }, cause })
        }
      }
      return value
    case 'distribution':
      return checkDistribution(value)
    default:
      return value
  }
}

/** The child's SCALE settings (null, or the shape of ScaleSettings); undefined when malformed. */
function parseScaleSettings(value: unknown): ScaleSettings | null | undefined {
  if (value === null || value === undefined) return null
  if (typeof value !== 'object') return undefined
  const v = value as Record<string, unknown>
  const int = (x: unknown) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0
  if (!int(v.samples) || !int(v.retentionRounds) || !int(v.replication)) return undefined
  let ingest: ScaleSettings['ingest'] = null
  if (v.ingest !== null) {
    const i = v.ingest as Record<string, unknown> | undefined
    if (!i || typeof i !== 'object' || !int(i.maxPayloadBytes)) return undefined
    ingest = { maxPayloadBytes: i.maxPayloadBytes as number, accept: i.accept === true, leaves: i.leaves === true }
  }
  return { ingest, samples: v.samples as number, retentionRounds: v.retentionRounds as number, replication: v.replication as number }
}

function checkVerdict(value: unknown): AuditVerdict {
  const verdict = value as Record<string, unknown> | null
  if (verdict && typeof verdict === 'object') {
    if (verdict.ok === true) return { ok: true }
    if (verdict.ok === false && typeof verdict.reason === 'string') {
      return verdict.evidence === undefined
        ? { ok: false, reason: verdict.reason }
        : { ok: false, reason: verdict.reason, evidence: verdict.evidence }
    }
  }
  throw new SandboxError('BAD_RESULT', 'audit must return { ok: true } or { ok: false, reason }', { details: { value: preview(value) } })
}

function checkDistribution(value: unknown): DistributionShare[] {
  if (!Array.isArray(value)) {
    throw new SandboxError('BAD_RESULT', 'distribution must return an array', { details: { value: preview(value) } })
  }
  return value.map((entry: unknown, index) => {
    const e = entry as Record<string, unknown> | null
    if (
      !e ||
      typeof e.node !== 'string' ||
      !ADDRESS.test(e.node) ||
      typeof e.reward !== 'bigint' ||
      typeof e.bonus !== 'bigint' ||
      e.reward < 0n ||
      e.bonus < 0n
    ) {
      throw new SandboxError('BAD_RESULT', 'distribution entries must be { node: address, reward: bigint ≥ 0, bonus: bigint ≥ 0 }', {
        details: { index, entry: preview(entry) },
      })
    }
    return { node: e.node as `0x${string}`, reward: e.reward, bonus: e.bonus }
  })
}

function taskError(method: SandboxMethod, wire: unknown): SandboxError {
  const error = (wire && typeof wire === 'object' ? wire : {}) as WireError
  const name = stringOr(error.name) ?? 'Error'
  const code = stringOr(error.code)
  const message = stringOr(error.message) ?? 'task error'
  const cause = Object.assign(new Error(message), { name, code, stack: stringOr(error.stack) })
  const details = { method, name, code, reason: message }
  if (code === 'ERR_ACCESS_DENIED') {
    return new SandboxError('PERMISSION_DENIED', 'the task tried something the sandbox does not allow', { details, cause })
  }
  if (name === 'HostError' && (code === 'NO_ROUTE' || code === 'UNSERIALIZABLE' || code === 'INVALID_CALL')) {
    return new SandboxError(code, message, { details, cause })
  }
  return new SandboxError('TASK_ERROR', 'the task threw', { details, cause })
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function preview(value: unknown): string {
  try {
    const text =
      typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))
    return (text ?? String(value)).slice(0, 200)
  } catch {
    return String(value).slice(0, 200)
  }
}
