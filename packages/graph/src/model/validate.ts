import { GraphError } from '../errors.ts'
import type { Graph, GraphLimits, Value } from '../types.ts'
import { DEFAULT_LIMITS } from './limits.ts'

/**
 * Checks that `delta` is a well-formed GUN graph: every node an object whose `_['#']` is its soul and
 * whose `_['>']` holds a finite number state for each key, every value null, a string within the
 * length limit, a boolean, a finite number or a link `{ '#': soul }`. Throws a GraphError at the first
 * problem (so a put stores all of a delta or nothing). Returns the highest state seen (for the
 * future-state bound), or -Infinity for an empty delta.
 *
 * `__proto__` is refused as a soul or key: GUN has no use for it and plain objects would turn it into
 * a prototype change.
 */
export function validateDelta(delta: unknown, limits: Readonly<GraphLimits> = DEFAULT_LIMITS): number {
  if (!isPlainObject(delta)) throw new GraphError('MALFORMED', 'A graph must be an object of nodes by soul', { details: { got: describe(delta) } })
  let maxState = -Infinity
  let keys = 0
  for (const soul in delta) {
    if (!Object.hasOwn(delta, soul)) continue
    validateSoul(soul, limits)
    const node = (delta as Record<string, unknown>)[soul]
    if (!isPlainObject(node)) throw new GraphError('MALFORMED', 'A node must be an object', { details: { soul, got: describe(node) } })
    const meta = (node as Record<string, unknown>)._
    if (!isPlainObject(meta)) throw new GraphError('MALFORMED', 'A node needs its metadata under "_"', { details: { soul } })
    if ((meta as Record<string, unknown>)['#'] !== soul) {
      throw new GraphError('MALFORMED', "A node's _['#'] must be the soul it is filed under", { details: { soul, metaSoul: describe((meta as Record<string, unknown>)['#']) } })
    }
    const states = (meta as Record<string, unknown>)['>']
    if (!isPlainObject(states)) throw new GraphError('MALFORMED', "A node needs its key states under _['>']", { details: { soul } })
    for (const key in node as object) {
      if (key === '_' || !Object.hasOwn(node as object, key)) continue
      if (++keys > limits.maxKeysPerPut) throw new GraphError('TOO_LARGE', 'Too many keys in one put', { details: { max: limits.maxKeysPerPut } })
      if (key.length > limits.maxKeyLength) throw new GraphError('TOO_LARGE', 'Key too long', { details: { soul, length: key.length, max: limits.maxKeyLength } })
      if (key === '__proto__') throw new GraphError('MALFORMED', 'The key "__proto__" is not allowed', { details: { soul } })
      const state = Object.hasOwn(states as object, key) ? (states as Record<string, unknown>)[key] : undefined
      if (typeof state !== 'number' || !Number.isFinite(state)) {
        throw new GraphError('INVALID_STATE', 'Every key needs a finite number state', { details: { soul, key, state: describe(state) } })
      }
      if (state > maxState) maxState = state
      validateValue((node as Record<string, unknown>)[key], limits, soul, key)
    }
  }
  return maxState
}

export function validateSoul(soul: unknown, limits: Readonly<GraphLimits> = DEFAULT_LIMITS): asserts soul is string {
  if (typeof soul !== 'string' || soul.length === 0) throw new GraphError('INVALID_SOUL', 'A soul must be a non-empty string', { details: { soul: describe(soul) } })
  if (soul.length > limits.maxSoulLength) throw new GraphError('INVALID_SOUL', 'Soul too long', { details: { length: soul.length, max: limits.maxSoulLength } })
  if (soul === '__proto__') throw new GraphError('INVALID_SOUL', 'The soul "__proto__" is not allowed')
}

export function validateValue(value: unknown, limits: Readonly<GraphLimits> = DEFAULT_LIMITS, soul?: string, key?: string): asserts value is Value {
  switch (typeof value) {
    case 'string':
      if (value.length > limits.maxValueLength) throw new GraphError('TOO_LARGE', 'String value too long', { details: { soul, key, length: value.length, max: limits.maxValueLength } })
      return
    case 'boolean':
      return
    case 'number':
      if (!Number.isFinite(value)) throw new GraphError('INVALID_VALUE', 'Numbers must be finite (no NaN or Infinity)', { details: { soul, key, value: String(value) } })
      return
    case 'object':
      if (value === null) return
      if (isLink(value)) {
        validateSoul(value['#'], limits)
        return
      }
      throw new GraphError('INVALID_VALUE', 'An object value must be a link { "#": soul } (nest objects with toGraph)', { details: { soul, key, got: describe(value) } })
    default:
      throw new GraphError('INVALID_VALUE', 'Values are null, string, boolean, finite number or a link', { details: { soul, key, got: typeof value } })
  }
}

/** A link is an object with exactly one own key, "#", holding a string (GUN's `valid`). */
export function isLink(value: unknown): value is { '#': string } {
  if (!isPlainObject(value)) return false
  let count = 0
  for (const key in value as object) {
    if (!Object.hasOwn(value as object, key)) continue
    if (key !== '#' || ++count > 1) return false
  }
  return count === 1 && typeof (value as Record<string, unknown>)['#'] === 'string'
}

export function isPlainObject(value: unknown): value is object {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (typeof value === 'string') return value.length > 40 ? `${value.slice(0, 37)}...` : value
  return typeof value
}
