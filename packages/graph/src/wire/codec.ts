// Bounded decoding of GUN wire frames. The size is checked before anything is parsed; the JSON is
// parsed once; every message is checked on its own (one bad message does not spoil its batch), and
// a put's graph is copied into a clean Graph so nothing unvalidated (extra fields, states of
// absent keys, `__proto__`) reaches the store. Pure: no IO.
import { randomBytes } from 'node:crypto'

import { GraphError } from '../errors.ts'
import type { Graph, GraphNode, Soul, Value } from '../types.ts'
import type { KeyLex, SoulQuery, WireAck, WireDam, WireGet, WireJson, WireMessage, WirePut, WireRefusal } from './messages.ts'

export interface WireLimits {
  /** Largest frame accepted, in bytes, checked before parsing (default 4 MiB; GUN answers "Message too big!"). */
  maxFrameBytes: number
  /** Most messages in one batch frame (default 10,000). */
  maxMessagesPerFrame: number
  /** Longest message id (`#`, `@`), default 256. */
  maxIdLength: number
  /** Longest soul (default 2048, as the store). */
  maxSoulLength: number
  /** Longest key (default 2048). */
  maxKeyLength: number
  /** Longest string value (default 1 MiB of UTF-16 code units). */
  maxValueLength: number
  /** Most keys in one put message, over all its nodes (default 100,000). */
  maxKeysPerMessage: number
}

export const DEFAULT_WIRE_LIMITS: Readonly<WireLimits> = Object.freeze({
  maxFrameBytes: 4 * 1024 * 1024,
  maxMessagesPerFrame: 10_000,
  maxIdLength: 256,
  maxSoulLength: 2048,
  maxKeyLength: 2048,
  maxValueLength: 1024 * 1024,
  maxKeysPerMessage: 100_000,
})

/** A message of a frame that failed its checks: `id` (when it had a usable one) lets the peer answer it. */
export type RejectedMessage = { id?: string; kind?: WireMessage['kind']; error: GraphError }

export type DecodedFrame = { messages: WireMessage[]; rejected: RejectedMessage[] }

/** Message ids: a random per-process prefix and a counter (unique across peers, cheap to make). */
const ID_PREFIX = randomBytes(6).toString('base64url')
let idCounter = 0
export function newMessageId(): string {
  idCounter += 1
  return ID_PREFIX + idCounter.toString(36)
}

/**
 * Decodes one text frame. Throws GraphError TOO_LARGE (before parsing) or MALFORMED (not JSON, not
 * a message or an array of messages, too many messages); per-message failures go to `rejected`.
 */
export function decodeFrame(raw: string | Uint8Array, limits: WireLimits = DEFAULT_WIRE_LIMITS): DecodedFrame {
  const size = typeof raw === 'string' ? byteLengthAtMost(raw, limits.maxFrameBytes) : raw.byteLength
  if (size > limits.maxFrameBytes) {
    throw new GraphError('TOO_LARGE', 'frame is larger than the limit', { details: { bytes: size, limit: limits.maxFrameBytes } })
  }
  const text = typeof raw === 'string' ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8')
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (cause) {
    throw new GraphError('MALFORMED', 'frame is not JSON', { details: { bytes: size }, cause })
  }
  const items = Array.isArray(parsed) ? parsed : [parsed]
  if (!Array.isArray(parsed) && !isPlainObject(parsed)) {
    throw new GraphError('MALFORMED', 'frame is neither a message object nor an array of messages', { details: { type: typeOf(parsed) } })
  }
  if (items.length > limits.maxMessagesPerFrame) {
    throw new GraphError('TOO_LARGE', 'frame has too many messages', { details: { messages: items.length, limit: limits.maxMessagesPerFrame } })
  }
  const decoded: DecodedFrame = { messages: [], rejected: [] }
  for (const item of items) {
    try {
      decoded.messages.push(decodeMessage(item, limits))
    } catch (error) {
      if (!(error instanceof GraphError)) throw error
      const id = isPlainObject(item) && isUsableId(item['#'], limits) ? (item['#'] as string) : undefined
      decoded.rejected.push({ ...(id === undefined ? {} : { id }), ...kindOf(item), error })
    }
  }
  return decoded
}

/** Checks one message (a parsed JSON value) and returns its typed form. Throws GraphError. */
export function decodeMessage(value: unknown, limits: WireLimits = DEFAULT_WIRE_LIMITS): WireMessage {
  if (!isPlainObject(value)) throw new GraphError('MALFORMED', 'message is not an object', { details: { type: typeOf(value) } })
  const id = value['#'] === undefined ? newMessageId() : checkId(value['#'], '#', limits)
  const ack = value['@'] === undefined ? undefined : checkId(value['@'], '@', limits)
  if (value.dam !== undefined) return decodeDam(value, id, ack)
  if (value.put !== undefined && value.put !== null) {
    const put: WirePut = { kind: 'put', id, put: decodeGraph(value.put, limits) }
    if (ack !== undefined) put.ack = ack
    return put
  }
  if (value.get !== undefined) return decodeGet(value.get, id, limits)
  if (ack !== undefined) {
    const message: WireAck = { kind: 'ack', id, ack }
    if (value.err !== undefined && value.err !== null) message.err = clipText(String(value.err))
    else if (value.ok !== undefined) message.ok = value.ok
    const refused = decodeRefusals(value.refused)
    if (refused !== undefined) message.refused = refused
    return message
  }
  throw new GraphError('MALFORMED', 'message has none of put, get, @ or dam', { details: { id } })
}

function decodeDam(value: Record<string, unknown>, id: string, ack: string | undefined): WireDam {
  if (typeof value.dam !== 'string' || value.dam.length > 32) throw new GraphError('MALFORMED', 'dam must be a short string', { details: { id } })
  const message: WireDam = { kind: 'dam', id, dam: value.dam }
  if (typeof value.pid === 'string' && value.pid.length > 0 && value.pid.length <= 256) message.pid = value.pid
  if (value.coop === 1) message.coop = 1
  if (ack !== undefined) message.ack = ack
  if (value.err !== undefined) message.err = clipText(String(value.err))
  return message
}

function decodeGet(get: unknown, id: string, limits: WireLimits): WireGet {
  if (!isPlainObject(get)) throw new GraphError('MALFORMED', 'get must be an object', { details: { id } })
  const soul = get['#']
  let query: SoulQuery
  if (typeof soul === 'string') {
    query = { soul: checkSoul(soul, limits) }
  } else if (isPlainObject(soul)) {
    if (typeof soul['='] === 'string') query = { soul: checkSoul(soul['='], limits) }
    else if (typeof soul['*'] === 'string' && soul['*'].length <= limits.maxSoulLength && Object.keys(soul).length === 1) query = { soulPrefix: soul['*'] }
    else throw new GraphError('MALFORMED', 'unsupported soul query: use a soul, {"=": soul} or {"*": prefix}', { details: { id } })
  } else {
    throw new GraphError('INVALID_SOUL', 'get has no soul', { details: { id } })
  }
  const message: WireGet = { kind: 'get', id, query }
  const key = get['.']
  if (typeof key === 'string') {
    message.key = checkKey(key, limits)
  } else if (isPlainObject(key)) {
    const lex: KeyLex = {}
    for (const [field, name] of [['=', 'equals'], ['*', 'prefix'], ['>', 'start'], ['<', 'end']] as const) {
      const part = key[field]
      if (part === undefined) continue
      if (typeof part !== 'string' || part.length > limits.maxKeyLength) throw new GraphError('MALFORMED', `key query "${field}" must be a string`, { details: { id } })
      lex[name] = part
    }
    message.key = lex
  } else if (key !== undefined) {
    throw new GraphError('MALFORMED', 'get "." must be a key or a lexical query', { details: { id } })
  }
  return message
}

/** Checks a put's graph and copies it into a clean Graph. Errors name the soul and key at fault. */
export function decodeGraph(put: unknown, limits: WireLimits = DEFAULT_WIRE_LIMITS): Graph {
  if (!isPlainObject(put)) throw new GraphError('MALFORMED', 'put is not a graph object', { details: { type: typeOf(put) } })
  const graph: Graph = {}
  let keyCount = 0
  for (const soul of Object.keys(put)) {
    checkSoul(soul, limits)
    const node = put[soul]
    if (!isPlainObject(node)) throw new GraphError('MALFORMED', 'node is not an object', { details: { soul } })
    const meta = node._
    if (!isPlainObject(meta)) throw new GraphError('MALFORMED', 'node has no meta (_)', { details: { soul } })
    if (meta['#'] !== soul) throw new GraphError('MALFORMED', "node's soul (_.#) differs from its place in the graph", { details: { soul } })
    const states = meta['>']
    if (!isPlainObject(states)) throw new GraphError('MALFORMED', 'node has no states (_.>)', { details: { soul } })
    const clean: Record<string, unknown> = {}
    const cleanStates: Record<string, number> = {}
    for (const key of Object.keys(node)) {
      if (key === '_') continue
      checkKey(key, limits, soul)
      const state = states[key]
      if (typeof state !== 'number' || !Number.isFinite(state)) {
        throw new GraphError('INVALID_STATE', 'key has no finite state', { details: { soul, key } })
      }
      clean[key] = checkValue(node[key], limits, soul, key)
      cleanStates[key] = state
      keyCount += 1
      if (keyCount > limits.maxKeysPerMessage) {
        throw new GraphError('TOO_LARGE', 'put has too many keys', { details: { limit: limits.maxKeysPerMessage } })
      }
    }
    clean._ = { '#': soul, '>': cleanStates }
    graph[soul] = clean as GraphNode
  }
  return graph
}

/** Souls: non-empty strings within the limit, not `__proto__` (the store's rule). */
export function checkSoul(soul: unknown, limits: Pick<WireLimits, 'maxSoulLength'> = DEFAULT_WIRE_LIMITS): Soul {
  if (typeof soul !== 'string' || soul.length === 0) throw new GraphError('INVALID_SOUL', 'soul must be a non-empty string', { details: { type: typeOf(soul) } })
  if (soul.length > limits.maxSoulLength) throw new GraphError('INVALID_SOUL', 'soul is too long', { details: { length: soul.length, limit: limits.maxSoulLength } })
  if (soul === '__proto__') throw new GraphError('INVALID_SOUL', 'soul "__proto__" is reserved', { details: { soul } })
  return soul
}

function checkKey(key: string, limits: WireLimits, soul?: string): string {
  if (key.length > limits.maxKeyLength) throw new GraphError('TOO_LARGE', 'key is too long', { details: { soul, length: key.length, limit: limits.maxKeyLength } })
  if (key === '__proto__') throw new GraphError('MALFORMED', 'key "__proto__" is reserved', { details: { soul } })
  return key
}

/** GUN's valid values: null, string, boolean, finite number, or a link `{"#": soul}` and nothing else. */
function checkValue(value: unknown, limits: WireLimits, soul: string, key: string): Value {
  switch (typeof value) {
    case 'string':
      if (value.length > limits.maxValueLength) throw new GraphError('TOO_LARGE', 'string value is too long', { details: { soul, key, length: value.length } })
      return value
    case 'boolean':
      return value
    case 'number':
      if (!Number.isFinite(value)) throw new GraphError('INVALID_VALUE', 'number is not finite', { details: { soul, key } })
      return value
    case 'object': {
      if (value === null) return null
      if (isPlainObject(value) && Object.keys(value).length === 1 && typeof value['#'] === 'string') {
        try {
          return { '#': checkSoul(value['#'], limits) }
        } catch (cause) {
          throw new GraphError('INVALID_VALUE', 'link points to an invalid soul', { details: { soul, key }, cause })
        }
      }
      throw new GraphError('INVALID_VALUE', 'value must be null, a string, a boolean, a finite number or a link {"#": soul}', {
        details: { soul, key, type: Array.isArray(value) ? 'array' : 'object' },
      })
    }
    default:
      throw new GraphError('INVALID_VALUE', 'value has an unsupported type', { details: { soul, key, type: typeof value } })
  }
}

function checkId(id: unknown, field: '#' | '@', limits: WireLimits): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > limits.maxIdLength) {
    throw new GraphError('MALFORMED', `message "${field}" must be a string of 1..${limits.maxIdLength} characters`, { details: { field } })
  }
  return id
}

function isUsableId(id: unknown, limits: WireLimits): boolean {
  return typeof id === 'string' && id.length > 0 && id.length <= limits.maxIdLength
}

function kindOf(item: unknown): { kind?: WireMessage['kind'] } {
  if (!isPlainObject(item)) return {}
  if (item.dam !== undefined) return { kind: 'dam' }
  if (item.put !== undefined && item.put !== null) return { kind: 'put' }
  if (item.get !== undefined) return { kind: 'get' }
  return {}
}

/** Encodes messages as one frame: a lone message as an object, several as GUN's batch array. */
export function encodeFrame(messages: readonly WireJson[]): string {
  if (messages.length === 1) return JSON.stringify(messages[0])
  return JSON.stringify(messages)
}

/** UTF-8 length of `text`, or a lower bound when that is enough to know it is within `limit` (no O(n) count for small frames). */
function byteLengthAtMost(text: string, limit: number): number {
  if (text.length > limit || text.length * 3 <= limit) return text.length // 1 ≤ bytes per UTF-16 unit ≤ 3
  return Buffer.byteLength(text)
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function typeOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value
}

/** Coop's list of refused keys in an err ack; anything not of its shape is ignored (it is informational). */
function decodeRefusals(value: unknown): WireRefusal[] | undefined {
  if (!Array.isArray(value)) return undefined
  const refusals: WireRefusal[] = []
  for (const item of value.slice(0, 100)) {
    if (!isPlainObject(item)) continue
    const soul = item['#']
    const key = item['.']
    const code = item.code
    if (typeof soul !== 'string' || typeof key !== 'string' || typeof code !== 'string') continue
    refusals.push({ '#': clipText(soul), '.': clipText(key), code: code.slice(0, 32) })
  }
  return refusals
}

function clipText(text: string): string {
  return text.length > 1000 ? `${text.slice(0, 1000)}…` : text
}
