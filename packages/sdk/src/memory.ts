import { privateKeyToAccount } from 'viem/accounts'
import type { Hex as ViemHex } from 'viem'
import { DAG_CBOR_CODE, RAW_CODE, blockCid, decodeValue, encodeValue, parseCid, sha256, toHex } from './cid.ts'
import { SdkError } from './errors.ts'
import type { Address, Behaviour, Hex, RoundInfo, TaskContext, TaskKv, TaskLog, TaskStore } from './types.ts'

// In-memory implementations of the context services, for the harness and for tests that drive
// a sandbox without a node. Values are copied in and out (structured clone for kv, dag-cbor for
// the store) so a task cannot rely on sharing references with its storage.

export interface MemoryKv extends TaskKv {
  readonly entries: Map<string, unknown>
}

export function createMemoryKv(): MemoryKv {
  const entries = new Map<string, unknown>()
  return {
    entries,
    async get(key) {
      assertKey(key)
      return entries.has(key) ? structuredClone(entries.get(key)) : undefined
    },
    async put(key, value) {
      assertKey(key)
      entries.set(key, structuredClone(value))
    },
    async delete(key) {
      assertKey(key)
      entries.delete(key)
    },
    async list(prefix) {
      if (typeof prefix !== 'string') throw new SdkError('INVALID_VALUE', 'prefix must be a string')
      return [...entries.keys()].filter((key) => key.startsWith(prefix)).sort()
    },
  }
}

export interface MemoryStore extends TaskStore {
  readonly blocks: Map<string, Uint8Array>
  has(cid: string): Promise<boolean>
  delete(cid: string): Promise<boolean>
}

export function createMemoryStore(): MemoryStore {
  const blocks = new Map<string, Uint8Array>()
  return {
    blocks,
    async put(value) {
      const isBytes = value instanceof Uint8Array
      const bytes = isBytes ? new Uint8Array(value) : encodeValue(value)
      const cid = blockCid(isBytes ? RAW_CODE : DAG_CBOR_CODE, bytes).toString()
      blocks.set(cid, bytes)
      return cid
    },
    async get(text) {
      const cid = parseCid(text)
      const bytes = blocks.get(cid.toString())
      if (bytes === undefined) return undefined
      return cid.code === RAW_CODE ? new Uint8Array(bytes) : decodeValue(bytes)
    },
    async has(text) {
      return blocks.has(parseCid(text).toString())
    },
    async delete(text) {
      return blocks.delete(parseCid(text).toString())
    },
  }
}

function assertKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 1024) {
    throw new SdkError('INVALID_VALUE', 'kv key must be a non-empty string of at most 1024 chars')
  }
}

export type LogSink = (level: 'info' | 'warn' | 'error', msg: string, data?: unknown) => void

/** The context a node gives a task minus `round` (which comes with every call): also a valid `SandboxHost`. */
export type ContextServices = Omit<TaskContext, 'round'>

export interface MemoryContextOptions {
  address?: Address
  /** Signs for ctx.sign; default: a key derived from the address (its signatures do not recover to `address`). */
  privateKey?: Hex
  behaviour?: Behaviour
  config?: Record<string, unknown>
  kv?: TaskKv
  store?: TaskStore
  request?: (node: Address, path: string, body: unknown) => Promise<unknown>
  log?: LogSink
}

/** In-memory context services (kv, store, sign, log; request fails unless provided). */
export function createMemoryContext(options: MemoryContextOptions = {}): ContextServices & { kv: TaskKv; store: TaskStore } {
  const account = privateKeyToAccount(
    (options.privateKey ?? derivePrivateKey(options.address ?? '0x0000000000000000000000000000000000000001')) as ViemHex,
  )
  const address = options.address ?? account.address
  const sink = options.log
  const log: TaskLog = {
    info: (msg, data) => sink?.('info', msg, data),
    warn: (msg, data) => sink?.('warn', msg, data),
    error: (msg, data) => sink?.('error', msg, data),
  }
  return {
    address,
    behaviour: options.behaviour ?? { mode: 'honest' },
    config: options.config ?? {},
    kv: options.kv ?? createMemoryKv(),
    store: options.store ?? createMemoryStore(),
    async sign(message) {
      if (typeof message === 'string') return account.signMessage({ message })
      if (message instanceof Uint8Array) return account.signMessage({ message: { raw: message } })
      throw new SdkError('INVALID_VALUE', 'sign takes a string or a Uint8Array')
    },
    async request(node, path, body) {
      if (!options.request) throw new SdkError('UNKNOWN_NODE', 'no peers in this context', { details: { node, path } })
      return options.request(node, path, body)
    },
    log,
  }
}

/** A context for one call: the services plus the round. */
export function withRound(services: ContextServices, round: RoundInfo): TaskContext {
  return { ...services, round }
}

export function derivePrivateKey(label: string): Hex {
  // Deterministic test key: sha256 of a label. Never use for anything but simulations.
  return toHex(sha256(`coop.harness.key|${label.toLowerCase()}`))
}
