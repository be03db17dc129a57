// SCALE round store (issue 4, docs/scale.md "Node"): the round DAGs a node holds, per
// (task, cycle, node) — its own (the submission of a SCALE task is its round DAG's root) and, for
// replication, other nodes'. Rows live in the node's SQLite state (migration 3), blocks in the
// node's verified content store (every read re-hashes). Roots and compact state outlive pruning.
//
// Exported API (H7 fisherman audits, H8 pruning/replication and the device endpoints use these):
//
//   new RoundStore({ state: NodeStore, content: ContentStore, self: Address })
//
//   Device payloads (ingest.ts):
//     lastSeq(taskId, device) → number | undefined          replay watermark (persisted)
//     payloadCount(taskId, cycle) → number                   next position = this
//     isSealed(taskId, cycle) → boolean                       own round DAG built or being built
//     appendPayloads(items: AppendPayload[]) → void           ONE SQLite transaction (durable on return);
//                                                             throws RoundStoreError ROUND_SEALED / POSITION_TAKEN
//   Own rounds (the submitter):
//     sealRound(taskId, cycle) → { payloads: Uint8Array[] }  no payload is accepted for the cycle after this;
//                                                             returns the accepted payloads in position order
//     putRound({ taskId, cycle, node?, dag, payloadCount? }) → RoundRecord
//                                                             blocks into the content store, then the row
//                                                             ('built'); payload bytes are then dropped from SQLite
//     buildOwnRound(taskId, cycle, leaves) → RoundRecord      = putRound(buildRoundDag(leaves)) for self
//   Any held round (own: node omitted; replicas: node = the submitter):
//     getRound(taskId, cycle, node?) → RoundRecord | undefined
//     listRounds(taskId, { node?, status?, beforeCycle?, fromCycle? }) → RoundRecord[] (ascending cycle)
//     proveLeaf(taskId, cycle, index, node?) → LeafProof      { root, digest, index, leafCount, leaf (block bytes),
//                                                             leafCid, proof: InclusionProof } — the proof is
//                                                             checked with verifyInclusion before it is returned
//     roundBlocks(taskId, cycle, node?) → Promise<Map<cid, bytes>>   every block of a built round (replication push)
//     missingBlocks(taskId, cycle, node?) → Promise<cid[]>    listed blocks absent from the content store (recovery)
//     importRound({ taskId, cycle, node, root, blocks: Map | Iterable<[cid, bytes]> }) → RoundRecord
//                                                             a replica: every block hash-checked (content store),
//                                                             the DAG walked completely from the root, leaf count
//                                                             from the root block; then the row ('built')
//   Pruning (H8 decides when):
//     deleteLeaves(taskId, cycle, node?) → { blocks, bytes }  deletes the round's blocks no other unpruned
//                                                             round uses, and marks the round 'pruned'
//     markPruned(taskId, cycle, node?) → void                 status only (root, digest, counts stay)
//
// Errors: RoundStoreError { code: ROUND_NOT_FOUND | ROUND_NOT_BUILT | LEAVES_PRUNED | INDEX_OUT_OF_RANGE |
//   ROUND_SEALED | POSITION_TAKEN | BLOCK_MISSING | BAD_ROUND, shortMessage, details, cause }.
//
// Ordering for crash safety: payload rows are committed before any receipt is signed; sealing is
// a row ('sealed') written before the DAG is built, so a payload can never join a round after its
// root was computed; blocks are fsynced (content store) before the 'built' row; a crash between
// the two leaves a 'sealed' row whose payload bytes are still in SQLite, and the next
// sealRound/buildOwnRound rebuilds the same DAG (same leaves, same order, same root).
import type { DatabaseSync, StatementSync } from 'node:sqlite'

import {
  type InclusionProof,
  MAX_DAG_LEAVES,
  type RoundDag,
  buildRoundDag,
  inclusionProof,
  childTowardLeaf,
  roundDagInterior,
  splitPoint,
  verifyInclusion,
} from '@coop/protocol'
import type { ContentStore } from '@coop/sdk'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { type Address, bytesToHex, getAddress } from 'viem'

import type { NodeStore } from '../state/store.ts'
import { CodedError } from './coded-error.ts'

export type RoundStatus = 'sealed' | 'built' | 'pruned'

export type RoundRecord = {
  taskId: string
  cycle: number
  /** The submitter whose round DAG this is (checksummed). */
  node: Address
  status: RoundStatus
  /** Root CID (base32); null while only sealed. */
  root: string | null
  /** 0x sha2-256 digest of the root block (what is on-chain); null while only sealed. */
  digest: `0x${string}` | null
  leafCount: number
  /** Device payloads among the leaves (ingest tasks; positions 0 … payloadCount − 1). */
  payloadCount: number
  sealedAt: number
  builtAt: number | null
  prunedAt: number | null
}

export type AppendPayload = {
  taskId: string
  cycle: number
  position: number
  /** CIDv1 dag-cbor of the payload bytes. */
  cid: string
  /** The device's public key (0x hex). */
  device: string
  seq: number
  bytes: Uint8Array
}

export type LeafProof = {
  root: string
  digest: `0x${string}`
  index: number
  leafCount: number
  /** The leaf block's bytes (raw: the leaf itself; dag-cbor: its encoding). */
  leaf: Uint8Array
  leafCid: string
  proof: InclusionProof
}

export type RoundStoreErrorCode =
  | 'ROUND_NOT_FOUND'
  | 'ROUND_NOT_BUILT'
  | 'LEAVES_PRUNED'
  | 'INDEX_OUT_OF_RANGE'
  | 'ROUND_SEALED'
  | 'POSITION_TAKEN'
  | 'BLOCK_MISSING'
  | 'BAD_ROUND'

export class RoundStoreError extends CodedError<RoundStoreErrorCode> {
  override name = 'RoundStoreError'
}

export function isRoundStoreError(error: unknown, code?: RoundStoreErrorCode): error is RoundStoreError {
  return error instanceof RoundStoreError && (code === undefined || error.code === code)
}

type Row = Record<string, unknown>

export class RoundStore {
  readonly self: Address
  private readonly state: NodeStore
  private readonly content: ContentStore
  private readonly db: DatabaseSync
  private readonly statements = new Map<string, StatementSync>()

  constructor(options: { state: NodeStore; content: ContentStore; self: Address }) {
    this.state = options.state
    this.content = options.content
    this.db = options.state.db
    this.self = getAddress(options.self)
  }

  private stmt(sql: string): StatementSync {
    let statement = this.statements.get(sql)
    if (!statement) {
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }

  private nodeKey(node?: string): string {
    return (node === undefined ? this.self : getAddress(node)).toLowerCase()
  }

  // ─── device payloads ───

  lastSeq(taskId: string, device: string): number | undefined {
    const row = this.stmt('SELECT last_seq FROM scale_devices WHERE task_id = ? AND device = ?').get(taskId, device.toLowerCase()) as Row | undefined
    return row ? Number(row.last_seq) : undefined
  }

  payloadCount(taskId: string, cycle: number): number {
    const row = this.stmt('SELECT COUNT(*) AS n FROM scale_payloads WHERE task_id = ? AND cycle = ?').get(taskId, cycle) as Row
    return Number(row.n)
  }

  isSealed(taskId: string, cycle: number): boolean {
    return this.stmt('SELECT 1 FROM scale_rounds WHERE task_id = ? AND cycle = ? AND node = ?').get(taskId, cycle, this.nodeKey()) !== undefined
  }

  /**
   * Appends accepted payloads in one transaction (synchronous=FULL: durable when this returns).
   * Rejects the whole batch if any item's round is sealed or its position is taken.
   */
  appendPayloads(items: readonly AppendPayload[]): void {
    if (items.length === 0) return
    const self = this.nodeKey()
    this.state.transaction(() => {
      const now = Date.now()
      const sealedChecked = new Set<string>()
      for (const item of items) {
        const key = `${item.taskId}\u0000${item.cycle}`
        if (!sealedChecked.has(key)) {
          if (this.stmt('SELECT 1 FROM scale_rounds WHERE task_id = ? AND cycle = ? AND node = ?').get(item.taskId, item.cycle, self) !== undefined) {
            throw new RoundStoreError('ROUND_SEALED', 'the round DAG of this cycle is already built; it takes no more payloads', { taskId: item.taskId, cycle: item.cycle })
          }
          sealedChecked.add(key)
        }
        try {
          this.stmt('INSERT INTO scale_payloads (task_id, cycle, position, cid, device, seq, bytes, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
            item.taskId,
            item.cycle,
            item.position,
            item.cid,
            item.device.toLowerCase(),
            item.seq,
            item.bytes,
            now,
          )
        } catch (cause) {
          throw new RoundStoreError('POSITION_TAKEN', 'a payload already holds this position', { taskId: item.taskId, cycle: item.cycle, position: item.position }, cause)
        }
        this.stmt(
          `INSERT INTO scale_devices (task_id, device, last_seq, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (task_id, device) DO UPDATE SET last_seq = MAX(last_seq, excluded.last_seq), updated_at = excluded.updated_at`,
        ).run(item.taskId, item.device.toLowerCase(), item.seq, now)
      }
    })
  }

  /** The accepted payloads of a cycle in position order (bytes present until the round is built). */
  private payloadBytes(taskId: string, cycle: number): Uint8Array[] {
    const rows = this.stmt('SELECT position, bytes FROM scale_payloads WHERE task_id = ? AND cycle = ? ORDER BY position').all(taskId, cycle) as Row[]
    return rows.map((row, index) => {
      if (Number(row.position) !== index) throw new RoundStoreError('BAD_ROUND', 'payload positions have a gap', { taskId, cycle, position: index })
      if (!(row.bytes instanceof Uint8Array)) throw new RoundStoreError('BAD_ROUND', 'payload bytes are gone (the round was built already)', { taskId, cycle, position: index })
      return new Uint8Array(row.bytes)
    })
  }

  // ─── own rounds ───

  /**
   * Seals this node's round of `cycle` (no payload joins it afterwards; ingest answers
   * WRONG_ROUND) and returns its accepted payloads in position order. Idempotent; once the round
   * is built, `payloads` is empty (the leaves live in the block store) and `record` says so.
   */
  sealRound(taskId: string, cycle: number): { payloads: Uint8Array[]; record: RoundRecord } {
    return this.state.transaction(() => {
      this.stmt(
        `INSERT INTO scale_rounds (task_id, cycle, node, status, sealed_at) VALUES (?, ?, ?, 'sealed', ?) ON CONFLICT (task_id, cycle, node) DO NOTHING`,
      ).run(taskId, cycle, this.nodeKey(), Date.now())
      const record = this.getRound(taskId, cycle) as RoundRecord
      return { payloads: record.status === 'sealed' ? this.payloadBytes(taskId, cycle) : [], record }
    })
  }

  /** Builds this node's round DAG of `cycle` from `leaves` and stores it (see putRound). */
  async buildOwnRound(taskId: string, cycle: number, leaves: readonly unknown[], payloadCount = 0): Promise<RoundRecord> {
    return this.putRound({ taskId, cycle, dag: buildRoundDag(leaves), payloadCount })
  }

  /**
   * Stores a built round DAG: every block into the content store (fsync + rename each), then the
   * row ('built', root, digest, counts) and its block list in one transaction; the payload bytes
   * of an own round are dropped from SQLite (the leaves now live in the block store). A round
   * already built with the same root is returned as is; with another root → BAD_ROUND.
   */
  async putRound(input: { taskId: string; cycle: number; node?: string; dag: RoundDag; payloadCount?: number }): Promise<RoundRecord> {
    const { taskId, cycle, dag } = input
    const node = this.nodeKey(input.node)
    const existing = this.getRound(taskId, cycle, input.node)
    if (existing?.root) {
      if (existing.root !== dag.root) throw new RoundStoreError('BAD_ROUND', 'a different round DAG is already stored for this cycle', { taskId, cycle, node, stored: existing.root, root: dag.root })
      return existing
    }
    for (const [cid, bytes] of dag.blocks) await this.content.putBlock(cid, bytes)
    const own = node === this.nodeKey()
    this.state.transaction(() => {
      const now = Date.now()
      this.stmt(
        `INSERT INTO scale_rounds (task_id, cycle, node, status, root, digest, leaf_count, payload_count, sealed_at, built_at)
         VALUES (?, ?, ?, 'built', ?, ?, ?, ?, ?, ?)
         ON CONFLICT (task_id, cycle, node) DO UPDATE SET status = 'built', root = excluded.root, digest = excluded.digest,
           leaf_count = excluded.leaf_count, payload_count = excluded.payload_count, built_at = excluded.built_at`,
      ).run(taskId, cycle, node, dag.root, dag.digest.toLowerCase(), dag.size, input.payloadCount ?? 0, now, now)
      for (const cid of dag.blocks.keys()) {
        this.stmt('INSERT INTO scale_round_blocks (task_id, cycle, node, cid) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING').run(taskId, cycle, node, cid)
      }
      if (own) this.stmt('UPDATE scale_payloads SET bytes = NULL WHERE task_id = ? AND cycle = ?').run(taskId, cycle)
    })
    return this.getRound(taskId, cycle, input.node) as RoundRecord
  }

  /**
   * Stores another node's round DAG (replication). Blocks are hash-checked by the content store;
   * the DAG is walked from the root so a replica is never incomplete: BLOCK_MISSING / BAD_ROUND.
   */
  async importRound(input: { taskId: string; cycle: number; node: string; root: string; blocks: Map<string, Uint8Array> | Iterable<[string, Uint8Array]> }): Promise<RoundRecord> {
    const blocks = input.blocks instanceof Map ? input.blocks : new Map(input.blocks)
    let rootCid: CID
    try {
      rootCid = CID.parse(input.root)
    } catch (cause) {
      throw new RoundStoreError('BAD_ROUND', 'root is not a CID', { root: input.root }, cause)
    }
    // Walk the DAG: interior blocks are dag-cbor { l, r, n } with the RFC 6962 split; leaves anything.
    const leafCids: string[] = []
    const used = new Map<string, Uint8Array>()
    const walk = (cid: CID, n: number): void => {
      const key = cid.toString()
      const bytes = blocks.get(key)
      if (!bytes) throw new RoundStoreError('BLOCK_MISSING', 'a block of the round DAG is missing', { cid: key })
      used.set(key, bytes)
      if (n === 1) {
        leafCids.push(key)
        return
      }
      const node = cid.code === dagCbor.code ? roundDagInterior(bytes) : undefined
      if (!node || node.n !== n) throw new RoundStoreError('BAD_ROUND', 'interior block does not match the DAG shape', { cid: key, n })
      const k = splitPoint(n)
      walk(node.l, k)
      walk(node.r, n - k)
    }
    const rootBytes = blocks.get(rootCid.toString())
    const rootNode = rootBytes && rootCid.code === dagCbor.code ? roundDagInterior(rootBytes) : undefined
    const size = rootNode && Number.isSafeInteger(rootNode.n) && rootNode.n >= 2 && rootNode.n <= MAX_DAG_LEAVES ? rootNode.n : 1
    walk(rootCid, size)
    const dag: RoundDag = { root: rootCid.toString(), digest: bytesToHex(rootCid.multihash.digest), blocks: used, leafCids, size }
    return this.putRound({ taskId: input.taskId, cycle: input.cycle, node: input.node, dag })
  }

  // ─── reading ───

  private toRecord(row: Row): RoundRecord {
    return {
      taskId: String(row.task_id),
      cycle: Number(row.cycle),
      node: getAddress(String(row.node)),
      status: row.status as RoundStatus,
      root: row.root === null || row.root === undefined ? null : String(row.root),
      digest: row.digest === null || row.digest === undefined ? null : (String(row.digest) as `0x${string}`),
      leafCount: Number(row.leaf_count),
      payloadCount: Number(row.payload_count),
      sealedAt: Number(row.sealed_at),
      builtAt: row.built_at === null || row.built_at === undefined ? null : Number(row.built_at),
      prunedAt: row.pruned_at === null || row.pruned_at === undefined ? null : Number(row.pruned_at),
    }
  }

  getRound(taskId: string, cycle: number, node?: string): RoundRecord | undefined {
    const row = this.stmt('SELECT * FROM scale_rounds WHERE task_id = ? AND cycle = ? AND node = ?').get(taskId, cycle, this.nodeKey(node)) as Row | undefined
    return row ? this.toRecord(row) : undefined
  }

  listRounds(taskId: string, filter: { node?: string; status?: RoundStatus; beforeCycle?: number; fromCycle?: number } = {}): RoundRecord[] {
    const where = ['task_id = ?']
    const args: (string | number)[] = [taskId]
    if (filter.node !== undefined) (where.push('node = ?'), args.push(this.nodeKey(filter.node)))
    if (filter.status !== undefined) (where.push('status = ?'), args.push(filter.status))
    if (filter.beforeCycle !== undefined) (where.push('cycle < ?'), args.push(filter.beforeCycle))
    if (filter.fromCycle !== undefined) (where.push('cycle >= ?'), args.push(filter.fromCycle))
    return (this.db.prepare(`SELECT * FROM scale_rounds WHERE ${where.join(' AND ')} ORDER BY cycle, node`).all(...args) as Row[]).map((row) => this.toRecord(row))
  }

  private builtRound(taskId: string, cycle: number, node?: string): RoundRecord & { root: string; digest: `0x${string}` } {
    const record = this.getRound(taskId, cycle, node)
    if (!record) throw new RoundStoreError('ROUND_NOT_FOUND', 'no round DAG held for this cycle', { taskId, cycle, node: this.nodeKey(node) })
    if (record.status === 'pruned') throw new RoundStoreError('LEAVES_PRUNED', 'the leaves of this round were pruned (root kept)', { taskId, cycle, root: record.root })
    if (record.status !== 'built' || !record.root || !record.digest) throw new RoundStoreError('ROUND_NOT_BUILT', 'the round is sealed but its DAG is not built yet', { taskId, cycle })
    return record as RoundRecord & { root: string; digest: `0x${string}` }
  }

  private async block(cid: string): Promise<Uint8Array> {
    const bytes = await this.content.getBlock(cid) // verified against its CID by the content store
    if (!bytes) throw new RoundStoreError('BLOCK_MISSING', 'a block of the round DAG is missing from the block store', { cid })
    return bytes
  }

  /** Leaf `index` of a held round with its inclusion proof (verified before it is returned). */
  async proveLeaf(taskId: string, cycle: number, index: number, node?: string): Promise<LeafProof> {
    const record = this.builtRound(taskId, cycle, node)
    if (!Number.isSafeInteger(index) || index < 0 || index >= record.leafCount) {
      throw new RoundStoreError('INDEX_OUT_OF_RANGE', 'leaf index out of range', { taskId, cycle, index, leafCount: record.leafCount })
    }
    // Read the path root → leaf from the block store, then let the protocol build the proof.
    const blocks = new Map<string, Uint8Array>()
    let cid = record.root
    let lo = 0
    let n = record.leafCount
    while (n > 1) {
      const bytes = await this.block(cid)
      blocks.set(cid, bytes)
      const interior = roundDagInterior(bytes)
      if (!interior || interior.n !== n) throw new RoundStoreError('BAD_ROUND', 'stored interior block does not match the round', { cid, n })
      ;({ cid, lo, n } = childTowardLeaf(interior, index, lo))
    }
    const leaf = await this.block(cid)
    const dag: RoundDag = { root: record.root, digest: record.digest, blocks, leafCids: [], size: record.leafCount }
    const proof = inclusionProof(dag, index)
    if (!verifyInclusion(record.root, index, leaf, proof)) throw new RoundStoreError('BAD_ROUND', 'stored round does not prove its own leaf', { taskId, cycle, index })
    return { root: record.root, digest: record.digest, index, leafCount: record.leafCount, leaf, leafCid: proof.leafCid, proof }
  }

  /** Every block of a built round, by CID (verified on read). */
  async roundBlocks(taskId: string, cycle: number, node?: string): Promise<Map<string, Uint8Array>> {
    this.builtRound(taskId, cycle, node)
    const blocks = new Map<string, Uint8Array>()
    for (const cid of this.blockCids(taskId, cycle, this.nodeKey(node)).sort()) blocks.set(cid, await this.block(cid))
    return blocks
  }

  /** The round's listed blocks that are not in the content store (what recovery must fetch). */
  async missingBlocks(taskId: string, cycle: number, node?: string): Promise<string[]> {
    const missing: string[] = []
    for (const cid of this.blockCids(taskId, cycle, this.nodeKey(node))) if (!(await this.content.has(cid))) missing.push(cid)
    return missing
  }

  /** The CIDs listed for a held round (leaves and interior blocks). */
  private blockCids(taskId: string, cycle: number, key: string): string[] {
    const rows = this.stmt('SELECT cid FROM scale_round_blocks WHERE task_id = ? AND cycle = ? AND node = ?').all(taskId, cycle, key) as Row[]
    return rows.map((row) => String(row.cid))
  }

  // ─── pruning primitives ───

  /** Marks a round pruned: root, digest and counts stay; proofs answer LEAVES_PRUNED. */
  markPruned(taskId: string, cycle: number, node?: string): void {
    this.state.transaction(() => {
      const changed = this.stmt(`UPDATE scale_rounds SET status = 'pruned', pruned_at = ? WHERE task_id = ? AND cycle = ? AND node = ?`).run(Date.now(), taskId, cycle, this.nodeKey(node))
      if (Number(changed.changes) === 0) throw new RoundStoreError('ROUND_NOT_FOUND', 'no round DAG held for this cycle', { taskId, cycle })
    })
  }

  /**
   * Deletes a round's blocks that no other unpruned round (of any task or node) references, forgets
   * its block list and payload rows, and marks it pruned (the root and compact state stay).
   * Returns what was freed. Idempotent.
   */
  async deleteLeaves(taskId: string, cycle: number, node?: string): Promise<{ blocks: number; bytes: number }> {
    const key = this.nodeKey(node)
    const record = this.getRound(taskId, cycle, node)
    if (!record) throw new RoundStoreError('ROUND_NOT_FOUND', 'no round DAG held for this cycle', { taskId, cycle, node: key })
    // Mark first: from now on no proof is served, and other rounds' checks see this one as pruned.
    if (record.status !== 'pruned') this.markPruned(taskId, cycle, node)
    let blocks = 0
    let bytes = 0
    for (const cid of this.blockCids(taskId, cycle, key)) {
      const shared = this.stmt(
        `SELECT 1 FROM scale_round_blocks b JOIN scale_rounds r ON r.task_id = b.task_id AND r.cycle = b.cycle AND r.node = b.node
         WHERE b.cid = ? AND r.status != 'pruned' LIMIT 1`,
      ).get(cid)
      if (shared) continue
      const block = await this.content.getBlock(cid).catch(() => undefined)
      if (await this.content.delete(cid)) {
        blocks += 1
        bytes += block?.length ?? 0
      }
    }
    this.state.transaction(() => {
      this.stmt('DELETE FROM scale_round_blocks WHERE task_id = ? AND cycle = ? AND node = ?').run(taskId, cycle, key)
      if (key === this.nodeKey()) this.stmt('DELETE FROM scale_payloads WHERE task_id = ? AND cycle = ?').run(taskId, cycle)
    })
    return { blocks, bytes }
  }
}
