// Succinct state (DESIGN.md §2): once a cycle is settled and `retentionRounds` rounds have passed,
// the leaves (and interior blocks) of every round DAG the node holds for it — its own and its
// replicas — are deleted; the round's root, digest and leaf count stay in scale_rounds, the head
// in scale_heads, and a compact state object per task (counts, a sha256 chain over the pruned
// roots). Disk use then grows with the retention window, not with history.
import { type Address, type Hex, concatBytes, hexToBytes, numberToBytes, sha256 } from 'viem'

import type { NodeStore } from '../state/store.ts'
import type { RoundRecord, RoundStore } from './round-store.ts'
import type { ScaleState } from './scale-state.ts'

/** How a cycle stands on-chain, as far as pruning cares. */
export type CycleSettlement = {
  /** final / failed: the distribution is settled; open: still pending or posted. */
  status: 'final' | 'failed' | 'open'
  /** Audits of the cycle still unresolved (Cycle.openAudits). */
  openAudits: number
}

export type PruneRule = {
  /** Leaves are kept this many rounds after the cycle was first seen settled (sdk scale.retentionRounds). */
  retentionRounds: number
  /**
   * The penalty-scaling horizon (TaskParams.unbondingRounds): a conviction re-opens the convicted
   * node's cycles c with c + unbondingRounds ≥ the current round, so those stay auditable and are
   * never pruned while that can still happen.
   */
  unbondingRounds: number
}

/**
 * Whether a round DAG of `cycle` may lose its leaves at `currentRound` (pure).
 * `settledSeenRound` is the first round the node saw the cycle settled (undefined: not yet).
 */
export function mayPrune(input: { cycle: number; currentRound: number; settledSeenRound: number | undefined; openAudits: number; reopened?: boolean } & PruneRule): boolean {
  const { cycle, currentRound, settledSeenRound, openAudits, retentionRounds, unbondingRounds } = input
  if (settledSeenRound === undefined) return false // not final (or failed) yet
  if (openAudits > 0 || input.reopened === true) return false // an audit window is open
  if (cycle + unbondingRounds >= currentRound) return false // a later conviction could re-open it
  return currentRound >= settledSeenRound + retentionRounds
}

/** Adds one pruned root to the compact state's accumulator: sha256(acc ‖ cycle ‖ node ‖ digest). */
export function accumulateRoot(accumulator: Hex, cycle: number, node: Address, digest: Hex): Hex {
  return sha256(concatBytes([hexToBytes(accumulator), numberToBytes(cycle, { size: 8 }), hexToBytes(node), hexToBytes(digest)]))
}

export type PruneContext = PruneRule & {
  taskId: string
  state: NodeStore
  rounds: RoundStore
  scale: ScaleState
  currentRound: number
  /** What the chain says about a cycle (the node: getCycle). */
  settlement(cycle: number): Promise<CycleSettlement>
  /** Optional extra chain check: is this submitter's cycle re-opened right now (penalty scaling)? */
  reopened?(node: Address, cycle: number): Promise<boolean>
}

export type PruneReport = {
  pruned: { cycle: number; node: Address; leaves: number; blocks: number; bytes: number }[]
  /** SQLite pages handed back to the file system (VACUUM), 0 when not needed. */
  vacuumedPages: number
}

/**
 * One pruning pass over every unpruned round DAG of the task the node holds. Settlements are read
 * once per cycle (then remembered in the compact state), so a steady-state pass costs one chain
 * read for the newest settled cycle.
 */
export async function prunePass(ctx: PruneContext): Promise<PruneReport> {
  const { taskId, rounds, scale, currentRound } = ctx
  const report: PruneReport = { pruned: [], vacuumedPages: 0 }
  const held = rounds.listRounds(taskId).filter((round) => round.status !== 'pruned' && round.cycle + 2 <= currentRound)
  const byCycle = new Map<number, RoundRecord[]>()
  for (const round of held) byCycle.set(round.cycle, [...(byCycle.get(round.cycle) ?? []), round])

  for (const [cycle, cycleRounds] of byCycle) {
    let seen = scale.compact(taskId).finalSeen[String(cycle)]
    let asked: CycleSettlement | undefined
    if (seen === undefined) {
      asked = await ctx.settlement(cycle)
      if (asked.status === 'open') continue
      seen = currentRound
      scale.updateCompact(taskId, (state) => void (state.finalSeen[String(cycle)] = currentRound))
    }
    const rule = { cycle, currentRound, settledSeenRound: seen, retentionRounds: ctx.retentionRounds, unbondingRounds: ctx.unbondingRounds }
    if (!mayPrune({ ...rule, openAudits: 0 })) continue
    // Due by the clock: make sure no audit of the cycle is open right now.
    asked ??= await ctx.settlement(cycle)
    if (!mayPrune({ ...rule, openAudits: asked.openAudits })) continue
    for (const round of cycleRounds) {
      if (ctx.reopened && (await ctx.reopened(round.node, cycle))) continue
      const freed = await rounds.deleteLeaves(taskId, cycle, round.node)
      const own = round.node.toLowerCase() === rounds.self.toLowerCase()
      if (own) scale.dropAcks(taskId, cycle, round.node)
      scale.updateCompact(taskId, (state) => {
        state.roundsPruned += 1
        state.leavesPruned += round.leafCount
        state.bytesFreed += freed.bytes
        if (round.digest) state.prunedAccumulator = accumulateRoot(state.prunedAccumulator, cycle, round.node, round.digest)
      })
      report.pruned.push({ cycle, node: round.node, leaves: round.leafCount, blocks: freed.blocks, bytes: freed.bytes })
    }
    if (rounds.listRounds(taskId, { fromCycle: cycle, beforeCycle: cycle + 1 }).every((round) => round.status === 'pruned')) {
      scale.updateCompact(taskId, (state) => void delete state.finalSeen[String(cycle)])
    }
  }
  if (report.pruned.length > 0) report.vacuumedPages = reclaimSqliteSpace(ctx.state)
  return report
}

/**
 * Gives the space of deleted rows back to the file system: checkpoint the WAL into the database
 * and truncate it; VACUUM when more than a quarter of the file is free pages (SQLite reuses free
 * pages anyway, so the file stops growing; VACUUM makes it shrink). Returns the pages freed.
 */
export function reclaimSqliteSpace(state: NodeStore): number {
  const pragma = (sql: string): number => Number(Object.values((state.db.prepare(sql).get() as Record<string, unknown>) ?? {})[0] ?? 0)
  if (state.path === ':memory:') return 0
  state.db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
  const free = pragma('PRAGMA freelist_count')
  const pages = pragma('PRAGMA page_count')
  if (free < 64 || free * 4 < pages) return 0
  state.db.exec('VACUUM')
  state.db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
  return free
}
