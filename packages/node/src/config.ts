// NodeConfig (docs/node-architecture.md) and its validation. Every problem is reported at once,
// with the path of the field, as a ConfigError.
import { readFileSync } from 'node:fs'
import { isAbsolute, resolve, dirname } from 'node:path'

import { isAddress, isHex, getAddress, type Address, type Hex } from 'viem'

import { ConfigError, NodeError, type ConfigIssue } from './errors.ts'

export { NodeError, ConfigError } from './errors.ts'

export type Behaviour = { mode: 'honest' | 'cheater'; cheatFromRound?: number }

export type TaskConfig = {
  taskId: string
  /** Path of a task bundle (sdk bundleTask output) to seed the content store with. */
  program?: string
  /** Task-specific config handed to the program as ctx.config. */
  config?: Record<string, unknown>
  /** Stake to hold on this task (wei, decimal string). Default: the task's minStake. */
  stake?: string
}

export type NodeConfig = {
  name: string
  rpcUrl: string
  privateKey: Hex
  taskManager: Address
  taskLens: Address
  tasks: TaskConfig[]
  dataDir: string
  p2p: { listen: string[]; bootstrap: string[] }
  /** port 0 = random; the chosen port is written to <dataDir>/http.port. */
  http: { host: '127.0.0.1'; port: number }
  behaviour?: Behaviour
  /** Scheduler tick (ms), default 500. */
  pollIntervalMs?: number
  /** pino level (default 'info'). */
  logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'
  /** First block to scan for events on a fresh state (default: latest − 10 000). */
  startBlock?: string
  /**
   * How this node submits: its own transaction (default) or signed and handed to a batcher node
   * over /coop/scale/batch/1, falling back to direct when the batcher does not confirm in time.
   */
  submission?: SubmissionConfig
}

export type SubmissionConfig = { via: 'direct' } | { via: 'batcher'; batcher: Address }

export const DEFAULT_POLL_INTERVAL_MS = 500

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Checks `raw` (parsed JSON or an object) and returns a normalized NodeConfig (checksummed
 * addresses, defaults filled in). Relative paths are resolved against `baseDir` (default: cwd).
 */
export function validateConfig(raw: unknown, options: { baseDir?: string } = {}): NodeConfig {
  const issues: ConfigIssue[] = []
  const issue = (path: string, message: string) => issues.push({ path, message })
  const baseDir = options.baseDir ?? process.cwd()
  const path = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p))
  if (!isObject(raw)) throw new ConfigError([{ path: '$', message: 'expected a JSON object' }])

  const str = (key: string, value: unknown): string | undefined => {
    if (typeof value !== 'string' || value.length === 0) {
      issue(key, 'expected a non-empty string')
      return undefined
    }
    return value
  }
  const address = (key: string, value: unknown): Address | undefined => {
    if (typeof value !== 'string' || !isAddress(value, { strict: false })) {
      issue(key, 'expected a 20-byte hex address (0x…)')
      return undefined
    }
    return getAddress(value)
  }
  const strings = (key: string, value: unknown): string[] => {
    if (value === undefined) return []
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item.length === 0)) {
      issue(key, 'expected an array of non-empty strings')
      return []
    }
    return value as string[]
  }

  const name = str('name', raw.name)
  const rpcUrl = str('rpcUrl', raw.rpcUrl)
  if (rpcUrl && !/^https?:\/\//.test(rpcUrl)) issue('rpcUrl', 'expected an http(s):// JSON-RPC URL')
  let privateKey: Hex | undefined
  if (typeof raw.privateKey !== 'string' || !isHex(raw.privateKey) || raw.privateKey.length !== 66) {
    issue('privateKey', 'expected a 32-byte hex private key (0x + 64 hex digits)')
  } else privateKey = raw.privateKey as Hex
  const taskManager = address('taskManager', raw.taskManager)
  const taskLens = address('taskLens', raw.taskLens)
  const dataDir = str('dataDir', raw.dataDir)

  const tasks: TaskConfig[] = []
  if (!Array.isArray(raw.tasks)) issue('tasks', 'expected an array (it may be empty)')
  else {
    const seen = new Set<string>()
    raw.tasks.forEach((task, index) => {
      const at = `tasks[${index}]`
      if (!isObject(task)) return issue(at, 'expected an object')
      const taskId = typeof task.taskId === 'number' ? String(task.taskId) : task.taskId
      if (typeof taskId !== 'string' || !/^\d+$/.test(taskId)) return issue(`${at}.taskId`, 'expected a decimal task id')
      const normalized = BigInt(taskId).toString()
      if (seen.has(normalized)) issue(`${at}.taskId`, `task ${normalized} is listed twice`)
      seen.add(normalized)
      const entry: TaskConfig = { taskId: normalized }
      if (task.program !== undefined) {
        const program = str(`${at}.program`, task.program)
        if (program) entry.program = path(program)
      }
      if (task.config !== undefined) {
        if (!isObject(task.config)) issue(`${at}.config`, 'expected an object')
        else entry.config = task.config
      }
      if (task.stake !== undefined) {
        const stake = typeof task.stake === 'number' ? String(task.stake) : task.stake
        if (typeof stake !== 'string' || !/^\d+$/.test(stake) || BigInt(stake) === 0n) issue(`${at}.stake`, 'expected a positive amount in wei (decimal string)')
        else entry.stake = BigInt(stake).toString()
      }
      tasks.push(entry)
    })
  }

  let p2p: NodeConfig['p2p'] = { listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [] }
  if (raw.p2p !== undefined) {
    if (!isObject(raw.p2p)) issue('p2p', 'expected { listen, bootstrap }')
    else {
      const listen = strings('p2p.listen', raw.p2p.listen)
      p2p = { listen: listen.length ? listen : p2p.listen, bootstrap: strings('p2p.bootstrap', raw.p2p.bootstrap) }
    }
  }

  let http: NodeConfig['http'] = { host: '127.0.0.1', port: 0 }
  if (raw.http !== undefined) {
    if (!isObject(raw.http)) issue('http', 'expected { host, port }')
    else {
      if (raw.http.host !== undefined && raw.http.host !== '127.0.0.1') issue('http.host', "only '127.0.0.1' is supported")
      const port = raw.http.port ?? 0
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) issue('http.port', 'expected an integer port in [0, 65535]')
      else http = { host: '127.0.0.1', port }
    }
  }

  let behaviour: Behaviour | undefined
  if (raw.behaviour !== undefined) {
    const b = raw.behaviour
    if (!isObject(b) || (b.mode !== 'honest' && b.mode !== 'cheater')) issue('behaviour.mode', "expected 'honest' or 'cheater'")
    else {
      behaviour = { mode: b.mode }
      if (b.cheatFromRound !== undefined) {
        if (typeof b.cheatFromRound !== 'number' || !Number.isInteger(b.cheatFromRound) || b.cheatFromRound < 0) {
          issue('behaviour.cheatFromRound', 'expected a non-negative integer')
        } else behaviour.cheatFromRound = b.cheatFromRound
      }
    }
  }

  let pollIntervalMs = DEFAULT_POLL_INTERVAL_MS
  if (raw.pollIntervalMs !== undefined) {
    if (typeof raw.pollIntervalMs !== 'number' || !Number.isInteger(raw.pollIntervalMs) || raw.pollIntervalMs < 10 || raw.pollIntervalMs > 60_000) {
      issue('pollIntervalMs', 'expected an integer number of ms in [10, 60000]')
    } else pollIntervalMs = raw.pollIntervalMs
  }
  let logLevel: NodeConfig['logLevel']
  if (raw.logLevel !== undefined) {
    if (!LOG_LEVELS.includes(raw.logLevel as never)) issue('logLevel', `expected one of ${LOG_LEVELS.join(', ')}`)
    else logLevel = raw.logLevel as NodeConfig['logLevel']
  }
  let startBlock: string | undefined
  if (raw.startBlock !== undefined) {
    const value = typeof raw.startBlock === 'number' ? String(raw.startBlock) : raw.startBlock
    if (typeof value !== 'string' || !/^\d+$/.test(value)) issue('startBlock', 'expected a block number')
    else startBlock = value
  }

  let submission: SubmissionConfig | undefined
  if (raw.submission !== undefined) {
    const s = raw.submission
    if (!isObject(s) || (s.via !== 'direct' && s.via !== 'batcher')) issue('submission.via', "expected 'direct' or 'batcher'")
    else if (s.via === 'direct') submission = { via: 'direct' }
    else if (typeof s.batcher !== 'string' || !isAddress(s.batcher)) issue('submission.batcher', "expected the batcher node's address (0x + 40 hex)")
    else submission = { via: 'batcher', batcher: getAddress(s.batcher) }
  }

  if (issues.length > 0) throw new ConfigError(issues)
  return {
    name: name!,
    rpcUrl: rpcUrl!,
    privateKey: privateKey!,
    taskManager: taskManager!,
    taskLens: taskLens!,
    tasks,
    dataDir: path(dataDir!),
    p2p,
    http,
    ...(behaviour ? { behaviour } : {}),
    pollIntervalMs,
    ...(logLevel ? { logLevel } : {}),
    ...(startBlock ? { startBlock } : {}),
    ...(submission ? { submission } : {}),
  }
}

/** Reads and validates a JSON config file; relative paths in it are relative to the file. */
export function loadConfig(file: string): NodeConfig {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new NodeError('CONFIG_NOT_FOUND', `cannot read node config ${file}`, { cause: error })
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new ConfigError([{ path: '$', message: `not valid JSON: ${(error as Error).message}` }], error)
  }
  return validateConfig(raw, { baseDir: dirname(resolve(file)) })
}
