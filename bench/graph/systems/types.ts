import type { MapValue } from '../workloads.ts'

/** Reads one key of a replica's map as the system's read API returned it (undefined: absent). */
export type MapReader = (key: string) => unknown

/**
 * One replica of one map, driven only through the system's public write, read and merge paths.
 * Every system gets the same calls in the same order; the harness times them.
 */
export interface MapReplica {
  /** One set through the system's ordinary write call. A returned promise is awaited before the next set. */
  set(key: string, value: MapValue): void | Promise<void>
  /** A read of the whole map through the system's read API, resolved once that read answers. */
  read(): Promise<MapReader>
  /**
   * Optional: a look at the replica's state that leaves no trace in it, for polling an asynchronous
   * system until its writes are applied (the harness still confirms with `read()`). gun needs it:
   * polling with once() subscribes the chain, and a subscribed chain drops some newer keys of a later
   * merge (seen with gun 0.2020.1241: 4–62 of 2,000 keys).
   */
  peek?(): MapReader
  /** What this replica ships to another one for a merge (its whole state). */
  exportState(): unknown
  /** Merges another replica's exported state into this one, the way the system merges replicas. */
  merge(states: unknown[]): void | Promise<void>
  close(): Promise<void>
}

export interface MapSystem {
  name: 'coop' | 'gun' | 'yjs'
  /** A writes that returns before it is applied makes the harness poll `read()` until it is. */
  writesAreAsync: boolean
  replica(index: number): Promise<MapReplica>
  /** Facts about the configuration, recorded in the result's params. */
  describe(): Record<string, unknown>
}
