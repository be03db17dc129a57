// Device ingest (issue 4, "devices without wallets"): a device POSTs its signed payload bytes to
// a node running an ingest task; the node verifies them (@coop/protocol verifyDevicePayload:
// size, canonical dag-cbor shape, task, round window, signature, replay), lets the task curate
// (`scale.ingest.accept`, optional), appends the payload durably at the next leaf position of the
// round and answers with a receipt signed by its EVM key (payload CID, task, round, position).
//
// Rounds. The protocol clock (chain time) gives the current round r. A payload may name round r,
// or r − 1 as long as this node has not sealed r − 1: the submitter seals a cycle when it builds
// the round DAG at the start of its submission window (round r + 1 for cycle r); after that a
// payload for the cycle is refused as WRONG_ROUND (`details.sealed: true`), and the device signs
// it again for the current round. A payload therefore can never land in a DAG whose root was
// already computed, and a receipt's position is always a leaf of the submitted DAG.
//
// Durability. Accepted payloads are queued and committed in one SQLite transaction per turn of the
// event loop (group commit, synchronous=FULL: under load one commit covers every payload verified
// in that turn); a receipt is returned only after its payload's commit.
// Positions and the per-device replay watermark are reserved synchronously before the commit (so
// concurrent payloads get distinct positions and a replay cannot slip in between); a failed commit
// answers every payload of the batch STORE_FAILED and re-reads positions/watermarks from SQLite.
//
// Exported API:
//   new DeviceIngest({ rounds: RoundStore, signer: LocalAccount | ReceiptSigner (receipt-signer.ts), now: () => Promise<bigint> | bigint, logger? })
//   addTask({ taskId, startTime, roundLength, maxPayloadBytes, accept? }) · removeTask(taskId) · task(taskId)
//   ingest(taskId, bytes) → Promise<DeviceReceipt>         throws IngestError (code → HTTP status in `status`)
//   seal(taskId, cycle) → { payloads, record }             flushes queued payloads, then RoundStore.sealRound
//   stats() → { accepted, rejected: Record<code, n>, batches }
import {
  type DevicePayload,
  type DeviceReceipt,
  ProtocolError,
  receiptMessage,
  roundAt,
  verifyDevicePayload,
} from '@coop/protocol'
import type { AuditVerdict } from '@coop/sdk'
import type { Address, Hex } from 'viem'

import { type AppendPayload, type RoundRecord, type RoundStore } from './round-store.ts'

export type IngestErrorCode =
  | 'TOO_LARGE'
  | 'MALFORMED'
  | 'WRONG_TASK'
  | 'WRONG_ROUND'
  | 'BAD_SIGNATURE'
  | 'REPLAY'
  | 'REJECTED'
  | 'ACCEPT_FAILED'
  | 'NOT_INGEST_TASK'
  | 'STORE_FAILED'

/** HTTP status of each code (devices.ts answers with it). */
export const INGEST_HTTP_STATUS: Record<IngestErrorCode, number> = {
  TOO_LARGE: 413,
  MALFORMED: 400,
  WRONG_TASK: 400,
  WRONG_ROUND: 400,
  BAD_SIGNATURE: 401,
  REPLAY: 409,
  REJECTED: 422,
  ACCEPT_FAILED: 503,
  NOT_INGEST_TASK: 404,
  STORE_FAILED: 503,
}

export class IngestError extends Error {
  override name = 'IngestError'
  readonly code: IngestErrorCode
  readonly status: number
  readonly shortMessage: string
  readonly details: Record<string, unknown>

  constructor(code: IngestErrorCode, shortMessage: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super(shortMessage, cause === undefined ? undefined : { cause })
    this.code = code
    this.status = INGEST_HTTP_STATUS[code]
    this.shortMessage = shortMessage
    this.details = details
  }
}

export function isIngestError(error: unknown, code?: IngestErrorCode): error is IngestError {
  return error instanceof IngestError && (code === undefined || error.code === code)
}

/** RoundInfo-shaped round of an accepted payload (what `scale.ingest.accept` gets). */
export type IngestRound = { taskId: bigint; round: number; cycle: number; startTime: number; roundLength: number }

export type IngestTask = {
  taskId: string
  startTime: bigint
  roundLength: bigint
  /** The task's scale.ingest.maxPayloadBytes (capped by the protocol at 1 MiB). */
  maxPayloadBytes: number
  /** The task's scale.ingest.accept, when it has one (a sandbox call). */
  accept?: (payload: DevicePayload, round: IngestRound) => Promise<AuditVerdict>
}

/** Signs receipts: receipt-signer.ts (what the node uses), or any viem LocalAccount. */
export type IngestSigner = { readonly address: Address; signMessage(args: { message: string }): Promise<Hex> }

type Pending = { item: AppendPayload; resolve: () => void; reject: (error: unknown) => void }
type Logger = { warn(data: unknown, message?: string): void; info(data: unknown, message?: string): void }

/** Rounds a payload may name: the current one, or the previous one until it is sealed. */
export const ACCEPTED_ROUNDS: readonly [number, number] = [-1, 0]

export class DeviceIngest {
  private readonly rounds: RoundStore
  private readonly signer: IngestSigner
  private readonly now: () => Promise<bigint> | bigint
  private readonly logger: Logger | undefined
  private readonly tasks = new Map<string, IngestTask>()
  /** Next free position per `${taskId}\0${cycle}` (loaded from SQLite on first use). */
  private readonly positions = new Map<string, number>()
  /** Highest reserved seq per `${taskId}\0${device}` (committed or queued). */
  private readonly watermarks = new Map<string, number>()
  private readonly sealed = new Set<string>()
  private queue: Pending[] = []
  private flushScheduled = false
  private readonly counters = { accepted: 0, batches: 0, rejected: {} as Record<string, number> }

  constructor(options: { rounds: RoundStore; signer: IngestSigner; now: () => Promise<bigint> | bigint; logger?: Logger }) {
    this.rounds = options.rounds
    this.signer = options.signer
    this.now = options.now
    this.logger = options.logger
  }

  addTask(task: IngestTask): void {
    this.tasks.set(task.taskId, task)
  }

  removeTask(taskId: string): void {
    this.tasks.delete(taskId)
  }

  task(taskId: string): IngestTask | undefined {
    return this.tasks.get(taskId)
  }

  stats(): { accepted: number; batches: number; rejected: Record<string, number> } {
    return { accepted: this.counters.accepted, batches: this.counters.batches, rejected: { ...this.counters.rejected } }
  }

  private watermark(taskId: string, device: string): number | undefined {
    const key = `${taskId}\u0000${device}`
    if (!this.watermarks.has(key)) {
      const stored = this.rounds.lastSeq(taskId, device)
      if (stored === undefined) return undefined
      this.watermarks.set(key, stored)
    }
    return this.watermarks.get(key)
  }

  private nextPosition(taskId: string, cycle: number): number {
    const key = `${taskId}\u0000${cycle}`
    let next = this.positions.get(key)
    if (next === undefined) {
      next = this.rounds.payloadCount(taskId, cycle)
      this.positions.set(key, next)
    }
    return next
  }

  private isSealed(taskId: string, cycle: number): boolean {
    const key = `${taskId}\u0000${cycle}`
    if (this.sealed.has(key)) return true
    if (this.rounds.isSealed(taskId, cycle)) {
      this.sealed.add(key)
      return true
    }
    return false
  }

  private refuse(error: IngestError): never {
    this.counters.rejected[error.code] = (this.counters.rejected[error.code] ?? 0) + 1
    throw error
  }

  /** Verifies, appends durably and signs a receipt. Throws IngestError; nothing is stored on error. */
  async ingest(taskId: string, bytes: Uint8Array): Promise<DeviceReceipt> {
    const task = this.tasks.get(taskId)
    if (!task) this.refuse(new IngestError('NOT_INGEST_TASK', `this node does not ingest device payloads for task ${taskId}`, { taskId }))
    if (bytes.length > task.maxPayloadBytes) {
      this.refuse(new IngestError('TOO_LARGE', 'payload exceeds the task\'s maxPayloadBytes', { bytes: bytes.length, maxBytes: task.maxPayloadBytes }))
    }
    const now = await this.now()
    if (now < task.startTime) this.refuse(new IngestError('WRONG_ROUND', 'the task has not started yet', { startTime: task.startTime.toString(), now: now.toString() }))
    const current = Number(roundAt(task.startTime, task.roundLength, now))
    let verified: { payload: DevicePayload; cid: string }
    try {
      verified = verifyDevicePayload(bytes, {
        maxBytes: task.maxPayloadBytes,
        expectedTaskId: taskId,
        round: { current, accept: ACCEPTED_ROUNDS },
        lastSeq: (device) => this.watermark(taskId, device),
      })
    } catch (error) {
      if (error instanceof ProtocolError && error.code in INGEST_HTTP_STATUS) {
        this.refuse(new IngestError(error.code as IngestErrorCode, error.shortMessage, { ...(error.details as Record<string, unknown>) }, error))
      }
      throw error
    }
    const { payload, cid } = verified
    const cycle = payload.round
    const round: IngestRound = {
      taskId: BigInt(taskId),
      round: current,
      cycle,
      startTime: Number(task.startTime + BigInt(current) * task.roundLength),
      roundLength: Number(task.roundLength),
    }
    if (task.accept) {
      let verdict: AuditVerdict
      try {
        verdict = await task.accept(payload, round)
      } catch (cause) {
        // The task program failed or timed out (sandbox): not the device's fault, nothing stored.
        this.logger?.warn({ taskId, err: (cause as Error)?.message }, 'scale.ingest.accept failed')
        this.refuse(new IngestError('ACCEPT_FAILED', 'the task could not check the payload; try again', {}, cause))
      }
      if (!verdict.ok) this.refuse(new IngestError('REJECTED', `the task refused the payload: ${verdict.reason}`, { reason: verdict.reason }))
    }

    // Synchronous from here to the enqueue: sealed check, replay re-check (accept may have
    // awaited), position and watermark reservation.
    if (this.isSealed(taskId, cycle)) {
      this.refuse(new IngestError('WRONG_ROUND', 'the round DAG of that round is already built; sign the payload for the current round', { round: cycle, current, sealed: true }))
    }
    const last = this.watermark(taskId, payload.device)
    if (last !== undefined && payload.seq <= last) {
      this.refuse(new IngestError('REPLAY', 'seq is not above the last accepted seq', { seq: payload.seq, lastSeq: last }))
    }
    const position = this.nextPosition(taskId, cycle)
    this.positions.set(`${taskId}\u0000${cycle}`, position + 1)
    this.watermarks.set(`${taskId}\u0000${payload.device}`, payload.seq)
    const item: AppendPayload = { taskId, cycle, position, cid, device: payload.device, seq: payload.seq, bytes }
    const committed = new Promise<void>((resolve, reject) => this.queue.push({ item, resolve, reject }))
    this.scheduleFlush()

    // Sign while the batch commits; answer only once both are done.
    const fields = { payloadCid: cid, taskId, round: cycle, position }
    const signature = this.signer.signMessage({ message: receiptMessage(fields) })
    try {
      await committed
    } catch (error) {
      await signature.catch(() => undefined)
      throw error
    }
    const sig = await signature
    this.counters.accepted += 1
    return { v: 1, ...fields, node: this.signer.address, sig }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    // Group commit: everything verified in this turn of the event loop (under load, every request
    // the poll phase delivered) shares one commit, right after it — no timer, so the node never
    // sleeps with payloads waiting.
    setImmediate(() => {
      this.flushScheduled = false
      this.flush()
    })
  }

  /** Commits every queued payload in one transaction (synchronous). */
  flush(): void {
    const batch = this.queue
    if (batch.length === 0) return
    this.queue = []
    try {
      this.rounds.appendPayloads(batch.map((pending) => pending.item))
    } catch (cause) {
      // Nothing of the batch is stored: forget the reservations, re-read them from SQLite.
      for (const { item } of batch) {
        this.positions.delete(`${item.taskId}\u0000${item.cycle}`)
        this.watermarks.delete(`${item.taskId}\u0000${item.device}`)
      }
      this.counters.rejected.STORE_FAILED = (this.counters.rejected.STORE_FAILED ?? 0) + batch.length
      this.logger?.warn({ err: (cause as Error)?.message, payloads: batch.length }, 'device payload batch not stored')
      const error = new IngestError('STORE_FAILED', 'the node could not store the payload; try again', {}, cause)
      for (const pending of batch) pending.reject(error)
      return
    }
    this.counters.batches += 1
    for (const pending of batch) pending.resolve()
  }

  /**
   * Seals `cycle` of `taskId` for this node: queued payloads are committed first, then no payload
   * for the cycle is accepted any more (WRONG_ROUND). Returns the accepted payloads in position
   * order (see RoundStore.sealRound).
   */
  seal(taskId: string, cycle: number): { payloads: Uint8Array[]; record: RoundRecord } {
    this.flush()
    this.sealed.add(`${taskId}\u0000${cycle}`)
    this.positions.delete(`${taskId}\u0000${cycle}`)
    return this.rounds.sealRound(taskId, cycle)
  }
}
