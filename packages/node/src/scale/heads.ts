// SCALE heads in the node (docs/scale.md, issue 4). The distributor of a SCALE task builds the
// cycle's head when it posts the list (prev = the head anchored for the highest cycle below whose
// list was finalized before this cycle's distribution opened: @coop/protocol expectedPrev) and anchors its digest with postDistribution. Every node then keeps the head
// of every Final cycle of its SCALE tasks: it rebuilds it from the chain alone (the accepted
// roots, the final list, a previous anchored head), checks the digest against the anchor, and
// only if that fails fetches it from the poster (`/coop/scale/head/1`). Heads are served over p2p
// and HTTP (GET /api/tasks/:id/heads[/:cycle]) so any node or device can check its history.
import { DistributionStatus, type Cycle } from '@coop/chain'
import type { CoopHost, VerifiedMessage } from '@coop/p2p'
import { buildScaleHead, decodeScaleHead, expectedPrev, type EncodedScaleHead } from '@coop/protocol'
import type { Address, Hex } from 'viem'

import type { NodeChain } from '../chain/client.ts'
import { NodeError, errorMessage } from '../errors.ts'
import type { Logger } from '../logger.ts'
import { isZero, requestNode, type TaskEnv } from '../roles/env.ts'
import { acceptedSubmissions, finalizedTime } from './chain-facts.ts'
import { ScaleState, type StoredHead } from './scale-state.ts'

export const HEAD_PROTOCOL = 'scale/head/1'
/** Cycles a fresh node scans back (one getCycle each) for the previous anchored head. */
const PREV_SCAN_LIMIT = 4_096
/** Cycles the keeper looks at past its cursor per pass. */
const KEEP_WINDOW = 16
/** Earlier final heads tried as `prev` when rebuilding a head (the prev rule picks one of the last few). */
const PREV_CANDIDATES = 8

type ChainReader = Pick<NodeChain, 'coop'>
type PrevReader = Pick<NodeChain, 'coop' | 'client' | 'addresses' | 'now'>

/**
 * The digest of the head `cycle` must link (null if none), by the prev rule (@coop/protocol
 * expectedPrev): the anchored head of the highest cycle below whose list was finalized in a block
 * with timestamp < roundStart(cycle + 2), when `cycle`'s distribution opened. Read once chain
 * time has reached that moment (no post lands earlier), so no later finalization changes it.
 * Scans down from cycle − 1 (one getCycle each; a finalization time only for Final anchored ones).
 */
export async function previousAnchoredHead(chain: PrevReader, taskId: bigint, cycle: bigint): Promise<Hex | null> {
  const opensAt = await chain.coop.roundStart({ taskId, round: cycle + 2n })
  const now = await chain.now()
  if (now < opensAt) throw new NodeError('SCALE_HEAD_TOO_EARLY', `cycle ${cycle}'s head can be built once its distribution opens (${opensAt}, chain time ${now})`)
  for (let c = cycle - 1n; c >= 0n && c >= cycle - BigInt(PREV_SCAN_LIMIT); c--) {
    const state = await chain.coop.getCycle({ taskId, cycle: c })
    if (state.status !== DistributionStatus.Final || isZero(state.scaleHead)) continue
    const time = await finalizedTime(chain.client, chain.addresses.taskManager, taskId, c)
    const prev = expectedPrev([{ cycle: Number(c), digest: state.scaleHead, ...(time === undefined ? {} : { finalizedTime: time }) }], Number(cycle), opensAt)
    if (prev) return prev.digest
  }
  return null
}

/**
 * Builds the head the distributor anchors with its list of `cycle` and stores it ('built').
 * Deterministic for one chain state, so a retried post of the same attempt rebuilds the same head.
 */
export async function buildHeadForPost(env: TaskEnv, cycle: bigint, state: Cycle, list: { merkleRoot: Hex; listCid: Hex }): Promise<EncodedScaleHead> {
  const scale = new ScaleState(env.node.store)
  const [submissions, prev] = await Promise.all([
    acceptedSubmissions(env.node.chain.coop, env.taskId, cycle, state),
    previousAnchoredHead(env.node.chain, env.taskId, cycle),
  ])
  const head = buildScaleHead({ task: env.taskId, cycle, prev, submissions, distribution: list })
  scale.putHead({ taskId: env.id, cycle: Number(cycle), digest: head.digest, cid: head.cid, prev: head.head.prev, bytes: head.bytes, status: 'built' })
  return head
}

/** The stored head a prepared post intent anchors (crash between building and sending). */
export function storedHead(env: TaskEnv, cycle: bigint, digest: Hex): EncodedScaleHead | undefined {
  const stored = new ScaleState(env.node.store).getHead(env.id, Number(cycle), digest)
  return stored ? decodeScaleHead(stored.bytes) : undefined
}

function storeFinal(scale: ScaleState, taskId: string, head: EncodedScaleHead): void {
  scale.putHead({ taskId, cycle: head.head.cycle, digest: head.digest, cid: head.cid, prev: head.head.prev, bytes: head.bytes, status: 'final' })
  scale.updateCompact(taskId, (state) => {
    if (state.lastHead === null || state.lastHead.cycle < head.head.cycle) state.lastHead = { cycle: head.head.cycle, cid: head.cid, digest: head.digest }
  })
}

/**
 * The head anchored for a Final cycle, rebuilt from the chain: accepted roots and list from the
 * chain, prev among the last kept heads (the prev rule picks one of them, usually the newest).
 */
export async function rebuildFinalHead(chain: ChainReader, scale: ScaleState, taskId: bigint, cycle: bigint, state: Cycle): Promise<EncodedScaleHead | undefined> {
  const submissions = await acceptedSubmissions(chain.coop, taskId, cycle, state)
  const id = taskId.toString()
  const candidates: (string | null)[] = []
  for (let below = Number(cycle); candidates.length < PREV_CANDIDATES; ) {
    const head = scale.lastFinalHead(id, below)
    if (!head) break
    candidates.push(head.cid)
    below = head.cycle
  }
  candidates.push(null)
  const anchored = state.scaleHead.toLowerCase()
  for (const prev of candidates) {
    const head = buildScaleHead({ task: taskId, cycle, prev, submissions, distribution: { merkleRoot: state.merkleRoot, listCid: state.listCid } })
    if (head.digest === anchored) return head
  }
  return undefined
}

export type KeepHeadsContext = {
  taskId: bigint
  chain: ChainReader
  scale: ScaleState
  currentRound: bigint
  logger: Logger
  /** Asks the poster (or anyone) for the head block of a cycle; undefined if nobody answers. */
  fetchHead?(cycle: bigint, poster: Address, digest: Hex): Promise<Uint8Array | undefined>
}

/**
 * One pass of the head keeper: settles the cycles from the compact state's cursor on (at most
 * KEEP_WINDOW), keeping the head of each Final cycle with an anchored digest. The cursor only
 * moves over settled cycles (Final, Failed, or empty), so no anchored head is ever skipped.
 * Returns the heads newly kept.
 */
export async function keepHeads(ctx: KeepHeadsContext): Promise<StoredHead[]> {
  const { taskId, chain, scale, currentRound, logger } = ctx
  const id = taskId.toString()
  const kept: StoredHead[] = []
  const cursor = BigInt(scale.compact(id).headCursor)
  let settledThrough = cursor - 1n
  let contiguous = true
  for (let cycle = cursor; cycle + 2n <= currentRound && cycle < cursor + BigInt(KEEP_WINDOW); cycle++) {
    const state = await chain.coop.getCycle({ taskId, cycle })
    let settled = false
    if (state.status === DistributionStatus.Final) {
      if (isZero(state.scaleHead)) settled = true
      else {
        const existing = scale.getHead(id, Number(cycle), state.scaleHead)
        let head: EncodedScaleHead | undefined = existing ? decodeScaleHead(existing.bytes) : undefined
        head ??= await rebuildFinalHead(chain, scale, taskId, cycle, state)
        if (!head && ctx.fetchHead) {
          const bytes = await ctx.fetchHead(cycle, state.poster, state.scaleHead).catch((error: unknown) => {
            logger.debug({ cycle, poster: state.poster, err: errorMessage(error) }, 'scale head fetch failed')
            return undefined
          })
          const decoded = bytes ? decodeScaleHead(bytes) : undefined
          if (decoded && decoded.digest === state.scaleHead.toLowerCase()) head = decoded
        }
        if (head) {
          if (existing?.status !== 'final') {
            storeFinal(scale, id, head)
            kept.push(scale.getHead(id, Number(cycle), head.digest) as StoredHead)
          }
          settled = true
        } else logger.warn({ cycle, anchored: state.scaleHead }, 'the anchored SCALE head could not be rebuilt or fetched; will retry')
      }
    } else if (state.status === DistributionStatus.Failed) settled = true
    else if (state.status === DistributionStatus.Pending && state.submitters.length === 0 && cycle + 3n <= currentRound) settled = true // nobody submitted: no list, no head
    if (settled && contiguous) settledThrough = cycle
    else contiguous = false
  }
  if (settledThrough >= cursor) scale.updateCompact(id, (state) => void (state.headCursor = Number(settledThrough + 1n)))
  return kept
}

/** Serves `/coop/scale/head/1` { taskId, cycle, digest? } → { taskId, cycle, digest, bytes }. */
export function serveHeads(options: { host: CoopHost; scale: ScaleState; hasTask: (taskId: string) => boolean }): void {
  options.host.handle(HEAD_PROTOCOL, async (request: VerifiedMessage) => {
    const body = request.body as Record<string, unknown> | null
    const taskId = typeof body?.taskId === 'string' && /^\d{1,78}$/.test(body.taskId) ? BigInt(body.taskId).toString() : undefined
    const cycle = typeof body?.cycle === 'number' && Number.isSafeInteger(body.cycle) && body.cycle >= 0 ? body.cycle : undefined
    if (taskId === undefined || cycle === undefined) throw new NodeError('SCALE_BAD_REQUEST', 'body must be { taskId: decimal string, cycle: integer, digest? }')
    if (!options.hasTask(taskId)) throw new NodeError('TASK_NOT_FOUND', `this node does not run task ${taskId}`)
    const digest = typeof body?.digest === 'string' ? body.digest : undefined
    const head = options.scale.getHead(taskId, cycle, digest)
    if (!head) throw new NodeError('SCALE_NOT_FOUND', `no SCALE head for task ${taskId} cycle ${cycle}`)
    return { taskId, cycle, digest: head.digest, bytes: head.bytes }
  })
}

/** Asks `node` for a head block over p2p (the answer is checked by the caller against the anchor). */
export async function requestHead(env: TaskEnv, node: Address, cycle: bigint, digest: Hex): Promise<Uint8Array | undefined> {
  const message = await requestNode(env, node, HEAD_PROTOCOL, { taskId: env.id, cycle: Number(cycle), digest })
  const bytes = (message.body as { bytes?: unknown } | null)?.bytes
  return bytes instanceof Uint8Array ? bytes : undefined
}
