// Batched submissions (docs/scale.md, issue 4), the node side.
//
// A node configured with `submission: { via: 'batcher', batcher }` signs its cycle submission
// (EIP-712, chain action signSubmission) and sends it over the signed request protocol
// /coop/scale/batch/1 to the batcher node. The batcher checks the signature and the window, keeps
// the entry, and at `postAt` (40 % into the submission window) posts everything it holds for the
// cycle with one submitBatch transaction, through the node's TxSender (intent 'submitBatch', key =
// attempt: nonces stay in order with the node's own transactions and a crash cannot double-send).
// An entry the contract rejects (the simulation names it: InvalidBatchSignature,
// BatchEntryRejected) is dropped and the rest re-posted.
//
// Durability: the batcher's queue is soft state. The submitting node stays responsible for its
// submission: it waits until its bit is set on-chain (hasSubmittedInCycle) and, if the batcher has
// not confirmed by `fallbackAt` (70 % into the window, at least 1 s before it closes), submits
// directly — the 'submit' intent is the same either way, and its chain check (effects.ts) counts
// a batched submission as done, so a restart never submits twice.
import { isContractError, submissionTypedData, taskManagerAbi, withRetry, type CycleSubmitter, type SignedSubmission } from '@coop/chain'
import { auditorIndices, auditProbabilityBps, isSampled } from '@coop/protocol'
import type { VerifiedMessage } from '@coop/p2p'
import { compactSignatureToSignature, getAddress, isHex, recoverTypedDataAddress, serializeSignature, type Address, type Hex } from 'viem'
import { readContract } from 'viem/actions'

import { errorMessage } from '../errors.ts'
import { requestNode, same, ZERO32, type NodeServices, type TaskEnv } from '../roles/env.ts'

export const BATCH_PROTOCOL = 'scale/batch/1'
export const BATCH_PROTOCOL_ID = `/coop/${BATCH_PROTOCOL}`

/** Request body of /coop/scale/batch/1 (signed by the submitting node's EVM key: envelope `from`). */
export type BatchRequest = { taskId: string; cycle: number; root: Hex; r: Hex; vs: Hex }
/** Answer: the entry is queued; the batcher posts at `postAt` (chain time, seconds). */
export type BatchAnswer = { queued: true; taskId: string; cycle: number; postAt: number }

export class BatchRequestError extends Error {
  override name = 'BatchRequestError'
  constructor(
    readonly code: 'BAD_REQUEST' | 'UNKNOWN_TASK' | 'BAD_SIGNATURE' | 'OUTSIDE_WINDOW',
    message: string,
  ) {
    super(message)
  }
}

type Window = { opensAt: bigint; closesAt: bigint }

/** Submission window of `cycle`: [start(cycle+1), start(cycle+1) + submissionWindow). */
export function submissionWindow(env: Pick<TaskEnv, 'startTime' | 'params'>, cycle: bigint): Window {
  const opensAt = env.startTime + (cycle + 1n) * env.params.roundLength
  return { opensAt, closesAt: opensAt + env.params.submissionWindow }
}

/** When the batcher posts (40 % into the window) and when a node gives up on it (70 %, ≥ 1 s before close). */
export function batchTimes(window: Window): { postAt: bigint; fallbackAt: bigint } {
  const length = window.closesAt - window.opensAt
  const postAt = window.opensAt + (length * 4n) / 10n
  const fallbackAt = window.opensAt + (length * 7n) / 10n
  return { postAt, fallbackAt: fallbackAt < window.closesAt - 1n ? fallbackAt : window.closesAt - 1n }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
const isBytes32 = (value: unknown): value is Hex => typeof value === 'string' && isHex(value) && value.length === 66

function parseRequest(body: unknown): BatchRequest {
  if (!isObject(body)) throw new BatchRequestError('BAD_REQUEST', 'body must be an object')
  const { taskId, cycle, root, r, vs } = body
  if (typeof taskId !== 'string' || !/^\d{1,78}$/.test(taskId)) throw new BatchRequestError('BAD_REQUEST', 'taskId must be a decimal string')
  if (typeof cycle !== 'number' || !Number.isSafeInteger(cycle) || cycle < 0) throw new BatchRequestError('BAD_REQUEST', 'cycle must be a non-negative integer')
  if (!isBytes32(root) || !isBytes32(r) || !isBytes32(vs)) throw new BatchRequestError('BAD_REQUEST', 'root, r and vs must be 32-byte hex strings')
  if (BigInt(root) === 0n) throw new BatchRequestError('BAD_REQUEST', 'root must not be zero')
  return { taskId: BigInt(taskId).toString(), cycle, root, r, vs }
}

/** Whether `node` submitted for `cycle` by either path (the contract's submitted bitmap). */
export async function hasSubmittedInCycle(services: Pick<NodeServices, 'chain'>, taskId: bigint, cycle: bigint, node: Address): Promise<boolean> {
  const { chain } = services
  return withRetry(() =>
    readContract(chain.client, { abi: taskManagerAbi, address: chain.addresses.taskManager, functionName: 'hasSubmittedInCycle', args: [taskId, cycle, node] }),
  )
}

/** The batcher role: serves /coop/scale/batch/1 for the tasks this node runs and posts the batches. */
export class SubmissionBatcher {
  private readonly queues = new Map<string, { env: TaskEnv; cycle: bigint; entries: Map<Address, SignedSubmission>; timer?: ReturnType<typeof setTimeout> }>()

  constructor(
    private readonly services: NodeServices,
    private readonly taskEnv: (taskId: string) => TaskEnv | undefined,
  ) {}

  start(): void {
    this.services.host.handle(BATCH_PROTOCOL, (request) => this.handle(request))
    this.services.signal.addEventListener('abort', () => {
      for (const queue of this.queues.values()) if (queue.timer) clearTimeout(queue.timer)
    })
  }

  /** Entries held for (task, cycle), in arrival order. */
  pending(taskId: string, cycle: number): SignedSubmission[] {
    return [...(this.queues.get(`${taskId}:${cycle}`)?.entries.values() ?? [])]
  }

  async handle(request: VerifiedMessage): Promise<BatchAnswer> {
    const body = parseRequest(request.body)
    const env = this.taskEnv(body.taskId)
    if (!env) throw new BatchRequestError('UNKNOWN_TASK', `this node does not run task ${body.taskId}`)
    const cycle = BigInt(body.cycle)
    const node = getAddress(request.from)
    const { chain } = this.services
    const signature = serializeSignature(compactSignatureToSignature({ r: body.r, yParityAndS: body.vs }))
    const signer = await recoverTypedDataAddress({
      ...submissionTypedData({ taskManager: chain.addresses.taskManager, chainId: chain.chainId, taskId: env.taskId, cycle, root: body.root }),
      signature,
    }).catch(() => undefined)
    if (!signer || getAddress(signer) !== node) throw new BatchRequestError('BAD_SIGNATURE', 'the submission is not signed by the requesting node for this task, cycle, root and chain')
    const window = submissionWindow(env, cycle)
    const { postAt } = batchTimes(window)
    const now = await chain.now()
    if (now < window.opensAt || now >= postAt) {
      throw new BatchRequestError('OUTSIDE_WINDOW', `cycle ${cycle} takes batched entries in [${window.opensAt}, ${postAt}); now ${now}`)
    }
    const key = `${env.id}:${body.cycle}`
    let queue = this.queues.get(key)
    if (!queue) {
      queue = { env, cycle, entries: new Map() }
      this.queues.set(key, queue)
      const delayMs = Number(postAt - now) * 1000
      queue.timer = setTimeout(() => void this.post(key).catch((error) => env.logger.warn({ cycle, err: errorMessage(error) }, 'batch post failed')), delayMs)
    }
    // A repeated request (a node retrying) replaces its entry: same key, latest root signed.
    queue.entries.set(node, { node, root: body.root, r: body.r, vs: body.vs })
    this.services.metrics.p2pRequests.inc({ protocol: BATCH_PROTOCOL, result: 'ok' })
    return { queued: true, taskId: env.id, cycle: body.cycle, postAt: Number(postAt) }
  }

  /** Posts the queue of `key` as one batch; drops entries the contract names as bad and retries. */
  async post(key: string): Promise<void> {
    const queue = this.queues.get(key)
    if (!queue) return
    this.queues.delete(key)
    const { env, cycle } = queue
    let entries = [...queue.entries.values()]
    // Entries whose node already submitted (e.g. fell back to direct) would reject the batch.
    const fresh: SignedSubmission[] = []
    for (const entry of entries) if (!(await hasSubmittedInCycle(this.services, env.taskId, cycle, entry.node))) fresh.push(entry)
    entries = fresh
    for (let attempt = 0; entries.length > 0 && attempt < 8; attempt++) {
      const outcome = await this.services.sender.execute(
        { kind: 'submitBatch', taskId: env.id, cycle: Number(cycle), key: String(attempt) },
        { nodes: entries.map((entry) => entry.node) },
        { functionName: 'submitBatch', args: [env.taskId, cycle, entries] },
      )
      const revert = outcome.revert
      if (outcome.intent.status === 'confirmed' || outcome.intent.status === 'skipped') {
        env.logger.info({ cycle, entries: entries.length, txHash: outcome.intent.txHash }, 'batch of submissions posted')
        return
      }
      if (revert && (isContractError(revert, 'InvalidBatchSignature') || isContractError(revert, 'BatchEntryRejected'))) {
        const index = Number(revert.args[0])
        env.logger.warn({ cycle, node: entries[index]?.node, error: revert.errorName }, 'batch entry rejected by the contract; posting the others')
        entries = entries.filter((_, i) => i !== index)
        continue
      }
      env.logger.warn({ cycle, status: outcome.intent.status, err: outcome.intent.error }, 'batch not posted; its nodes fall back to direct submission')
      return
    }
  }
}

/**
 * The submitting node's side: sign, hand to the batcher, wait for the bit on-chain until the
 * fallback time. Returns true once the submission is on-chain through the batch, false if the
 * node must submit directly (batcher unreachable, refused, or too slow).
 */
export async function submitThroughBatcher(env: TaskEnv, cycle: bigint, root: Hex, batcher: Address): Promise<boolean> {
  const { chain, address, logger } = env.node
  if (await hasSubmittedInCycle(env.node, env.taskId, cycle, address)) return true
  const window = submissionWindow(env, cycle)
  const { postAt, fallbackAt } = batchTimes(window)
  if ((await chain.now()) >= postAt) return false
  const signed = await chain.coop.signSubmission({ taskId: env.taskId, cycle, root, chainId: chain.chainId })
  try {
    await requestNode(env, batcher, BATCH_PROTOCOL, { taskId: env.id, cycle: Number(cycle), root, r: signed.r, vs: signed.vs })
  } catch (error) {
    logger.warn({ cycle, batcher, err: errorMessage(error) }, 'batcher did not take the submission; submitting directly')
    return false
  }
  while ((await chain.now()) < fallbackAt && !env.node.signal.aborted) {
    if (await hasSubmittedInCycle(env.node, env.taskId, cycle, address)) return true
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  if (await hasSubmittedInCycle(env.node, env.taskId, cycle, address)) return true
  logger.warn({ cycle, batcher }, 'batcher did not confirm in time; submitting directly')
  return false
}

/**
 * Audit duty over a cycle with batches (TaskLens cannot see entries not yet materialized): whether
 * `submitter` is sampled and who audits it, by the protocol's twins (@coop/protocol audit
 * sampling) over the selection order — direct submitters, then batched entries.
 */
export async function auditDutyOf(
  env: TaskEnv,
  cycle: bigint,
  seed: Hex,
  submitters: readonly CycleSubmitter[],
  submitter: Address,
): Promise<{ sampled: boolean; auditors: Address[]; root: Hex; batch: CycleSubmitter['batch'] }> {
  const at = submitters.findIndex((s) => same(s.node, submitter))
  if (at < 0) return { sampled: false, auditors: [], root: ZERO32, batch: undefined }
  const entry = submitters[at]!
  const recorded = entry.batch ? undefined : await env.node.chain.coop.getSubmission({ taskId: env.taskId, cycle, node: submitter })
  const score = entry.batch ? entry.batch.entry.score : BigInt(recorded!.scoreAtSubmission)
  const root = entry.batch ? entry.batch.entry.root : recorded!.root
  const p = env.params
  const probability = auditProbabilityBps(score, BigInt(p.duesRounds), BigInt(p.auditFloorBps), BigInt(p.auditDecay))
  const sampled = isSampled(seed, env.taskId, cycle, submitter, probability)
  const indices = auditorIndices(seed, env.taskId, cycle, entry.index, BigInt(p.auditorsPerSample), BigInt(submitters.length))
  return { sampled, auditors: indices.map((i) => submitters[Number(i)]!.node), root, batch: entry.batch }
}

/** Materializes `node`'s batched entry (intent 'materialize'; idempotent on-chain) so it can be audited. */
export async function materializeFor(env: TaskEnv, cycle: bigint, node: Address, batch: NonNullable<CycleSubmitter['batch']>, proof: Hex[]): Promise<boolean> {
  const outcome = await env.node.sender.execute(
    { kind: 'materialize', taskId: env.id, cycle: Number(cycle), key: node.toLowerCase() },
    { node, batchIndex: batch.batchIndex.toString() },
    { functionName: 'materializeSubmission', args: [env.taskId, cycle, batch.batchIndex, batch.entry, proof] },
    { checkFirst: true },
  )
  return outcome.intent.status === 'confirmed' || outcome.intent.status === 'skipped'
}
