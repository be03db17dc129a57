// The node's durable SCALE bookkeeping beyond the round store (migration 4): the heads of the
// task's finalized cycles (kept forever: a few hundred bytes each, the history a verifier checks),
// the signed acks of replicas holding this node's round DAGs, and one compact state object per
// task that survives pruning.
import type { Hex } from 'viem'

import { jsonReplacer, type NodeStore } from '../state/store.ts'

export type HeadStatus = 'built' | 'final'

export type StoredHead = {
  taskId: string
  cycle: number
  digest: Hex
  cid: string
  prev: string | null
  bytes: Uint8Array
  /** built: made by this node for a post, not (yet) final; final: anchored in a Final cycle. */
  status: HeadStatus
}

export type ReplicaAck = {
  taskId: string
  cycle: number
  /** The round's owner (whose submission the DAG is). */
  node: string
  /** The replica that holds it. */
  holder: string
  root: string
  /** The replica's signed answer (p2p envelope bytes): evidence that it took the blocks. */
  signed: Uint8Array
  ackedAt: number
}

/** What a node keeps per task once leaves are gone. */
export type CompactScaleState = {
  /** Lowest cycle whose head the keeper has not settled yet (heads below are kept or never existed). */
  headCursor: number
  lastHead: { cycle: number; cid: string; digest: Hex } | null
  /** Rounds (own and replica) pruned so far, their leaves and the bytes freed. */
  roundsPruned: number
  leavesPruned: number
  bytesFreed: number
  /** sha256 chain over the pruned roots, (cycle, node, root) in pruning order: one 32-byte commitment to all of them. */
  prunedAccumulator: Hex
  /** First round each cycle was seen Final (pending prune), by cycle. */
  finalSeen: Record<string, number>
}

export const EMPTY_COMPACT_STATE: CompactScaleState = {
  headCursor: 0,
  lastHead: null,
  roundsPruned: 0,
  leavesPruned: 0,
  bytesFreed: 0,
  prunedAccumulator: `0x${'00'.repeat(32)}`,
  finalSeen: {},
}

type Row = Record<string, unknown>

const toHead = (row: Row): StoredHead => ({
  taskId: String(row.task_id),
  cycle: Number(row.cycle),
  digest: String(row.digest) as Hex,
  cid: String(row.cid),
  prev: row.prev === null || row.prev === undefined ? null : String(row.prev),
  bytes: new Uint8Array(row.bytes as Uint8Array),
  status: row.status as HeadStatus,
})

export class ScaleState {
  constructor(readonly store: NodeStore) {}

  private get db() {
    return this.store.db
  }

  // ─── heads ───

  /** Stores a head; a second put of the same (task, cycle, digest) only raises its status. */
  putHead(head: Omit<StoredHead, 'taskId'> & { taskId: string }): void {
    this.store.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO scale_heads (task_id, cycle, digest, cid, prev, bytes, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (task_id, cycle, digest) DO UPDATE SET status = CASE WHEN excluded.status = 'final' THEN 'final' ELSE scale_heads.status END`,
        )
        .run(head.taskId, head.cycle, head.digest.toLowerCase(), head.cid, head.prev, head.bytes, head.status, Date.now())
      // Once a cycle's head is final, heads built for voided lists of that cycle are noise.
      if (head.status === 'final') {
        this.db.prepare(`DELETE FROM scale_heads WHERE task_id = ? AND cycle = ? AND digest <> ? AND status = 'built'`).run(head.taskId, head.cycle, head.digest.toLowerCase())
      }
    })
  }

  getHead(taskId: string, cycle: number, digest?: string): StoredHead | undefined {
    const row = (
      digest === undefined
        ? this.db.prepare(`SELECT * FROM scale_heads WHERE task_id = ? AND cycle = ? ORDER BY status = 'final' DESC, created_at DESC`).get(taskId, cycle)
        : this.db.prepare('SELECT * FROM scale_heads WHERE task_id = ? AND cycle = ? AND digest = ?').get(taskId, cycle, digest.toLowerCase())
    ) as Row | undefined
    return row ? toHead(row) : undefined
  }

  /** Final heads of a task in cycle order (the node's history), optionally from a cycle on. */
  finalHeads(taskId: string, options: { fromCycle?: number; limit?: number } = {}): StoredHead[] {
    const limit = Math.max(1, Math.min(options.limit ?? 100_000, 100_000))
    return (
      this.db
        .prepare(`SELECT * FROM scale_heads WHERE task_id = ? AND status = 'final' AND cycle >= ? ORDER BY cycle LIMIT ${limit}`)
        .all(taskId, options.fromCycle ?? 0) as Row[]
    ).map(toHead)
  }

  /** The final head with the highest cycle below `beforeCycle`. */
  lastFinalHead(taskId: string, beforeCycle: number): StoredHead | undefined {
    const row = this.db.prepare(`SELECT * FROM scale_heads WHERE task_id = ? AND status = 'final' AND cycle < ? ORDER BY cycle DESC LIMIT 1`).get(taskId, beforeCycle) as Row | undefined
    return row ? toHead(row) : undefined
  }

  // ─── replica acks ───

  putAck(ack: ReplicaAck): void {
    this.store.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO scale_replica_acks (task_id, cycle, node, holder, root, signed, acked_at) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (task_id, cycle, node, holder) DO UPDATE SET root = excluded.root, signed = excluded.signed, acked_at = excluded.acked_at`,
        )
        .run(ack.taskId, ack.cycle, ack.node.toLowerCase(), ack.holder.toLowerCase(), ack.root, ack.signed, ack.ackedAt)
    })
  }

  acks(taskId: string, cycle: number, node: string): ReplicaAck[] {
    return (this.db.prepare('SELECT * FROM scale_replica_acks WHERE task_id = ? AND cycle = ? AND node = ? ORDER BY holder').all(taskId, cycle, node.toLowerCase()) as Row[]).map((row) => ({
      taskId: String(row.task_id),
      cycle: Number(row.cycle),
      node: String(row.node),
      holder: String(row.holder),
      root: String(row.root),
      signed: new Uint8Array(row.signed as Uint8Array),
      ackedAt: Number(row.acked_at),
    }))
  }

  /** Acks are evidence while the round is live; after pruning only their count matters. */
  dropAcks(taskId: string, cycle: number, node: string): number {
    return this.store.transaction(() => Number(this.db.prepare('DELETE FROM scale_replica_acks WHERE task_id = ? AND cycle = ? AND node = ?').run(taskId, cycle, node.toLowerCase()).changes))
  }

  // ─── compact state ───

  compact(taskId: string): CompactScaleState {
    const row = this.db.prepare('SELECT state FROM scale_state WHERE task_id = ?').get(taskId) as Row | undefined
    return row ? { ...EMPTY_COMPACT_STATE, ...(JSON.parse(String(row.state)) as Partial<CompactScaleState>) } : structuredClone(EMPTY_COMPACT_STATE)
  }

  /** Reads, changes and writes the compact state in one transaction. */
  updateCompact(taskId: string, change: (state: CompactScaleState) => void): CompactScaleState {
    return this.store.transaction(() => {
      const state = this.compact(taskId)
      change(state)
      this.db
        .prepare('INSERT INTO scale_state (task_id, state, updated_at) VALUES (?, ?, ?) ON CONFLICT (task_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at')
        .run(taskId, JSON.stringify(state, jsonReplacer), Date.now())
      return state
    })
  }
}
