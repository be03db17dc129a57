// GUN's graph shapes (defined once, next to HAM, in @coop/protocol) and the store's own types.
export type { Graph, GraphNode, Link, NodeMeta, Soul, Value, HamOutcome, MergeResult } from '@coop/protocol'
import type { Graph } from '@coop/protocol'

/**
 * What a put did. `applied`: keys now current (and durable, when the store has a path).
 * `deferred`: keys whose state is ahead of the machine clock; recorded durably and applied by HAM when
 * the clock reaches their state (a `change` event fires then) — they are NOT applied yet.
 * `historical`: keys that lost to the current value (older state, or a lost lexical tie); kept in
 * the history only with `keepHistory`. Exact duplicates appear in no bucket.
 */
export type PutResult = { applied: Graph; deferred: Graph; historical: Graph }

/** One historical version of a key. */
export type HistoryEntry = { value: import('@coop/protocol').Value; state: number }

export type ChangeListener = (applied: Graph) => void

export interface GraphLimits {
  /** Longest soul, in UTF-16 code units (default 2048). */
  maxSoulLength: number
  /** Longest key (default 2048). */
  maxKeyLength: number
  /** Longest string value (default 1 MiB of UTF-16 code units). */
  maxValueLength: number
  /** Most keys in one put, over all nodes (default 1,000,000). */
  maxKeysPerPut: number
}

export interface GraphStoreOptions {
  /** SQLite file (node:sqlite, WAL, synchronous=FULL). Absent: in memory only, no durability work (benches). */
  path?: string
  /** The machine state (HAM's S), default `Date.now`. Tests inject a controllable clock. */
  clock?: () => number
  /**
   * A put carrying a state more than this many ms ahead of the clock is rejected whole with
   * GraphError FUTURE_STATE (nothing stored). Default 30 days; `Infinity` defers any future state (GUN).
   */
  maxDeferMs?: number
  /** Keep writes that lost (historical ones, and values replaced by newer ones) as history. Default false. */
  keepHistory?: boolean
  /** Hook (SEA verifier): returns the subset of the delta that may be stored; throws GraphError to reject. */
  verify?: (delta: Graph) => Promise<Graph> | Graph
  /** Bounds on input (see GraphLimits). */
  limits?: Partial<GraphLimits>
}
