// Seed 004 appendix A1.2 "Counting": c = Σ_{n ∈ T} λ'(n) — operations that happened over time are mapped
// to space, every replica keeping its own cell, and the count is the sum of the cells, which every peer
// re-derives after HAM has synchronised the cells. Here T is one node (the counter's soul), n a replica
// id (a key of that node), λ'(n) the replica's running total (a finite number, positive or negative).
// Only replica n writes key n, with ever higher states, so HAM's last-writer-wins per key never loses an
// increment, duplicated or reordered deliveries are harmless, and any merge order gives the same sum.

import { GraphError } from '../errors.ts'
import type { GraphStore } from '../graph-store.ts'
import type { GraphNode, Soul } from '../types.ts'

/** c = Σ λ'(n): the sum of the numeric cells of a counter node (anything else in the node is ignored). */
export function counterValue(node: GraphNode | undefined): number {
  if (node === undefined) return 0
  let sum = 0
  for (const key of Object.keys(node)) {
    if (key === '_') continue
    const cell = node[key]
    if (typeof cell === 'number' && Number.isFinite(cell)) sum += cell
  }
  return sum
}

/** One replica's handle on a counter kept at `soul` in `store`. Each writer needs its own `replica` id. */
export class Counter {
  readonly store: GraphStore
  readonly soul: Soul
  readonly replica: string
  // Our own cell as we last wrote it: a write can be deferred (our clock behind a state we wrote
  // earlier), and the next increment must build on it, not on the older stored cell.
  #own = 0
  #ownState = -Infinity
  // Writes of our cell not yet acknowledged, in the order issued: a refused one is taken back.
  readonly #pending: Array<{ state: number; previous: number; by: number }> = []
  #seenDeferred = false

  constructor(store: GraphStore, soul: Soul, replica: string) {
    if (typeof replica !== 'string' || replica.length === 0 || replica === '_') throw new GraphError('MALFORMED', 'A counter replica id is a non-empty string other than "_"', { details: { replica } })
    this.store = store
    this.soul = soul
    this.replica = replica
  }

  /**
   * Catches up with our cell as the store has it when that is newer than what we last wrote (a
   * restart, or our own cell synced back from a peer). Once, the store's persisted deferrals too:
   * after a restart our last write may still wait there (state ahead of the clock), and a new
   * increment must build on it — else, when it matures, it would overwrite the increment.
   */
  #syncOwn(): void {
    if (!this.#seenDeferred) {
      this.#seenDeferred = true
      for (const deferral of this.store.deferred()) {
        if (deferral.soul !== this.soul || deferral.key !== this.replica || !(deferral.state > this.#ownState)) continue
        this.#own = typeof deferral.value === 'number' ? deferral.value : 0
        this.#ownState = deferral.state
      }
    }
    const state = this.store.state(this.soul, this.replica)
    // Strictly newer: at an equal state the store may hold a write of ours that was refused (rolled back here).
    if (state !== undefined && state > this.#ownState) {
      const cell = this.store.value(this.soul, this.replica)
      this.#own = typeof cell === 'number' ? cell : 0
      this.#ownState = state
    }
  }

  /** The count as this replica sees it now. */
  value(): number {
    this.#syncOwn()
    const node = this.store.get(this.soul)
    const stored = node?.[this.replica]
    return counterValue(node) - (typeof stored === 'number' ? stored : 0) + this.#own
  }

  /** This replica's own cell (its net contribution). */
  contribution(): number {
    this.#syncOwn()
    return this.#own
  }

  /** Adds `by` (default 1; negative to subtract). Resolves with the new count once the write is durable. */
  async add(by = 1): Promise<number> {
    if (typeof by !== 'number' || !Number.isFinite(by)) throw new GraphError('INVALID_VALUE', 'A counter moves by a finite number', { details: { by: String(by) } })
    this.#syncOwn()
    const next = this.#own + by
    if (!Number.isFinite(next)) throw new GraphError('INVALID_VALUE', 'The counter would overflow', { details: { soul: this.soul, replica: this.replica } })
    const stamped = this.store.nextState()
    const state = stamped > this.#ownState ? stamped : this.#ownState + 1
    const write = { state, previous: this.#own, by }
    this.#pending.push(write)
    this.#own = next
    this.#ownState = state
    try {
      await this.store.set(this.soul, this.replica, next, state)
    } catch (error) {
      this.#takeBack(write)
      throw error
    }
    this.#pending.splice(this.#pending.indexOf(write), 1)
    return this.value()
  }

  /**
   * A refused write leaves no trace in our cell. Writes issued after it built on it: their own
   * `previous` drops by its amount, and the cell falls back to the last write still standing. The
   * state is not rolled back (the next write must still be newer than anything the store saw).
   */
  #takeBack(write: { state: number; previous: number; by: number }): void {
    const at = this.#pending.indexOf(write)
    if (at < 0) return
    this.#pending.splice(at, 1)
    for (let i = at; i < this.#pending.length; i++) this.#pending[i]!.previous -= write.by
    this.#own = at === this.#pending.length ? write.previous : this.#own - write.by
  }

  increment(by = 1): Promise<number> {
    return this.add(by)
  }

  decrement(by = 1): Promise<number> {
    return this.add(-by)
  }

  /** Calls `listener` with the new count whenever any replica's cell of this counter changes here. */
  onChange(listener: (value: number) => void): () => void {
    return this.store.on('change', (applied) => {
      if (applied[this.soul] !== undefined) listener(this.value())
    })
  }
}
