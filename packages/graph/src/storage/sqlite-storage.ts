// Durable copy of the graph on SQLite (node:sqlite, WAL, synchronous=FULL). The GraphStore keeps
// everything in memory and writes here in batches: one transaction per batch, committed before any
// put of the batch is acknowledged.

import { DatabaseSync, type StatementSync } from 'node:sqlite'
import { GraphError } from '../errors.ts'
import type { Value } from '../types.ts'

export type StoredKey = { soul: string; key: string; value: Value; state: number }
export type StoredDeferral = StoredKey & { id: number }

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS nodes (
  soul TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, state REAL NOT NULL,
  PRIMARY KEY (soul, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deferred (
  id INTEGER PRIMARY KEY, soul TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, state REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS deferred_by_state ON deferred (state);
CREATE TABLE IF NOT EXISTS history (
  soul TEXT NOT NULL, key TEXT NOT NULL, state REAL NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (soul, key, state, value)
) WITHOUT ROWID;
`
const SCHEMA_VERSION = '1'

export class SqliteStorage {
  readonly #db: DatabaseSync
  readonly #upsert: StatementSync
  readonly #insertDeferral: StatementSync
  readonly #deleteDeferral: StatementSync
  readonly #insertHistory: StatementSync
  readonly #selectHistory: StatementSync

  constructor(path: string) {
    try {
      this.#db = new DatabaseSync(path)
      this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;')
      this.#db.exec(SCHEMA)
      const version = this.#db.prepare('SELECT value FROM meta WHERE name = ?').get('schema') as { value: string } | undefined
      if (version === undefined) this.#db.prepare('INSERT INTO meta (name, value) VALUES (?, ?)').run('schema', SCHEMA_VERSION)
      else if (version.value !== SCHEMA_VERSION) {
        throw new GraphError('STORAGE', 'Unknown graph database schema version', { details: { path, version: version.value } })
      }
    } catch (error) {
      if (error instanceof GraphError) throw error
      throw new GraphError('STORAGE', 'Cannot open the graph database', { details: { path }, cause: error })
    }
    this.#upsert = this.#db.prepare('INSERT OR REPLACE INTO nodes (soul, key, value, state) VALUES (?, ?, ?, ?)')
    this.#insertDeferral = this.#db.prepare('INSERT INTO deferred (soul, key, value, state) VALUES (?, ?, ?, ?) RETURNING id')
    this.#deleteDeferral = this.#db.prepare('DELETE FROM deferred WHERE id = ?')
    this.#insertHistory = this.#db.prepare('INSERT OR IGNORE INTO history (soul, key, state, value) VALUES (?, ?, ?, ?)')
    this.#selectHistory = this.#db.prepare('SELECT state, value FROM history WHERE soul = ? AND key = ? ORDER BY state, value')
  }

  /** Every current key, for the in-memory cache at open. */
  *loadNodes(): Generator<StoredKey> {
    const rows = this.#db.prepare('SELECT soul, key, value, state FROM nodes').iterate() as Iterable<{ soul: string; key: string; value: string; state: number }>
    for (const row of rows) yield { soul: row.soul, key: row.key, value: JSON.parse(row.value) as Value, state: row.state }
  }

  loadDeferrals(): StoredDeferral[] {
    const rows = this.#db.prepare('SELECT id, soul, key, value, state FROM deferred ORDER BY state, id').all() as Array<{ id: number; soul: string; key: string; value: string; state: number }>
    return rows.map((row) => ({ id: row.id, soul: row.soul, key: row.key, value: JSON.parse(row.value) as Value, state: row.state }))
  }

  history(soul: string, key: string): Array<{ value: Value; state: number }> {
    const rows = this.#selectHistory.all(soul, key) as Array<{ state: number; value: string }>
    return rows.map((row) => ({ value: JSON.parse(row.value) as Value, state: row.state }))
  }

  /**
   * Runs `write` inside one transaction and commits it (fsync'd: WAL with synchronous=FULL).
   * On failure rolls back and throws GraphError STORAGE.
   */
  transaction<T>(write: (tx: StorageTransaction) => T): T {
    const db = this.#db
    db.exec('BEGIN IMMEDIATE')
    try {
      const result = write(this.#tx)
      db.exec('COMMIT')
      return result
    } catch (error) {
      try {
        db.exec('ROLLBACK')
      } catch {
        // the transaction may already be gone; the original error is what matters
      }
      throw error instanceof GraphError ? error : new GraphError('STORAGE', 'The graph database write failed', { cause: error })
    }
  }

  readonly #tx: StorageTransaction = {
    upsert: (soul, key, value, state) => {
      this.#upsert.run(soul, key, JSON.stringify(value), state)
    },
    defer: (soul, key, value, state) => (this.#insertDeferral.get(soul, key, JSON.stringify(value), state) as { id: number }).id,
    dropDeferral: (id) => {
      this.#deleteDeferral.run(id)
    },
    history: (soul, key, value, state) => {
      this.#insertHistory.run(soul, key, state, JSON.stringify(value))
    },
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close()
  }
}

export interface StorageTransaction {
  upsert(soul: string, key: string, value: Value, state: number): void
  /** Records a deferred write; returns its id. */
  defer(soul: string, key: string, value: Value, state: number): number
  dropDeferral(id: number): void
  history(soul: string, key: string, value: Value, state: number): void
}
