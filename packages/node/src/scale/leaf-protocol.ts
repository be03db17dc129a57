// p2p `/coop/scale/leaf/1` (docs/scale.md): a fisherman asks a submitter for one leaf of its
// round DAG with the inclusion proof. Both messages are signed envelopes (@coop/p2p); the answer
// repeats the question (@coop/protocol `LeafAnswer`), so the signed answer alone is evidence of
// what the submitter claims its leaf to be.
//
//   request  { task: '<decimal>', cycle, root: 0x<on-chain digest>, index }
//   answer   { task, cycle, root, index, codec: 0x55 | 0x71, leaf: bytes, path: [bytes…] }
//   refusal  signed `{ error: { code, message } }` (@coop/p2p `#error` envelope), code one of
//            LeafServiceErrorCode.
//
// The service serves this node's own rounds from the round store (never a replica: evidence must
// be signed by the submitter). Rounds inside their audit window — and, after a conviction, inside
// the re-opened horizon (`unbondingRounds`) — must still have their leaves: a pruning policy that
// drops them turns an honest node into one that "refuses to answer" and gets it convicted. So a
// LEAVES_PRUNED refusal is logged at error level: it should never happen while a round can be
// audited.
import type { VerifiedMessage } from '@coop/p2p'
import { DAG_CBOR_CODE, RAW_CODE, isProtocolError, parseLeafRequest, type LeafAnswer, type LeafRequest } from '@coop/protocol'
import { CID } from 'multiformats/cid'

import { CodedError } from './coded-error.ts'
import { isRoundStoreError, type LeafProof, type RoundRecord } from './round-store.ts'

/** Served as `/coop/scale/leaf/1`. */
export const LEAF_PROTOCOL = 'scale/leaf/1'
export const LEAF_PROTOCOL_ID = `/coop/${LEAF_PROTOCOL}`
/** The envelope type of a signed answer (what evidence must carry). */
export const LEAF_RESPONSE_TYPE = `${LEAF_PROTOCOL_ID}#response`
/** The envelope type of a signed request. */
export const LEAF_REQUEST_TYPE = LEAF_PROTOCOL_ID
/** Proofs computed at once; more concurrent requests are refused with BUSY (never queued unboundedly). */
export const DEFAULT_MAX_CONCURRENT_PROOFS = 16

export type LeafServiceErrorCode =
  | 'BAD_REQUEST'
  | 'UNKNOWN_TASK'
  | 'UNKNOWN_ROUND'
  | 'ROOT_MISMATCH'
  | 'NOT_BUILT'
  | 'LEAVES_PRUNED'
  | 'INDEX_OUT_OF_RANGE'
  | 'BUSY'
  | 'NOT_SERVING'
  | 'UNAVAILABLE'

export class LeafServiceError extends CodedError<LeafServiceErrorCode> {
  override name = 'LeafServiceError'
}

export function isLeafServiceError(error: unknown, code?: LeafServiceErrorCode): error is LeafServiceError {
  return error instanceof LeafServiceError && (code === undefined || error.code === code)
}

/** What the service needs (explicit, js-libp2p style): a host to register on, the rounds, the tasks. */
export interface LeafServiceComponents {
  host: { handle(protocol: string, handler: (request: VerifiedMessage) => Promise<unknown>): void }
  rounds: {
    getRound(taskId: string, cycle: number): RoundRecord | undefined
    proveLeaf(taskId: string, cycle: number, index: number): Promise<LeafProof>
  }
  /** Whether this node runs (and so serves) `taskId`. */
  hasTask(taskId: string): boolean
  logger: { debug(data: object, message: string): void; warn(data: object, message: string): void; error(data: object, message: string): void }
}

export interface LeafServiceInit {
  maxConcurrent?: number
}

export type LeafServiceStats = { served: number; refused: Partial<Record<LeafServiceErrorCode, number>> }

export class LeafService {
  readonly [Symbol.toStringTag] = '@coop/node/scale-leaf'
  private readonly components: LeafServiceComponents
  private readonly maxConcurrent: number
  private started = false
  private registered = false
  private inFlight = 0
  private readonly counts: LeafServiceStats = { served: 0, refused: {} }

  constructor(components: LeafServiceComponents, init: LeafServiceInit = {}) {
    this.components = components
    this.maxConcurrent = init.maxConcurrent ?? DEFAULT_MAX_CONCURRENT_PROOFS
  }

  isStarted(): boolean {
    return this.started
  }

  /** Registers the handler (once; CoopHost has no unhandle) and starts answering. Idempotent. */
  start(): void {
    if (!this.registered) {
      this.components.host.handle(LEAF_PROTOCOL, (request) => this.handle(request))
      this.registered = true
    }
    this.started = true
  }

  /** Stops answering: requests get a signed NOT_SERVING refusal. Idempotent. */
  stop(): void {
    this.started = false
  }

  stats(): LeafServiceStats {
    return { served: this.counts.served, refused: { ...this.counts.refused } }
  }

  private async handle(request: VerifiedMessage): Promise<LeafAnswer> {
    try {
      if (!this.started) throw new LeafServiceError('NOT_SERVING', 'the leaf service is stopped')
      const answer = await this.answer(request.body)
      this.counts.served += 1
      return answer
    } catch (error) {
      const refusal = isLeafServiceError(error) ? error : new LeafServiceError('UNAVAILABLE', 'the leaf could not be read', {}, error)
      this.counts.refused[refusal.code] = (this.counts.refused[refusal.code] ?? 0) + 1
      const log = { from: request.from, code: refusal.code, details: refusal.details }
      if (refusal.code === 'LEAVES_PRUNED' || refusal.code === 'UNAVAILABLE') this.components.logger.error(log, 'leaf request refused: our own round data is gone (auditors will accuse us)')
      else this.components.logger.debug(log, 'leaf request refused')
      throw refusal
    }
  }

  /** The answer to a request body, or a LeafServiceError (exposed for tests and in-process callers). */
  async answer(body: unknown): Promise<LeafAnswer> {
    let request: LeafRequest
    try {
      request = parseLeafRequest(body)
    } catch (error) {
      throw new LeafServiceError('BAD_REQUEST', isProtocolError(error) ? error.shortMessage : 'malformed leaf request', {}, error)
    }
    const { task, cycle, root, index } = request
    if (!this.components.hasTask(task)) throw new LeafServiceError('UNKNOWN_TASK', `this node does not run task ${task}`, { task })
    const round = this.components.rounds.getRound(task, cycle)
    if (!round) throw new LeafServiceError('UNKNOWN_ROUND', 'no round DAG of ours for this cycle', { task, cycle })
    if (round.status === 'pruned') throw new LeafServiceError('LEAVES_PRUNED', 'the leaves of this round were pruned (root kept)', { task, cycle })
    if (round.status !== 'built' || !round.digest) throw new LeafServiceError('NOT_BUILT', 'the round DAG of this cycle is not built yet', { task, cycle })
    if (round.digest.toLowerCase() !== root) throw new LeafServiceError('ROOT_MISMATCH', 'our round DAG of this cycle has another root', { task, cycle, root, ours: round.digest })
    if (index >= round.leafCount) throw new LeafServiceError('INDEX_OUT_OF_RANGE', 'leaf index out of range', { task, cycle, index, leafCount: round.leafCount })
    if (this.inFlight >= this.maxConcurrent) throw new LeafServiceError('BUSY', 'too many leaf requests at once; retry', { maxConcurrent: this.maxConcurrent })
    this.inFlight += 1
    let proof: LeafProof
    try {
      proof = await this.components.rounds.proveLeaf(task, cycle, index)
    } catch (error) {
      if (isRoundStoreError(error, 'LEAVES_PRUNED')) throw new LeafServiceError('LEAVES_PRUNED', 'the leaves of this round were pruned (root kept)', { task, cycle }, error)
      if (isRoundStoreError(error, 'INDEX_OUT_OF_RANGE')) throw new LeafServiceError('INDEX_OUT_OF_RANGE', 'leaf index out of range', { task, cycle, index }, error)
      if (isRoundStoreError(error, 'ROUND_NOT_FOUND')) throw new LeafServiceError('UNKNOWN_ROUND', 'no round DAG of ours for this cycle', { task, cycle }, error)
      if (isRoundStoreError(error, 'ROUND_NOT_BUILT')) throw new LeafServiceError('NOT_BUILT', 'the round DAG of this cycle is not built yet', { task, cycle }, error)
      throw new LeafServiceError('UNAVAILABLE', 'the leaf could not be read from the block store', { task, cycle, index }, error)
    } finally {
      this.inFlight -= 1
    }
    const code = CID.parse(proof.leafCid).code
    return { task, cycle, root, index, codec: code === RAW_CODE ? RAW_CODE : DAG_CBOR_CODE, leaf: proof.leaf, path: proof.proof.path.map((entry) => entry.block) }
  }
}

/** js-libp2p style factory: `leafService(init)(components)`. */
export function leafService(init: LeafServiceInit = {}): (components: LeafServiceComponents) => LeafService {
  return (components) => new LeafService(components, init)
}
