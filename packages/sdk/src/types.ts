import type { Address, Hex } from 'viem'

export type { Address, Hex }

/** The cycle a call is about. `round` is the round being executed, `cycle` the cycle whose work/submission/audit/distribution it is. */
export type RoundInfo = {
  taskId: bigint
  round: number
  cycle: number
  /** Unix seconds at which `round` starts. */
  startTime: number
  /** Seconds. */
  roundLength: number
  /** The cycle seed fixed on-chain when submissions close: present for audit and distribution calls. */
  seed?: Hex
}

export type AuditVerdict = { ok: true } | { ok: false; reason: string; evidence?: unknown }

export type Behaviour = { mode: 'honest' | 'cheater'; cheatFromRound?: number }

export interface TaskKv {
  get(key: string): Promise<unknown>
  put(key: string, value: unknown): Promise<void>
  delete(key: string): Promise<void>
  /** Keys starting with `prefix`, sorted. */
  list(prefix: string): Promise<string[]>
}

export interface TaskStore {
  /** Bytes are stored as a raw block, anything else dag-cbor encoded; returns the CIDv1 string. */
  put(value: unknown | Uint8Array): Promise<string>
  /** Raw blocks come back as Uint8Array, dag-cbor blocks decoded; undefined if absent. */
  get(cid: string): Promise<unknown | Uint8Array | undefined>
}

export interface TaskLog {
  info(msg: string, data?: unknown): void
  warn(msg: string, data?: unknown): void
  error(msg: string, data?: unknown): void
}

export interface TaskContext {
  round: RoundInfo
  address: Address
  behaviour: Behaviour
  /** Durable key-value storage, per task. Values: plain data (objects, arrays, strings, numbers, bigint, Uint8Array). */
  kv: TaskKv
  /** The node's content store (CIDv1, sha2-256). */
  store: TaskStore
  /** Signed by the node on the task's behalf (EIP-191 personal_sign); the program never holds keys. */
  sign(message: Uint8Array | string): Promise<Hex>
  /** Signed p2p request to another node's task route `path`; resolves with the route's return value. */
  request(node: Address, path: string, body?: unknown): Promise<unknown>
  log: TaskLog
  /** Task-specific config from the task's manifest / devnet. */
  config: Record<string, unknown>
}

export type RouteRequest = { method: string; path: string; query: Record<string, string>; body: unknown }
export type RouteHandler = (request: RouteRequest, ctx: TaskContext) => Promise<unknown>

export type SubmitterStatus = {
  node: Address
  passed: boolean
  /** The node's on-chain submission root (32-byte digest; for a SCALE task its round DAG's root). */
  root?: Hex
}
export type Bounty = { reward: bigint; bonus: bigint }
export type DistributionShare = { node: Address; reward: bigint; bonus: bigint }

/** A device payload as the node accepted it (see @coop/protocol `DevicePayload`); `body` is dag-cbor decoded. */
export type DevicePayloadView = {
  v: 1
  /** The device's public key (0x hex: 32 bytes ed25519, 33 bytes compressed secp256k1). */
  device: Hex
  scheme: 'ed25519' | 'secp256k1'
  taskId: string
  round: number
  seq: number
  body: unknown
  sig: Hex
}

/**
 * Device ingest (issue 4, "devices without wallets"): with this section the node accepts signed
 * device payloads for the task at `POST /api/tasks/:id/payloads`, and the leaves of a cycle's
 * round DAG are the payloads it accepted for that round, in arrival order (a receipt's
 * `position` is the leaf index).
 */
export interface ScaleIngest {
  /** Largest accepted payload (wire bytes). Default 16 KiB; at most 1 MiB (MAX_DEVICE_PAYLOAD_BYTES). */
  maxPayloadBytes?: number
  /**
   * Optional curation at ingest, after the node verified size, shape, task, round, signature and
   * replay: `{ ok: false, reason }` refuses the payload (HTTP 422 REJECTED, nothing stored).
   * Auditors judge leaves with `leafAudit`, so a payload `accept` lets through must pass it.
   */
  accept?(payload: DevicePayloadView, round: RoundInfo, ctx: TaskContext): Promise<AuditVerdict>
  /**
   * Optional: the round DAG's leaves, given the accepted payloads' wire bytes in arrival order.
   * Default: the payloads themselves. An honest task returns them unchanged (receipts name their
   * positions); the hook exists so a task can append derived leaves after them.
   */
  leaves?(payloads: Uint8Array[], round: RoundInfo, ctx: TaskContext): Promise<unknown[]>
}

/** The SCALE section of a task (docs/scale.md): the submission of a cycle is the root of a round DAG. */
export interface ScaleSection {
  /** Present → device payloads are the leaves (see ScaleIngest); absent → the leaves are the array `submission()` returns. */
  ingest?: ScaleIngest
  /** Checks one sampled leaf (raw block → Uint8Array, dag-cbor → decoded value) of `submitter`'s round DAG at `position`. */
  leafAudit(leaf: unknown, position: number, round: RoundInfo, submitter: Address, ctx: TaskContext): Promise<AuditVerdict>
  /** Leaves drawn per fisherman audit. Default 16 (1–1024). */
  samples?: number
  /** Cycles the leaves are kept after the cycle is final, then pruned (roots stay). Default 8 (0–100 000). */
  retentionRounds?: number
  /** k: each round DAG is held by at least k nodes. Default 2 (1–64). */
  replication?: number
}

/** The SCALE settings a node acts on, defaults filled in (`scaleSettings(task)`, `TaskRuntime.scale`). */
export type ScaleSettings = {
  ingest: { maxPayloadBytes: number; accept: boolean; leaves: boolean } | null
  samples: number
  retentionRounds: number
  replication: number
}

interface TaskDefinitionBase<WorkState> {
  name: string
  setup?(ctx: TaskContext): Promise<void>
  distribution(
    submitters: SubmitterStatus[],
    bounty: Bounty,
    round: RoundInfo,
    ctx: TaskContext,
  ): Promise<DistributionShare[]>
  routes?: Record<string, RouteHandler>
  /** Phantom: documents the shape a task keeps in ctx.kv; not used at runtime. */
  readonly __workState?: WorkState
}

/** A task whose submission is one dag-cbor value, audited whole. */
export interface ClassicTaskInput<Submission = unknown, WorkState = unknown> extends TaskDefinitionBase<WorkState> {
  /** Do the cycle's work; keep results in ctx.kv / ctx.store. */
  work(round: RoundInfo, ctx: TaskContext): Promise<void>
  /** What to submit for cycle round.cycle (plain, dag-cbor encodable data). */
  submission(round: RoundInfo, ctx: TaskContext): Promise<Submission>
  audit(submission: Submission, round: RoundInfo, submitter: Address, ctx: TaskContext): Promise<AuditVerdict>
  scale?: undefined
}

/**
 * A SCALE task (docs/scale.md): the submission of a cycle is the root of its round DAG, audited
 * leaf by leaf (`scale.leafAudit`). `submission()` returns the leaves (absent for an ingest task,
 * whose leaves are device payloads); `work` is optional; `audit` is not used by the node.
 */
export interface ScaleTaskInput<Submission = unknown, WorkState = unknown> extends TaskDefinitionBase<WorkState> {
  work?(round: RoundInfo, ctx: TaskContext): Promise<void>
  submission?(round: RoundInfo, ctx: TaskContext): Promise<Submission>
  audit?(submission: Submission, round: RoundInfo, submitter: Address, ctx: TaskContext): Promise<AuditVerdict>
  scale: ScaleSection
}

export type TaskDefinitionInput<Submission = unknown, WorkState = unknown> = ClassicTaskInput<Submission, WorkState> | ScaleTaskInput<Submission, WorkState>

export const TASK_BRAND: unique symbol = Symbol.for('coop.task.v1')

/** A validated, frozen task definition, as returned by `defineTask`. */
export type TaskDefinition<Submission = unknown, WorkState = unknown> = Readonly<
  TaskDefinitionInput<Submission, WorkState>
> & { readonly [TASK_BRAND]: true }
export type ClassicTaskDefinition<Submission = unknown, WorkState = unknown> = Readonly<ClassicTaskInput<Submission, WorkState>> & { readonly [TASK_BRAND]: true }
export type ScaleTaskDefinition<Submission = unknown, WorkState = unknown> = Readonly<ScaleTaskInput<Submission, WorkState>> & { readonly [TASK_BRAND]: true }
