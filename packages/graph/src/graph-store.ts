// The graph: every node in memory (GUN's shape, so reads and the wire need no conversion), HAM on
// every incoming key, and — with a path — a durable SQLite copy written in batched transactions.
// A put is acknowledged (its promise resolves) only after the transaction holding it committed.

import { HamCode, hamCode, putKey, sameValue } from '@coop/protocol'
import { GraphError } from './errors.ts'
import { resolveLimits } from './model/limits.ts'
import { createStateClock } from './model/state-clock.ts'
import { validateDelta, validateSoul, validateValue } from './model/validate.ts'
import { SqliteStorage, type StorageTransaction } from './storage/sqlite-storage.ts'
import type { ChangeListener, Graph, GraphLimits, GraphNode, GraphStoreOptions, HistoryEntry, PutResult, Soul, Value } from './types.ts'

const EMPTY: Graph = Object.freeze({}) as Graph
const MAX_TIMER_MS = 2_147_483_647
const DEFAULT_MAX_DEFER_MS = 30 * 24 * 3600 * 1000

/** A write whose state was ahead of the clock, waiting for it (persisted with a path). */
type Deferral = { id: number; soul: Soul; key: string; value: Value; state: number; matured: boolean }

type Waiter = { resolve: (result: any) => void; reject: (error: unknown) => void; result: unknown }

/** What `set` did with its one key (see PutResult for the meaning of each). */
export type SetOutcome = 'applied' | 'deferred' | 'historical' | 'unchanged'
const SET_OUTCOMES: readonly SetOutcome[] = ['deferred', 'historical', 'unchanged', 'applied'] // by HamCode
// In memory a set resolves at once; these shared, already-settled promises make that allocation-free.
const SETTLED: readonly Promise<SetOutcome>[] = SET_OUTCOMES.map((outcome) => Promise.resolve(outcome))

/** A node as held in memory: GUN's shape, plain objects (see stateOf). */
type StoredNode = GraphNode

export class GraphStore {
  readonly #nodes = new Map<Soul, StoredNode>()
  readonly #clock: () => number
  readonly #maxDeferMs: number
  readonly #keepHistory: boolean
  readonly #verify: GraphStoreOptions['verify']
  readonly #limits: Readonly<GraphLimits>
  readonly #storage: SqliteStorage | undefined
  readonly #listeners = new Set<ChangeListener>()
  readonly #memoryHistory = new Map<string, HistoryEntry[]>()
  readonly #stateClock: () => number

  // deferrals: a binary min-heap on state
  readonly #deferrals: Deferral[] = []
  readonly #deferralIds = new Set<string>()
  #deferralTimer: NodeJS.Timeout | undefined
  #deferralTimerAt = Infinity

  // the batch waiting for its transaction (durable mode only)
  #dirty = new Map<Soul, Set<string>>()
  #newDeferrals: Deferral[] = []
  #maturedDeferrals: Deferral[] = []
  #history: Array<[Soul, string, Value, number]> = []
  #waiters: Waiter[] = []
  #changes: Graph[] = []
  #flushScheduled = false
  #failure: GraphError | undefined
  #closed = false

  private constructor(options: GraphStoreOptions, storage: SqliteStorage | undefined) {
    this.#clock = options.clock ?? Date.now
    this.#maxDeferMs = options.maxDeferMs ?? DEFAULT_MAX_DEFER_MS
    this.#keepHistory = options.keepHistory ?? false
    this.#verify = options.verify
    this.#limits = resolveLimits(options.limits)
    this.#storage = storage
    const stateClock = createStateClock(this.#clock)
    this.#stateClock = () => (this.#lastStamp = stateClock())
  }

  #lastStamp = -Infinity

  /** HAM's machine state: the clock, or the last state this store stamped if that ran ahead (GUN reads State() as now). */
  #now(): number {
    const now = this.#clock()
    return now > this.#lastStamp ? now : this.#lastStamp
  }

  /** Opens (creating if needed) the store at `options.path`, or an in-memory one without a path. */
  static async open(options: GraphStoreOptions = {}): Promise<GraphStore> {
    const storage = options.path === undefined ? undefined : new SqliteStorage(options.path)
    const store = new GraphStore(options, storage)
    if (storage !== undefined) {
      for (const row of storage.loadNodes()) store.#write(row.soul, row.key, row.value, row.state)
      for (const row of storage.loadDeferrals()) store.#pushDeferral({ ...row, matured: false })
      await store.matureDeferrals() // those whose time came while we were down
      store.#scheduleDeferralTimer()
    }
    return store
  }

  /** Whether writes reach a durable store (a path was given). */
  get durable(): boolean {
    return this.#storage !== undefined
  }

  /**
   * Merges `delta` by HAM. Resolves (the ack) once every applied, deferred and historical key of it is
   * durable (with a path: after the SQLite commit; in memory: at once). Rejects with GraphError, storing
   * nothing, when the delta is malformed, over a limit, too far in the future, or refused by `verify`.
   * Deferred keys are recorded but NOT applied: they are in `result.deferred` and a `change` event
   * reports them when their state comes.
   */
  put(delta: Graph): Promise<PutResult> {
    if (this.#closed) return Promise.reject(new GraphError('CLOSED', 'The graph store is closed'))
    if (this.#failure !== undefined) return Promise.reject(this.#failure)
    let maxState: number
    try {
      maxState = validateDelta(delta, this.#limits)
    } catch (error) {
      return Promise.reject(error)
    }
    const now = this.#now()
    if (maxState > now + this.#maxDeferMs) {
      return Promise.reject(
        new GraphError('FUTURE_STATE', 'A state is further in the future than this store defers', { details: { state: maxState, maxDeferMs: this.#maxDeferMs } }),
      )
    }
    if (this.#verify !== undefined) {
      const verify = this.#verify
      return Promise.resolve()
        .then(() => verify(delta))
        .then((allowed) => {
          if (this.#closed) throw new GraphError('CLOSED', 'The graph store is closed')
          if (allowed !== delta) validateDelta(allowed, this.#limits)
          return this.#merge(allowed, this.#now())
        })
    }
    return this.#merge(delta, now)
  }

  /**
   * Writes one key, like `gun.get(soul).put({ [key]: value })`: `state` defaults to the store's
   * GUN-style state clock (the clock, made strictly increasing). The same HAM, validation, durability
   * and events as `put`, without building a delta — the fast path for local writes. Resolves with what
   * happened to the key once durable. Not run through `verify` (local writes are the caller's own).
   */
  set(soul: Soul, key: string, value: Value, state?: number): Promise<SetOutcome> {
    if (this.#closed) return Promise.reject(new GraphError('CLOSED', 'The graph store is closed'))
    if (this.#failure !== undefined) return Promise.reject(this.#failure)
    const limits = this.#limits
    try {
      validateSoul(soul, limits)
      if (typeof key !== 'string' || key === '_' || key === '__proto__' || key.length > limits.maxKeyLength) {
        throw new GraphError('MALFORMED', 'A key must be a string other than "_" and "__proto__", within the length limit', { details: { soul, key: String(key) } })
      }
      validateValue(value, limits, soul, key)
      if (state !== undefined && (typeof state !== 'number' || !Number.isFinite(state))) {
        throw new GraphError('INVALID_STATE', 'The state must be a finite number', { details: { soul, key, state: String(state) } })
      }
    } catch (error) {
      return Promise.reject(error)
    }
    // A state this store stamps itself is never "from the future": in a burst the state clock runs
    // ahead of the wall clock by thousandths of a ms per write, and #now() follows it.
    const keyState = state ?? this.#stateClock()
    const now = this.#now()
    if (keyState > now + this.#maxDeferMs) {
      return Promise.reject(new GraphError('FUTURE_STATE', 'A state is further in the future than this store defers', { details: { state: keyState, maxDeferMs: this.#maxDeferMs } }))
    }
    let node = this.#nodes.get(soul)
    const currentState = node === undefined ? undefined : stateOf(node, key)
    const currentValue = currentState === undefined ? undefined : ((node as StoredNode)[key] as Value)
    const code = hamCode(now, keyState, currentState, value, currentValue)
    let applied: Graph | undefined
    if (code === HamCode.takeIncoming) {
      if (this.#keepHistory && currentState !== undefined) this.#recordHistory(soul, key, currentValue as Value, currentState)
      if (node === undefined) {
        node = newNode(soul)
        this.#nodes.set(soul, node)
      }
      node._['>'][key] = keyState
      node[key] = value !== null && typeof value === 'object' ? { '#': value['#'] } : value
      if (this.#storage !== undefined) this.#markDirty(soul, key)
      if (this.#listeners.size > 0) putKey((applied = {}), soul, key, value, keyState)
    } else if (code === HamCode.defer) {
      this.#pushDeferral({ id: 0, soul, key, value, state: keyState, matured: false })
      this.#scheduleDeferralTimer()
    } else if (this.#keepHistory && (code === HamCode.historical || !sameValue(value, currentValue))) {
      this.#recordHistory(soul, key, value, keyState)
    }
    const outcome = code === HamCode.keepCurrent && !sameValue(value, currentValue) ? HamCode.historical : code
    if (this.#storage === undefined) {
      if (applied !== undefined) this.#emit(applied)
      return SETTLED[outcome] as Promise<SetOutcome>
    }
    if (applied !== undefined) this.#changes.push(applied)
    return new Promise<SetOutcome>((resolve, reject) => {
      this.#waiters.push({ resolve, reject, result: SET_OUTCOMES[outcome] })
      this.#scheduleFlush()
    })
  }

  /** The node as stored (live and shared: do not modify it), or only `key` of it (a fresh node). */
  get(soul: Soul, key?: string): GraphNode | undefined {
    const node = this.#nodes.get(soul)
    if (node === undefined || key === undefined) return node
    const state = stateOf(node, key)
    if (state === undefined) return undefined
    const one: Graph = {}
    putKey(one, soul, key, node[key] as Value, state)
    return one[soul]
  }

  /** The current value of one key (no allocation), undefined when the key is unknown. */
  value(soul: Soul, key: string): Value | undefined {
    const node = this.#nodes.get(soul)
    return node === undefined || stateOf(node, key) === undefined ? undefined : (node[key] as Value)
  }

  /** The HAM state of one key, undefined when unknown. */
  state(soul: Soul, key: string): number | undefined {
    const node = this.#nodes.get(soul)
    return node === undefined ? undefined : stateOf(node, key)
  }

  /** The next state of the store's GUN-style state clock (strictly increasing; what `set` stamps by default). */
  nextState(): number {
    return this.#stateClock()
  }

  /** Number of nodes held. */
  get size(): number {
    return this.#nodes.size
  }

  /** The souls held. */
  souls(): IterableIterator<Soul> {
    return this.#nodes.keys()
  }

  /**
   * Every key whose state is greater than `state`, as a graph (for resync). States are the writers'
   * clocks, not arrival times: a peer resyncing after a partition should ask from a little before the
   * partition began (or from -Infinity for everything).
   */
  graphSince(state: number): Graph {
    const out: Graph = {}
    for (const [soul, node] of this.#nodes) {
      const states = node._['>']
      // One node of the copy per soul, filled directly (not putKey per key: no graph lookups per key).
      let copy: GraphNode | undefined
      let copyStates: Record<string, number> | undefined
      for (const key in states) {
        const keyState = states[key] as number
        if (!(keyState > state)) continue
        if (copy === undefined) {
          copyStates = {}
          copy = { _: { '#': soul, '>': copyStates } }
          out[soul] = copy
        }
        ;(copyStates as Record<string, number>)[key] = keyState
        const value = node[key] as Value
        copy[key] = value !== null && typeof value === 'object' ? { '#': value['#'] } : value
      }
    }
    return out
  }

  /** The whole graph (a copy). */
  graph(): Graph {
    return this.graphSince(-Infinity)
  }

  /** Writes that lost (historical), oldest first. Recorded only with `keepHistory`. */
  history(soul: Soul, key: string): HistoryEntry[] {
    validateSoul(soul, this.#limits)
    if (this.#storage !== undefined) return this.#storage.history(soul, key)
    return [...(this.#memoryHistory.get(historyKey(soul, key)) ?? [])].sort(compareHistory)
  }

  /** Deferred writes still waiting, earliest first. */
  deferred(): Array<{ soul: Soul; key: string; value: Value; state: number }> {
    return [...this.#deferrals].sort((a, b) => a.state - b.state || a.id - b.id).map(({ soul, key, value, state }) => ({ soul, key, value, state }))
  }

  /** Listens for changes: fires with what was applied (after it is durable), including matured deferrals. */
  on(event: 'change', listener: ChangeListener): () => void {
    if (event !== 'change') throw new GraphError('MALFORMED', 'Unknown event', { details: { event } })
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  /**
   * Applies, by HAM, every deferred write whose state the clock has reached; resolves with what changed
   * once that is durable. Runs by itself on a timer; tests with an injected clock call it directly.
   */
  matureDeferrals(): Promise<Graph> {
    if (this.#closed) return Promise.resolve({})
    const now = this.#now()
    const heap = this.#deferrals
    let applied: Graph | undefined
    while (heap.length > 0 && (heap[0] as Deferral).state <= now) {
      const deferral = this.#popDeferral()
      deferral.matured = true
      if (this.#storage !== undefined) this.#maturedDeferrals.push(deferral)
      const { soul, key, value, state } = deferral
      const node = this.#nodes.get(soul)
      const currentState = node === undefined ? undefined : stateOf(node, key)
      const currentValue = currentState === undefined ? undefined : (node?.[key] as Value)
      const code = hamCode(now, state, currentState, value, currentValue)
      if (code === HamCode.takeIncoming) {
        if (this.#keepHistory && currentState !== undefined) this.#recordHistory(soul, key, currentValue as Value, currentState)
        this.#write(soul, key, value, state)
        putKey((applied ??= {}), soul, key, value, state)
      } else if (this.#keepHistory && (code === HamCode.historical || !sameValue(value, currentValue))) {
        this.#recordHistory(soul, key, value, state)
      }
    }
    this.#scheduleDeferralTimer()
    const result = applied ?? {}
    if (this.#storage === undefined) {
      if (applied !== undefined) this.#emit(applied)
      return Promise.resolve(result)
    }
    if (applied === undefined && this.#maturedDeferrals.length === 0) return Promise.resolve(result)
    if (applied !== undefined) this.#changes.push(applied)
    return new Promise<Graph>((resolve, reject) => {
      this.#waiters.push({ resolve, reject, result })
      this.#scheduleFlush()
    })
  }

  /** Waits for pending writes, stops the deferral timer and closes the database. Deferrals stay persisted. */
  async close(): Promise<void> {
    if (this.#closed) return
    if (this.#storage !== undefined && this.#hasPending()) this.#flush()
    this.#closed = true
    if (this.#deferralTimer !== undefined) clearTimeout(this.#deferralTimer)
    this.#deferralTimer = undefined
    this.#storage?.close()
  }

  // ---------------------------------------------------------------------------------------------

  #merge(delta: Graph, now: number): Promise<PutResult> {
    const durable = this.#storage !== undefined
    const keepHistory = this.#keepHistory
    let applied: Graph | undefined
    let deferred: Graph | undefined
    let historical: Graph | undefined
    for (const soul in delta) {
      const incoming = delta[soul] as GraphNode
      const states = incoming._['>']
      let node = this.#nodes.get(soul)
      let nodeStates = node?._['>']
      let partial = false // some key of this node was not applied
      let subset: GraphNode | undefined // then: the applied keys
      let appliedCount = 0
      let count = 0
      let dirty: Set<string> | undefined
      let deferredNode: GraphNode | undefined // this soul's node in `deferred` / `historical`, once needed
      let historicalNode: GraphNode | undefined
      for (const key in incoming) {
        if (key === '_') continue // (validated: a plain object, so for-in yields own keys only)
        count++
        const state = states[key] as number
        const value = incoming[key] as Value
        const currentState = nodeStates === undefined ? undefined : stateIn(nodeStates, key)
        const currentValue = currentState === undefined ? undefined : ((node as StoredNode)[key] as Value)
        const code = hamCode(now, state, currentState, value, currentValue)
        if (code === HamCode.takeIncoming) {
          if (node === undefined) {
            node = newNode(soul)
            nodeStates = node._['>']
            this.#nodes.set(soul, node)
          }
          if (keepHistory && currentState !== undefined) this.#recordHistory(soul, key, currentValue as Value, currentState)
          ;(nodeStates as Record<string, number>)[key] = state
          node[key] = value !== null && typeof value === 'object' ? { '#': value['#'] } : value
          if (durable) {
            if (dirty === undefined) {
              dirty = this.#dirty.get(soul)
              if (dirty === undefined) this.#dirty.set(soul, (dirty = new Set()))
            }
            dirty.add(key)
          }
          if (partial) {
            subset ??= { _: { '#': soul, '>': {} } }
            subset._['>'][key] = state
            subset[key] = value
          }
          appliedCount++
          continue
        }
        if (!partial) {
          // the first key not applied: the ones before it all were
          partial = true
          if (appliedCount > 0) subset = firstKeys(incoming, soul, appliedCount)
        }
        if (code === HamCode.defer) {
          deferredNode ??= bucketNode((deferred ??= {}), soul)
          deferredNode._['>'][key] = state
          deferredNode[key] = copyValue(value)
          this.#pushDeferral({ id: 0, soul, key, value, state, matured: false })
        } else if (code === HamCode.historical || !sameValue(value, currentValue)) {
          historicalNode ??= bucketNode((historical ??= {}), soul)
          historicalNode._['>'][key] = state
          historicalNode[key] = copyValue(value)
          if (keepHistory) this.#recordHistory(soul, key, value, state)
        }
      }
      if (appliedCount > 0) {
        // The whole incoming node applied: hand it back as is (no copy) unless its meta carries extra states.
        ;(applied ??= {})[soul] = partial ? (subset as GraphNode) : countKeys(states) === count ? incoming : firstKeys(incoming, soul, appliedCount)
      }
    }
    if (deferred !== undefined) this.#scheduleDeferralTimer()
    const result: PutResult = { applied: applied ?? {}, deferred: deferred ?? EMPTY, historical: historical ?? EMPTY }
    if (!durable) {
      if (applied !== undefined && this.#listeners.size > 0) this.#emit(applied)
      return Promise.resolve(result)
    }
    if (applied !== undefined) this.#changes.push(applied)
    return new Promise<PutResult>((resolve, reject) => {
      this.#waiters.push({ resolve, reject, result })
      this.#scheduleFlush()
    })
  }

  #write(soul: Soul, key: string, value: Value, state: number): void {
    let node = this.#nodes.get(soul)
    if (node === undefined) {
      node = newNode(soul)
      this.#nodes.set(soul, node)
    }
    node._['>'][key] = state
    node[key] = value !== null && typeof value === 'object' ? { '#': value['#'] } : value
    if (this.#storage !== undefined) this.#markDirty(soul, key)
  }

  #markDirty(soul: Soul, key: string): void {
    let dirty = this.#dirty.get(soul)
    if (dirty === undefined) this.#dirty.set(soul, (dirty = new Set()))
    dirty.add(key)
  }

  #recordHistory(soul: Soul, key: string, value: Value, state: number): void {
    if (this.#storage !== undefined) {
      this.#history.push([soul, key, value, state])
      return
    }
    const id = historyKey(soul, key)
    const list = this.#memoryHistory.get(id)
    const entry = { value, state }
    if (list === undefined) this.#memoryHistory.set(id, [entry])
    else if (!list.some((old) => old.state === state && sameValue(old.value, value))) list.push(entry)
  }

  #emit(applied: Graph): void {
    for (const listener of this.#listeners) {
      try {
        listener(applied)
      } catch (error) {
        queueMicrotask(() => {
          throw error
        })
      }
    }
  }

  #hasPending(): boolean {
    return this.#waiters.length > 0 || this.#dirty.size > 0 || this.#newDeferrals.length > 0 || this.#maturedDeferrals.length > 0 || this.#history.length > 0
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return
    this.#flushScheduled = true
    // setImmediate: every put made in this turn of the event loop shares one transaction.
    setImmediate(() => {
      this.#flushScheduled = false
      if (!this.#closed) this.#flush()
    })
  }

  /** Writes the batch in one transaction, then acknowledges its puts and reports its changes. */
  #flush(): void {
    const storage = this.#storage as SqliteStorage
    const dirty = this.#dirty
    const newDeferrals = this.#newDeferrals
    const matured = this.#maturedDeferrals
    const history = this.#history
    const waiters = this.#waiters
    const changes = this.#changes
    this.#dirty = new Map()
    this.#newDeferrals = []
    this.#maturedDeferrals = []
    this.#history = []
    this.#waiters = []
    this.#changes = []
    try {
      storage.transaction((tx: StorageTransaction) => {
        for (const [soul, keys] of dirty) {
          const node = this.#nodes.get(soul) as StoredNode
          const states = node._['>']
          for (const key of keys) tx.upsert(soul, key, node[key] as Value, states[key] as number)
        }
        for (const deferral of newDeferrals) {
          if (!deferral.matured) deferral.id = tx.defer(deferral.soul, deferral.key, deferral.value, deferral.state)
        }
        for (const deferral of matured) if (deferral.id !== 0) tx.dropDeferral(deferral.id)
        for (const [soul, key, value, state] of history) tx.history(soul, key, value, state)
      })
    } catch (error) {
      // Memory is now ahead of the disk: refuse further writes; reopening reloads the durable state.
      this.#failure = error instanceof GraphError ? error : new GraphError('STORAGE', 'The graph database write failed', { cause: error })
      for (const waiter of waiters) waiter.reject(this.#failure)
      return
    }
    for (const waiter of waiters) waiter.resolve(waiter.result)
    if (this.#listeners.size > 0) for (const applied of changes) this.#emit(applied)
  }

  /** Queues a deferral unless the same write (soul, key, state, value) already waits: GUN peers resend. */
  #pushDeferral(deferral: Deferral): void {
    const id = deferralKey(deferral)
    if (this.#deferralIds.has(id)) return
    this.#deferralIds.add(id)
    if (this.#storage !== undefined && deferral.id === 0) {
      this.#newDeferrals.push(deferral)
    }
    const heap = this.#deferrals
    heap.push(deferral)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if ((heap[parent] as Deferral).state <= deferral.state) break
      heap[i] = heap[parent] as Deferral
      i = parent
    }
    heap[i] = deferral
  }

  #popDeferral(): Deferral {
    const heap = this.#deferrals
    const top = heap[0] as Deferral
    this.#deferralIds.delete(deferralKey(top))
    const last = heap.pop() as Deferral
    if (heap.length > 0) {
      let i = 0
      for (;;) {
        const left = 2 * i + 1
        if (left >= heap.length) break
        const right = left + 1
        const child = right < heap.length && (heap[right] as Deferral).state < (heap[left] as Deferral).state ? right : left
        if ((heap[child] as Deferral).state >= last.state) break
        heap[i] = heap[child] as Deferral
        i = child
      }
      heap[i] = last
    }
    return top
  }

  #scheduleDeferralTimer(): void {
    if (this.#closed) return
    const next = this.#deferrals[0]
    if (next === undefined) {
      if (this.#deferralTimer !== undefined) clearTimeout(this.#deferralTimer)
      this.#deferralTimer = undefined
      this.#deferralTimerAt = Infinity
      return
    }
    if (this.#deferralTimer !== undefined && this.#deferralTimerAt <= next.state) return
    if (this.#deferralTimer !== undefined) clearTimeout(this.#deferralTimer)
    const delay = Math.min(Math.max(0, Math.ceil(next.state - this.#clock())), MAX_TIMER_MS)
    this.#deferralTimerAt = next.state
    this.#deferralTimer = setTimeout(() => {
      this.#deferralTimer = undefined
      this.#deferralTimerAt = Infinity
      this.matureDeferrals().catch(() => {
        // a storage failure is kept in #failure and reported to the next put
      })
    }, delay)
    this.#deferralTimer.unref()
  }
}

function newNode(soul: Soul): StoredNode {
  return { _: { '#': soul, '>': {} } }
}

/** `graph[soul]`, created empty when missing (a result bucket of #merge). */
function bucketNode(graph: Graph, soul: Soul): GraphNode {
  return Object.hasOwn(graph, soul) ? (graph[soul] as GraphNode) : (graph[soul] = newNode(soul))
}

/** A value as a result graph holds it: links copied, so callers never share the store's or the input's. */
function copyValue(value: Value): Value {
  return value !== null && typeof value === 'object' ? { '#': value['#'] } : value
}

/**
 * A key's state, undefined when the key is unknown. Nodes are plain objects (so they compare and
 * serialize like any graph); `__proto__` is refused at validation, and a name Object.prototype
 * has (`constructor`, `toString`…) is not a number there, so it reads as unknown until written.
 */
function stateOf(node: StoredNode, key: string): number | undefined {
  const state = node._['>'][key]
  return typeof state === 'number' ? state : undefined
}

function stateIn(states: Record<string, number>, key: string): number | undefined {
  const state = states[key]
  return typeof state === 'number' ? state : undefined
}

/** A node with the first `count` keys of `incoming` (all applied so far). */
function firstKeys(incoming: GraphNode, soul: Soul, count: number): GraphNode {
  const out: GraphNode = { _: { '#': soul, '>': {} } }
  const states = incoming._['>']
  let taken = 0
  for (const key in incoming) {
    if (taken === count) break
    if (key === '_' || !Object.hasOwn(incoming, key)) continue
    out._['>'][key] = states[key] as number
    out[key] = incoming[key] as Value
    taken++
  }
  return out
}

function countKeys(object: object): number {
  let count = 0
  for (const key in object) if (Object.hasOwn(object, key)) count++
  return count
}

function deferralKey(deferral: Deferral): string {
  return `${deferral.state}\u0000${deferral.soul}\u0000${deferral.key}\u0000${JSON.stringify(deferral.value)}`
}

function historyKey(soul: Soul, key: string): string {
  return `${soul}\u0000${key}`
}

function compareHistory(a: HistoryEntry, b: HistoryEntry): number {
  return a.state - b.state || (JSON.stringify(a.value) < JSON.stringify(b.value) ? -1 : 1)
}
