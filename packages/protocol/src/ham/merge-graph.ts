import { HamCode, hamCode } from './ham.ts'
import type { Graph, GraphNode, Value } from './types.ts'

export type MergeResult = {
  /** The keys that win against `current` (with their states), as GUN-shaped nodes. */
  applied: Graph
  /** The keys whose state is ahead of `machineState`: to retry when the machine's clock reaches them. */
  deferred: Graph
  /**
   * The keys that lose to `current`: an older state, or the same state with a value that loses the
   * lexical tie-break. An exact duplicate (same state, same value) is in no bucket: it changes nothing.
   */
  historical: Graph
}

/**
 * Merges `delta` into `current` by HAM, key by key, without modifying either. `current` is what a
 * machine holds, `machineState` its clock. Applying `applied` to `current` (see `unionGraph`) gives
 * the merged graph. Inputs are assumed well-formed (see @coop/graph's validation).
 */
export function mergeGraph(current: Graph, delta: Graph, machineState: number): MergeResult {
  const applied: Graph = {}
  const deferred: Graph = {}
  const historical: Graph = {}
  for (const soul in delta) {
    const incoming = delta[soul] as GraphNode
    const states = incoming._['>']
    const here = Object.hasOwn(current, soul) ? current[soul] : undefined
    const hereStates = here?._['>']
    for (const key in incoming) {
      if (key === '_') continue
      const state = states[key] as number
      const value = incoming[key] as Value
      const currentState = hereStates !== undefined && Object.hasOwn(hereStates, key) ? hereStates[key] : undefined
      const currentValue = currentState === undefined ? undefined : (here?.[key] as Value | undefined)
      const code = hamCode(machineState, state, currentState, value, currentValue)
      if (code === HamCode.takeIncoming) putKey(applied, soul, key, value, state)
      else if (code === HamCode.defer) putKey(deferred, soul, key, value, state)
      else if (code === HamCode.historical || !sameValue(value, currentValue)) putKey(historical, soul, key, value, state)
    }
  }
  return { applied, deferred, historical }
}

/** `current` with every key of `delta` written over it (no HAM: use it with `mergeGraph`'s `applied`). */
export function unionGraph(current: Graph, delta: Graph): Graph {
  const out: Graph = {}
  for (const soul in current) {
    const node = current[soul] as GraphNode
    out[soul] = { ...node, _: { '#': soul, '>': { ...node._['>'] } } }
  }
  for (const soul in delta) {
    const node = delta[soul] as GraphNode
    for (const key in node) {
      if (key === '_') continue
      putKey(out, soul, key, node[key] as Value, node._['>'][key] as number)
    }
  }
  return out
}

/** Writes one key (value and state) into a graph, creating the node when missing. Links are copied. */
export function putKey(graph: Graph, soul: string, key: string, value: Value, state: number): void {
  let node = Object.hasOwn(graph, soul) ? graph[soul] : undefined
  if (node === undefined) {
    node = { _: { '#': soul, '>': {} } }
    graph[soul] = node
  }
  node._['>'][key] = state
  node[key] = value !== null && typeof value === 'object' ? { '#': value['#'] } : value
}

/** Equality of two values as HAM sees it (links by soul). */
export function sameValue(a: Value | undefined, b: Value | undefined): boolean {
  if (a === b) return true
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false
  return a['#'] === b['#']
}
