// Schema migrations of the node's SQLite state, applied in order inside one transaction each.
// Never edit a shipped migration: append a new one.
export const migrations: readonly string[] = [
  // 1: initial schema
  `
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  -- One row per on-chain action the node means to take. UNIQUE(kind, task_id, cycle, key) makes
  -- a second intent for the same action impossible; cycle = -1 when the action has no cycle.
  CREATE TABLE intents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    task_id TEXT NOT NULL,
    cycle INTEGER NOT NULL,
    key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'confirmed', 'failed', 'skipped')),
    payload TEXT NOT NULL DEFAULT '{}',
    tx_hash TEXT,
    raw_tx TEXT,
    nonce INTEGER,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (kind, task_id, cycle, key)
  );
  CREATE INDEX intents_status ON intents (status);
  CREATE INDEX intents_task ON intents (task_id, cycle);
  -- ctx.kv of the sandboxed task programs (values are v8-serialized).
  CREATE TABLE kv (
    task_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (task_id, key)
  );
  -- What this node concluded when it checked a submission or a distribution list.
  CREATE TABLE verdicts (
    task_id TEXT NOT NULL,
    cycle INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('submission', 'distribution')),
    subject TEXT NOT NULL,
    ok INTEGER NOT NULL,
    reason TEXT,
    evidence_cid TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (task_id, cycle, kind, subject)
  );
  -- Audits seen on-chain (AuditRaised and later events).
  CREATE TABLE audits (
    audit_id TEXT PRIMARY KEY,
    task_id TEXT NOT NULL,
    cycle INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('submission', 'distribution')),
    accused TEXT NOT NULL,
    accuser TEXT NOT NULL,
    evidence_cid TEXT NOT NULL,
    deadline INTEGER NOT NULL,
    resolved INTEGER NOT NULL DEFAULT 0,
    upheld INTEGER,
    block_number INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX audits_task ON audits (task_id, resolved);
  -- Distribution lists (JSON) by cycle and CID: ours, or fetched from the poster.
  CREATE TABLE distributions (
    task_id TEXT NOT NULL,
    cycle INTEGER NOT NULL,
    list_cid TEXT NOT NULL,
    merkle_root TEXT NOT NULL,
    list_json TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (task_id, cycle, list_cid)
  );
  -- This node's submissions: the value (dag-cbor bytes) served to auditors, and its root.
  CREATE TABLE submissions (
    task_id TEXT NOT NULL,
    cycle INTEGER NOT NULL,
    value BLOB NOT NULL,
    cid TEXT NOT NULL,
    root TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (task_id, cycle)
  );
  -- Off-chain steps done once per cycle (work, audit pass, distribution check, announcement).
  CREATE TABLE steps (
    task_id TEXT NOT NULL,
    cycle INTEGER NOT NULL,
    step TEXT NOT NULL,
    key TEXT NOT NULL DEFAULT '',
    data TEXT,
    done_at INTEGER NOT NULL,
    PRIMARY KEY (task_id, cycle, step, key)
  );
  `,
  // 2: resolved audits this node has nothing left to do for are marked settled (skipped by the
  // scheduler); an index to find a task's open cycles without scanning its history
  `
  ALTER TABLE audits ADD COLUMN settled INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX audits_open ON audits (task_id, settled);
  CREATE INDEX intents_kind ON intents (task_id, kind, cycle);
  `,
  // 3: SCALE rounds (issue 4; packages/node/src/scale/round-store.ts). Device payloads accepted
  // for a round (bytes kept until the round DAG is built into the block store), the replay
  // watermark per device, one row per round DAG held (own or replica: root and compact state stay
  // after pruning), and the blocks of each round (to delete only blocks no other live round uses).
  `
  CREATE TABLE scale_payloads (
    task_id TEXT NOT NULL,
    cycle INTEGER NOT NULL,
    position INTEGER NOT NULL,
    cid TEXT NOT NULL,
    device TEXT NOT NULL,
    seq INTEGER NOT NULL,
    bytes BLOB,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (task_id, cycle, position)
  );
  CREATE TABLE scale_devices (
    task_id TEXT NOT NULL,
    device TEXT NOT NULL,
    last_seq INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (task_id, device)
  );
  CREATE TABLE scale_rounds (
    task_id TEXT NOT NULL,
    cycle INTEGER NOT NULL,
    node TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sealed', 'built', 'pruned')),
    root TEXT,
    digest TEXT,
    leaf_count INTEGER NOT NULL DEFAULT 0,
    payload_count INTEGER NOT NULL DEFAULT 0,
    sealed_at INTEGER NOT NULL,
    built_at INTEGER,
    pruned_at INTEGER,
    PRIMARY KEY (task_id, cycle, node)
  );
  CREATE INDEX scale_rounds_status ON scale_rounds (task_id, status, cycle);
  CREATE TABLE scale_round_blocks (
    task_id TEXT NOT NULL,
    cycle INTEGER NOT NULL,
    node TEXT NOT NULL,
    cid TEXT NOT NULL,
    PRIMARY KEY (task_id, cycle, node, cid)
  );
  CREATE INDEX scale_round_blocks_cid ON scale_round_blocks (cid);
  `,
  // 4: SCALE heads, replica acks and compact state (issue 4; packages/node/src/scale/scale-state.ts).
  // Heads of finalized cycles are kept forever (a few hundred bytes each: the history a verifier
  // checks); acks are the signed answers of replicas holding this node's round DAGs; scale_state
  // is one compact JSON object per task that outlives pruning.
  `
  CREATE TABLE scale_heads (
    task_id TEXT NOT NULL,
    cycle INTEGER NOT NULL,
    digest TEXT NOT NULL,
    cid TEXT NOT NULL,
    prev TEXT,
    bytes BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('built', 'final')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (task_id, cycle, digest)
  );
  CREATE INDEX scale_heads_final ON scale_heads (task_id, status, cycle);
  CREATE TABLE scale_replica_acks (
    task_id TEXT NOT NULL,
    cycle INTEGER NOT NULL,
    node TEXT NOT NULL,
    holder TEXT NOT NULL,
    root TEXT NOT NULL,
    signed BLOB NOT NULL,
    acked_at INTEGER NOT NULL,
    PRIMARY KEY (task_id, cycle, node, holder)
  );
  CREATE TABLE scale_state (
    task_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `,
]
