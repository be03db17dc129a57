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

export type SubmitterStatus = { node: Address; passed: boolean }
export type Bounty = { reward: bigint; bonus: bigint }
export type DistributionShare = { node: Address; reward: bigint; bonus: bigint }

export interface TaskDefinitionInput<Submission = unknown, WorkState = unknown> {
  name: string
  setup?(ctx: TaskContext): Promise<void>
  /** Do the cycle's work; keep results in ctx.kv / ctx.store. */
  work(round: RoundInfo, ctx: TaskContext): Promise<void>
  /** What to submit for cycle round.cycle (plain, dag-cbor encodable data). */
  submission(round: RoundInfo, ctx: TaskContext): Promise<Submission>
  audit(submission: Submission, round: RoundInfo, submitter: Address, ctx: TaskContext): Promise<AuditVerdict>
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

export const TASK_BRAND: unique symbol = Symbol.for('coop.task.v1')

/** A validated, frozen task definition, as returned by `defineTask`. */
export type TaskDefinition<Submission = unknown, WorkState = unknown> = Readonly<
  TaskDefinitionInput<Submission, WorkState>
> & { readonly [TASK_BRAND]: true }
