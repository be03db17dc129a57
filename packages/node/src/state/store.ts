// Durable node state on SQLite (node:sqlite, WAL, synchronous=FULL). Every write runs in a
// transaction; a crash at any instant leaves either the old or the new row, never half of one.
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import { deserialize, serialize } from 'node:v8'

import { NodeError } from '../errors.ts'
import { migrations } from './migrations.ts'

export const INTENT_KINDS = [
  'approve',
  'stake',
  'register',
  'submit',
  'recordSeed',
  'raiseAudit',
  'vote',
  'resolve',
  'post',
  'challenge',
  'finalize',
  'fail',
  'claim',
  'claimVoteReward',
  // Batched submissions (scale/batcher.ts): the batcher's submitBatch, a materialization.
  'submitBatch',
  'materialize',
] as const
export type IntentKind = (typeof INTENT_KINDS)[number]
export type IntentStatus = 'pending' | 'sent' | 'confirmed' | 'failed' | 'skipped'

/** A persisted on-chain action. `cycle` is -1 for actions without one (stake, register). */
export type Intent = {
  id: number
  kind: IntentKind
  taskId: string
  cycle: number
  key: string
  status: IntentStatus
  /** What the action means to do (JSON; bigints as decimal strings). */
  payload: Record<string, unknown>
  txHash: `0x${string}` | null
  rawTx: `0x${string}` | null
  nonce: number | null
  error: string | null
  attempts: number
  createdAt: number
  updatedAt: number
}

export type IntentRef = { kind: IntentKind; taskId: string; cycle: number; key?: string }

export type Verdict = {
  taskId: string
  cycle: number
  kind: 'submission' | 'distribution'
  subject: string
  ok: boolean
  reason: string | null
  evidenceCid: string | null
  createdAt: number
}

export type AuditRow = {
  auditId: string
  taskId: string
  cycle: number
  kind: 'submission' | 'distribution'
  accused: string
  accuser: string
  evidenceCid: string
  deadline: number
  resolved: boolean
  upheld: boolean | null
  blockNumber: number
}

export type StoredList = { taskId: string; cycle: number; listCid: string; merkleRoot: string; listJson: string; source: string; createdAt: number }
export type StoredSubmission = { taskId: string; cycle: number; value: Uint8Array; cid: string; root: string; createdAt: number }

export const jsonReplacer = (_key: string, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)

type Row = Record<string, unknown>

export class NodeStore {
  readonly path: string
  readonly db: DatabaseSync
  private readonly statements = new Map<string, StatementSync>()
  private depth = 0

  constructor(path: string) {
    this.path = path
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
      this.db = new DatabaseSync(path)
      this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;')
    } catch (error) {
      throw new NodeError('STATE_OPEN_FAILED', `cannot open the node state at ${path}`, { cause: error })
    }
    this.migrate()
  }

  /** The schema version (number of migrations applied). */
  get schemaVersion(): number {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as Row | undefined
    return row ? Number(row.value) : 0
  }

  private migrate(): void {
    const hasMeta = this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get()
    let version = hasMeta ? this.schemaVersion : 0
    if (version > migrations.length) {
      throw new NodeError('STATE_MIGRATION_FAILED', `the state at ${this.path} has schema ${version}, newer than this node (${migrations.length}); upgrade the node`)
    }
    while (version < migrations.length) {
      const next = version + 1
      try {
        this.transaction(() => {
          this.db.exec(migrations[version] as string)
          this.db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(String(next))
        })
      } catch (error) {
        throw new NodeError('STATE_MIGRATION_FAILED', `migration ${next} of ${this.path} failed`, { cause: error })
      }
      version = next
    }
  }

  private stmt(sql: string): StatementSync {
    let statement = this.statements.get(sql)
    if (!statement) {
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }

  /** Runs `fn` in one transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T {
    if (this.depth > 0) return fn()
    this.db.exec('BEGIN IMMEDIATE')
    this.depth++
    try {
      const result = fn()
      this.db.exec('COMMIT')
      return result
    } catch (error) {
      try {
        this.db.exec('ROLLBACK')
      } catch {}
      throw error
    } finally {
      this.depth--
    }
  }

  close(): void {
    if (!this.db.isOpen) return
    this.statements.clear()
    this.db.close()
  }

  // ─── meta ───

  getMeta(key: string): string | undefined {
    const row = this.stmt('SELECT value FROM meta WHERE key = ?').get(key) as Row | undefined
    return row ? String(row.value) : undefined
  }

  setMeta(key: string, value: string): void {
    this.transaction(() => {
      this.stmt('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value)
    })
  }

  // ─── intents ───

  private toIntent(row: Row): Intent {
    return {
      id: Number(row.id),
      kind: row.kind as IntentKind,
      taskId: String(row.task_id),
      cycle: Number(row.cycle),
      key: String(row.key),
      status: row.status as IntentStatus,
      payload: JSON.parse(String(row.payload)) as Record<string, unknown>,
      txHash: (row.tx_hash ?? null) as Intent['txHash'],
      rawTx: (row.raw_tx ?? null) as Intent['rawTx'],
      nonce: row.nonce === null || row.nonce === undefined ? null : Number(row.nonce),
      error: (row.error ?? null) as string | null,
      attempts: Number(row.attempts),
      createdAt: Number(row.created_at),
      updatedAt: Number(row.updated_at),
    }
  }

  getIntent(ref: IntentRef): Intent | undefined {
    const row = this.stmt('SELECT * FROM intents WHERE kind = ? AND task_id = ? AND cycle = ? AND key = ?').get(ref.kind, ref.taskId, ref.cycle, ref.key ?? '') as Row | undefined
    return row ? this.toIntent(row) : undefined
  }

  getIntentById(id: number): Intent | undefined {
    const row = this.stmt('SELECT * FROM intents WHERE id = ?').get(id) as Row | undefined
    return row ? this.toIntent(row) : undefined
  }

  /**
   * Records the intent to take an action, or returns the one already recorded (UNIQUE(kind,
   * task_id, cycle, key)): `created` tells which.
   */
  ensureIntent(ref: IntentRef, payload: Record<string, unknown> = {}): { intent: Intent; created: boolean } {
    return this.transaction(() => {
      const now = Date.now()
      const result = this.stmt(
        `INSERT INTO intents (kind, task_id, cycle, key, status, payload, created_at, updated_at)
         VALUES (?, ?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT (kind, task_id, cycle, key) DO NOTHING`,
      ).run(ref.kind, ref.taskId, ref.cycle, ref.key ?? '', JSON.stringify(payload, jsonReplacer), now, now)
      return { intent: this.getIntent(ref) as Intent, created: Number(result.changes) === 1 }
    })
  }

  updateIntent(
    id: number,
    patch: Partial<Pick<Intent, 'status' | 'txHash' | 'rawTx' | 'nonce' | 'error' | 'payload' | 'attempts'>>,
  ): Intent {
    return this.transaction(() => {
      const current = this.getIntentById(id)
      if (!current) throw new NodeError('INTENT_CONFLICT', `intent ${id} does not exist`)
      const next = { ...current, ...patch }
      this.stmt(
        `UPDATE intents SET status = ?, tx_hash = ?, raw_tx = ?, nonce = ?, error = ?, payload = ?, attempts = ?, updated_at = ? WHERE id = ?`,
      ).run(next.status, next.txHash, next.rawTx, next.nonce, next.error, JSON.stringify(next.payload, jsonReplacer), next.attempts, Date.now(), id)
      return this.getIntentById(id) as Intent
    })
  }

  listIntents(filter: { status?: IntentStatus[]; taskId?: string; kind?: IntentKind; limit?: number } = {}): Intent[] {
    const where: string[] = []
    const args: (string | number)[] = []
    if (filter.status?.length) {
      where.push(`status IN (${filter.status.map(() => '?').join(', ')})`)
      args.push(...filter.status)
    }
    if (filter.taskId !== undefined) {
      where.push('task_id = ?')
      args.push(filter.taskId)
    }
    if (filter.kind !== undefined) {
      where.push('kind = ?')
      args.push(filter.kind)
    }
    const sql = `SELECT * FROM intents ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${filter.limit ? `LIMIT ${Math.floor(filter.limit)}` : ''}`
    return (this.db.prepare(sql).all(...args) as Row[]).map((row) => this.toIntent(row))
  }

  // ─── task kv (ctx.kv) ───

  kvGet(taskId: string, key: string): unknown {
    const row = this.stmt('SELECT value FROM kv WHERE task_id = ? AND key = ?').get(taskId, key) as Row | undefined
    return row ? deserialize(row.value as Uint8Array) : undefined
  }

  kvPut(taskId: string, key: string, value: unknown): void {
    const bytes = serialize(value)
    this.transaction(() => {
      this.stmt('INSERT INTO kv (task_id, key, value, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (task_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at').run(
        taskId,
        key,
        bytes,
        Date.now(),
      )
    })
  }

  kvDelete(taskId: string, key: string): void {
    this.transaction(() => {
      this.stmt('DELETE FROM kv WHERE task_id = ? AND key = ?').run(taskId, key)
    })
  }

  kvList(taskId: string, prefix: string): string[] {
    // Range scan instead of LIKE, so '%' and '_' in keys mean themselves.
    const rows = this.stmt('SELECT key FROM kv WHERE task_id = ? AND key >= ? ORDER BY key').all(taskId, prefix) as Row[]
    const keys: string[] = []
    for (const row of rows) {
      const key = String(row.key)
      if (!key.startsWith(prefix)) break
      keys.push(key)
    }
    return keys
  }

  // ─── verdicts ───

  putVerdict(verdict: Omit<Verdict, 'createdAt'>): void {
    this.transaction(() => {
      this.stmt(
        `INSERT INTO verdicts (task_id, cycle, kind, subject, ok, reason, evidence_cid, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (task_id, cycle, kind, subject) DO UPDATE SET ok = excluded.ok, reason = excluded.reason, evidence_cid = excluded.evidence_cid`,
      ).run(verdict.taskId, verdict.cycle, verdict.kind, verdict.subject.toLowerCase(), verdict.ok ? 1 : 0, verdict.reason, verdict.evidenceCid, Date.now())
    })
  }

  getVerdict(taskId: string, cycle: number, kind: Verdict['kind'], subject: string): Verdict | undefined {
    const row = this.stmt('SELECT * FROM verdicts WHERE task_id = ? AND cycle = ? AND kind = ? AND subject = ?').get(taskId, cycle, kind, subject.toLowerCase()) as Row | undefined
    if (!row) return undefined
    return {
      taskId: String(row.task_id),
      cycle: Number(row.cycle),
      kind: row.kind as Verdict['kind'],
      subject: String(row.subject),
      ok: Number(row.ok) === 1,
      reason: (row.reason ?? null) as string | null,
      evidenceCid: (row.evidence_cid ?? null) as string | null,
      createdAt: Number(row.created_at),
    }
  }

  // ─── audits seen on-chain ───

  private toAudit(row: Row): AuditRow {
    return {
      auditId: String(row.audit_id),
      taskId: String(row.task_id),
      cycle: Number(row.cycle),
      kind: row.kind as AuditRow['kind'],
      accused: String(row.accused),
      accuser: String(row.accuser),
      evidenceCid: String(row.evidence_cid),
      deadline: Number(row.deadline),
      resolved: Number(row.resolved) === 1,
      upheld: row.upheld === null || row.upheld === undefined ? null : Number(row.upheld) === 1,
      blockNumber: Number(row.block_number),
    }
  }

  upsertAudit(audit: Omit<AuditRow, 'resolved' | 'upheld'> & { resolved?: boolean; upheld?: boolean | null }): void {
    this.transaction(() => {
      this.stmt(
        `INSERT INTO audits (audit_id, task_id, cycle, kind, accused, accuser, evidence_cid, deadline, resolved, upheld, block_number, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (audit_id) DO NOTHING`,
      ).run(
        audit.auditId,
        audit.taskId,
        audit.cycle,
        audit.kind,
        audit.accused,
        audit.accuser,
        audit.evidenceCid,
        audit.deadline,
        audit.resolved ? 1 : 0,
        audit.upheld === undefined || audit.upheld === null ? null : audit.upheld ? 1 : 0,
        audit.blockNumber,
        Date.now(),
      )
    })
  }

  markAuditResolved(auditId: string, upheld: boolean): void {
    this.transaction(() => {
      this.stmt('UPDATE audits SET resolved = 1, upheld = ?, updated_at = ? WHERE audit_id = ?').run(upheld ? 1 : 0, Date.now(), auditId)
    })
  }

  getAudit(auditId: string): AuditRow | undefined {
    const row = this.stmt('SELECT * FROM audits WHERE audit_id = ?').get(auditId) as Row | undefined
    return row ? this.toAudit(row) : undefined
  }

  /** Marks a resolved audit as needing nothing more from this node (no vote reward left to claim). */
  markAuditSettled(auditId: string): void {
    this.transaction(() => {
      this.stmt('UPDATE audits SET settled = 1, updated_at = ? WHERE audit_id = ?').run(Date.now(), auditId)
    })
  }

  listAudits(filter: { taskId?: string; resolved?: boolean; cycle?: number; settled?: boolean } = {}): AuditRow[] {
    const where: string[] = []
    const args: (string | number)[] = []
    if (filter.settled !== undefined) (where.push('settled = ?'), args.push(filter.settled ? 1 : 0))
    if (filter.taskId !== undefined) (where.push('task_id = ?'), args.push(filter.taskId))
    if (filter.resolved !== undefined) (where.push('resolved = ?'), args.push(filter.resolved ? 1 : 0))
    if (filter.cycle !== undefined) (where.push('cycle = ?'), args.push(filter.cycle))
    const sql = `SELECT * FROM audits ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY CAST(audit_id AS INTEGER)`
    return (this.db.prepare(sql).all(...args) as Row[]).map((row) => this.toAudit(row))
  }

  // ─── distribution lists ───

  putList(list: Omit<StoredList, 'createdAt'>): void {
    this.transaction(() => {
      this.stmt(
        `INSERT INTO distributions (task_id, cycle, list_cid, merkle_root, list_json, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (task_id, cycle, list_cid) DO NOTHING`,
      ).run(list.taskId, list.cycle, list.listCid, list.merkleRoot.toLowerCase(), list.listJson, list.source, Date.now())
    })
  }

  /** A stored list of `cycle`, by CID or by Merkle root (latest stored if neither is given). */
  getList(taskId: string, cycle: number, by: { listCid?: string; merkleRoot?: string } = {}): StoredList | undefined {
    let row: Row | undefined
    if (by.listCid) row = this.stmt('SELECT * FROM distributions WHERE task_id = ? AND cycle = ? AND list_cid = ?').get(taskId, cycle, by.listCid) as Row | undefined
    else if (by.merkleRoot) {
      row = this.stmt('SELECT * FROM distributions WHERE task_id = ? AND cycle = ? AND merkle_root = ? ORDER BY created_at DESC').get(taskId, cycle, by.merkleRoot.toLowerCase()) as Row | undefined
    } else row = this.stmt('SELECT * FROM distributions WHERE task_id = ? AND cycle = ? ORDER BY created_at DESC').get(taskId, cycle) as Row | undefined
    if (!row) return undefined
    return {
      taskId: String(row.task_id),
      cycle: Number(row.cycle),
      listCid: String(row.list_cid),
      merkleRoot: String(row.merkle_root),
      listJson: String(row.list_json),
      source: String(row.source),
      createdAt: Number(row.created_at),
    }
  }

  // ─── own submissions ───

  putSubmission(submission: Omit<StoredSubmission, 'createdAt'>): void {
    this.transaction(() => {
      this.stmt(
        `INSERT INTO submissions (task_id, cycle, value, cid, root, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (task_id, cycle) DO UPDATE SET value = excluded.value, cid = excluded.cid, root = excluded.root`,
      ).run(submission.taskId, submission.cycle, submission.value, submission.cid, submission.root.toLowerCase(), Date.now())
    })
  }

  getSubmission(taskId: string, cycle: number): StoredSubmission | undefined {
    const row = this.stmt('SELECT * FROM submissions WHERE task_id = ? AND cycle = ?').get(taskId, cycle) as Row | undefined
    if (!row) return undefined
    return {
      taskId: String(row.task_id),
      cycle: Number(row.cycle),
      value: new Uint8Array(row.value as Uint8Array),
      cid: String(row.cid),
      root: String(row.root),
      createdAt: Number(row.created_at),
    }
  }

  // ─── once-per-cycle steps ───

  markStep(taskId: string, cycle: number, step: string, key = '', data?: unknown): boolean {
    return this.transaction(() => {
      const result = this.stmt('INSERT INTO steps (task_id, cycle, step, key, data, done_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING').run(
        taskId,
        cycle,
        step,
        key,
        data === undefined ? null : JSON.stringify(data, jsonReplacer),
        Date.now(),
      )
      return Number(result.changes) === 1
    })
  }

  hasStep(taskId: string, cycle: number, step: string, key = ''): boolean {
    return this.stmt('SELECT 1 FROM steps WHERE task_id = ? AND cycle = ? AND step = ? AND key = ?').get(taskId, cycle, step, key) !== undefined
  }

  getStep(taskId: string, cycle: number, step: string, key = ''): unknown {
    const row = this.stmt('SELECT data FROM steps WHERE task_id = ? AND cycle = ? AND step = ? AND key = ?').get(taskId, cycle, step, key) as Row | undefined
    return row?.data ? JSON.parse(String(row.data)) : undefined
  }

  /** Cycles ≥ `fromCycle` this node submitted to (intent confirmed or skipped) and has not closed. */
  openCycles(taskId: string, fromCycle: number): number[] {
    return (
      this.stmt(
        `SELECT i.cycle FROM intents i WHERE i.task_id = ? AND i.kind = 'submit' AND i.cycle >= ? AND i.status IN ('confirmed', 'skipped')
         AND NOT EXISTS (SELECT 1 FROM steps s WHERE s.task_id = i.task_id AND s.cycle = i.cycle AND s.step = 'closed' AND s.key = '')
         ORDER BY i.cycle`,
      ).all(taskId, fromCycle) as Row[]
    ).map((row) => Number(row.cycle))
  }

  /**
   * Forgets a task's history before `beforeCycle` (settled intents, steps, verdicts, own
   * submissions, lists, settled audits) so the state grows with the retention window, not with
   * time. Open intents and node-level ones (cycle −1: stake, register) are kept.
   */
  prune(taskId: string, beforeCycle: number): number {
    return this.transaction(() => {
      let removed = 0
      const run = (sql: string) => (removed += Number(this.db.prepare(sql).run(taskId, beforeCycle).changes))
      run(`DELETE FROM intents WHERE task_id = ? AND cycle >= 0 AND cycle < ? AND status IN ('confirmed', 'skipped', 'failed')`)
      run('DELETE FROM steps WHERE task_id = ? AND cycle < ?')
      run('DELETE FROM verdicts WHERE task_id = ? AND cycle < ?')
      run('DELETE FROM submissions WHERE task_id = ? AND cycle < ?')
      run('DELETE FROM distributions WHERE task_id = ? AND cycle < ?')
      run('DELETE FROM audits WHERE task_id = ? AND cycle < ? AND settled = 1')
      return removed
    })
  }

  /** Cycles of `taskId` that have `step` done (ascending). */
  cyclesWithStep(taskId: string, step: string): number[] {
    return (this.stmt('SELECT DISTINCT cycle FROM steps WHERE task_id = ? AND step = ? ORDER BY cycle').all(taskId, step) as Row[]).map((row) => Number(row.cycle))
  }
}

export function openState(path: string): NodeStore {
  return new NodeStore(path)
}
