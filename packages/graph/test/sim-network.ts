// An in-process network of GraphStores for tests: one controllable clock (each replica may be skewed),
// messages with delivery times that tests deliver in any order, drop (partitions) or duplicate.
// Each replica relays what it applied to its linked peers, as a GUN peer does.

import { GraphStore, type Graph, type GraphStoreOptions, type Value } from '@coop/graph'

export type Message = { id: number; from: number; to: number; delta: Graph; at: number }

export class SimNetwork {
  now: number
  readonly replicas: GraphStore[] = []
  readonly skews: number[]
  queue: Message[] = []
  latency: number
  #up: boolean[][]
  #nextId = 0

  private constructor(now: number, skews: number[], latency: number) {
    this.now = now
    this.skews = skews
    this.latency = latency
    this.#up = skews.map(() => skews.map(() => true))
  }

  static async create(options: { size: number; now?: number; skews?: number[]; latency?: number; store?: Omit<GraphStoreOptions, 'clock'> }): Promise<SimNetwork> {
    const skews = options.skews ?? Array.from({ length: options.size }, () => 0)
    const net = new SimNetwork(options.now ?? 0, skews, options.latency ?? 1)
    for (let i = 0; i < options.size; i++) {
      const store = await GraphStore.open({ ...options.store, clock: () => net.now + (net.skews[i] ?? 0) })
      store.on('change', (applied) => net.broadcast(i, applied))
      net.replicas.push(store)
    }
    return net
  }

  replica(i: number): GraphStore {
    return this.replicas[i] as GraphStore
  }

  /** Replica i's clock. */
  clock(i: number): number {
    return this.now + (this.skews[i] ?? 0)
  }

  isUp(a: number, b: number): boolean {
    return (this.#up[a] as boolean[])[b] as boolean
  }

  /** Sends to every linked peer; a message to a cut-off peer is lost (GUN does not queue it). */
  broadcast(from: number, delta: Graph): void {
    for (let to = 0; to < this.replicas.length; to++) if (to !== from) this.send(from, to, delta)
  }

  send(from: number, to: number, delta: Graph): void {
    if (!this.isUp(from, to)) return
    this.queue.push({ id: this.#nextId++, from, to, delta: structuredClone(delta), at: this.now + this.latency })
  }

  /** A local write at replica i, stamped with its clock unless `state` is given. */
  async write(i: number, soul: string, key: string, value: Value, state = this.clock(i)): Promise<void> {
    await this.replica(i).put({ [soul]: { _: { '#': soul, '>': { [key]: state } }, [key]: value } })
  }

  cut(a: number, b: number): void {
    ;(this.#up[a] as boolean[])[b] = false
    ;(this.#up[b] as boolean[])[a] = false
    // what was in flight between them is lost
    this.queue = this.queue.filter((m) => !((m.from === a && m.to === b) || (m.from === b && m.to === a)))
  }

  restore(a: number, b: number): void {
    ;(this.#up[a] as boolean[])[b] = true
    ;(this.#up[b] as boolean[])[a] = true
  }

  /** Delivers the queued message at `index` (any order: reordering), keeping it queued when `duplicate`. */
  async deliver(index: number, duplicate = false): Promise<void> {
    const message = this.queue[index]
    if (message === undefined) return
    if (!duplicate) this.queue.splice(index, 1)
    if (!this.isUp(message.from, message.to)) return
    await this.replica(message.to).put(message.delta)
  }

  /** Advances the clock by `ms`, delivering messages due by then (in send order), maturing deferrals. */
  async advance(ms: number): Promise<void> {
    this.now += ms
    for (;;) {
      const due = this.queue.findIndex((m) => m.at <= this.now)
      if (due === -1) break
      await this.deliver(due)
    }
    for (const store of this.replicas) await store.matureDeferrals()
  }

  /** Resync after a partition: each pair of linked replicas exchanges what changed since `since`. */
  resync(since: number): void {
    for (let a = 0; a < this.replicas.length; a++) {
      for (let b = 0; b < this.replicas.length; b++) if (a !== b) this.send(a, b, this.replica(a).graphSince(since))
    }
  }

  async close(): Promise<void> {
    for (const store of this.replicas) await store.close()
  }
}
