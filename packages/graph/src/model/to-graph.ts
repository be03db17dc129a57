import { putKey } from '@coop/protocol'
import { GraphError } from '../errors.ts'
import type { Graph, GraphLimits, Link, Value } from '../types.ts'
import { DEFAULT_LIMITS } from './limits.ts'
import { isLink, isPlainObject, validateSoul, validateValue } from './validate.ts'

/** A plain JS object to store under a soul: values, links, and nested objects (which become nodes). */
export type PlainData = { [key: string]: Value | PlainData | undefined }

/**
 * Turns `data` into the graph GUN's `gun.get(soul).put(data)` writes, every key at `state`: nested
 * objects become their own nodes, linked from their parent, with GUN's soul convention — the nested
 * object's own `_['#']` when it has one, else `<parent soul>/<key>`. An object met twice (a cycle, or
 * shared) becomes one node linked from both places. Arrays, functions, NaN and Infinity are rejected
 * (GraphError INVALID_VALUE); `undefined` keys are skipped like JSON does.
 */
export function toGraph(soul: string, data: PlainData, state: number, limits: Readonly<GraphLimits> = DEFAULT_LIMITS): Graph {
  validateSoul(soul, limits)
  if (!Number.isFinite(state)) throw new GraphError('INVALID_STATE', 'The state must be a finite number', { details: { state: String(state) } })
  if (!isPlainObject(data) || isLink(data)) throw new GraphError('INVALID_VALUE', 'Data at a soul must be a plain object', { details: { soul } })
  const graph: Graph = {}
  const seen = new Map<object, string>()
  const walk = (nodeSoul: string, object: object): void => {
    seen.set(object, nodeSoul)
    if (!Object.hasOwn(graph, nodeSoul)) graph[nodeSoul] = { _: { '#': nodeSoul, '>': {} } }
    for (const key of Object.keys(object)) {
      if (key === '_') continue
      if (key === '__proto__') throw new GraphError('MALFORMED', 'The key "__proto__" is not allowed', { details: { soul: nodeSoul } })
      const value = (object as Record<string, unknown>)[key]
      if (value === undefined) continue
      if (isPlainObject(value) && !isLink(value)) {
        const known = seen.get(value as object)
        const childSoul = known ?? ownSoul(value as object) ?? `${nodeSoul}/${key}`
        validateSoul(childSoul, limits)
        putKey(graph, nodeSoul, key, { '#': childSoul } satisfies Link, state)
        if (known === undefined) walk(childSoul, value as object)
        continue
      }
      validateValue(value, limits, nodeSoul, key)
      putKey(graph, nodeSoul, key, value, state)
    }
  }
  walk(soul, data)
  return graph
}

function ownSoul(object: object): string | undefined {
  const meta = (object as { _?: unknown })._
  if (!isPlainObject(meta)) return undefined
  const soul = (meta as Record<string, unknown>)['#']
  return typeof soul === 'string' ? soul : undefined
}
