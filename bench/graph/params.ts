// Workload sizes of the graph map benches (issue 5). Shared by the orchestrator and the per-run child.
export const PARAMS = {
  /** (a) one writer: 1M sets on 10k keys of one map */
  a: { sets: 1_000_000, keys: 10_000 },
  /** (b) B3-style: 1,000 clients, each sets the shared key "v" and 9 keys of its own, then all merge into one replica */
  b: { clients: 1_000, ownKeys: 9 },
  /** (c) two replicas diverged on the same 100k keys; B merged into A */
  c: { keys: 100_000 },
} as const

export type WorkloadName = 'a' | 'b' | 'c'

export type WorkloadResult = {
  system: 'coop' | 'gun' | 'yjs'
  workload: WorkloadName
  /** sets (a, b) or conflicting keys merged (c) */
  ops: number
  /** from the first call until every write is applied and readable */
  ms: number
  liveKeys: number
  /** heap after GC (of the replica that holds the map) minus the heap after GC before it existed */
  heapBytes: number
  detail: Record<string, unknown>
  describe?: Record<string, unknown>
}
