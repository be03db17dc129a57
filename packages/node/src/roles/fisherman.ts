// Fisherman audits of SCALE submissions (DESIGN.md §2, docs/scale.md). The submission of a SCALE
// task is the digest of its round DAG's root. An assigned auditor:
//   1. asks the submitter for leaf 0 over `/coop/scale/leaf/1`; the answer's path ends in the root
//      block, which must hash to the on-chain digest and states the leaf count n;
//   2. draws positions with @coop/protocol `sampleLeafPositions(seed, submitter, n, samples)`;
//   3. asks for each leaf + path, verifies the inclusion against the on-chain root
//      (`checkLeafAnswer`) and runs the task's `scale.leafAudit` in the sandbox.
// A false answer or a failed leafAudit is evidence (the submitter's signed answer); no answer in
// time (≥ MIN_NO_ANSWER_ATTEMPTS tries) is evidence too (our signed request and a signed record
// of the deadline). Voters re-check evidence themselves (`leafVote`), and after a conviction
// (penalty scaling: `reopenedUntil`) the convict's past SCALE submissions inside the re-opened
// horizon are sampled as well (`auditReopened`), each (cycle, conviction) once.
import { DAG_CBOR_CODE, checkLeafAnswer, sampleLeafPositions, type LeafRequest } from '@coop/protocol'
import { isP2pError, signEnvelope, verifyEnvelope, type VerifiedMessage } from '@coop/p2p'
import { decodeValue, encodeValue, type AuditVerdict } from '@coop/sdk'
import { type Address, type Hex, encodeAbiParameters, keccak256, recoverMessageAddress } from 'viem'

import { errorMessage } from '../errors.ts'
import { PROTOCOLS } from '../p2p/protocols.ts'
import { cidFromDigest, digestOfCid } from '../runtime/program.ts'
import { LEAF_PROTOCOL, LEAF_REQUEST_TYPE, LEAF_RESPONSE_TYPE } from '../scale/leaf-protocol.ts'
import type { AuditRow } from '../state/store.ts'
import { MIN_NO_ANSWER_ATTEMPTS, type SubmissionCheck } from './checks.ts'
import { confirmed, encodable, isZero, putEvidence, requestNode, roundInfo, same, sleep, type TaskEnv } from './env.ts'

export const LEAF_EVIDENCE = {
  /** The submitter's signed answer does not verify against the on-chain root. */
  invalid: 'coop/evidence/scale-leaf-invalid/1',
  /** The answer verifies, but the task's leafAudit rejects the leaf. */
  auditFailed: 'coop/evidence/scale-leaf-audit-failed/1',
  /** No valid answer before the deadline: our signed request, the deadline and a signed record. */
  noAnswer: 'coop/evidence/scale-leaf-no-answer/1',
} as const

/** Whether `env`'s task is a SCALE task (its submissions are round DAG roots). */
export const isScaleTask = (env: TaskEnv): boolean => env.runtime.scale !== null && env.runtime.scale !== undefined

type LeafFetch =
  | { answered: true; message: VerifiedMessage; attempts: number }
  | { answered: false; attempts: number; lastError: string; refusal: Uint8Array | null }

/** Asks `submitter` for one leaf until it answers (any signed answer) or `deadlineMs` passes. */
async function fetchLeaf(env: TaskEnv, submitter: Address, request: LeafRequest, deadlineMs: number): Promise<LeafFetch> {
  let attempts = 0
  let lastError = 'no attempt'
  let refusal: Uint8Array | null = null
  while (!env.node.signal.aborted) {
    const left = deadlineMs - Date.now()
    if (left <= 200 && attempts > 0) break
    attempts++
    try {
      const message = await requestNode(env, submitter, LEAF_PROTOCOL, request, Math.max(500, Math.min(3_000, left)))
      return { answered: true, message, attempts }
    } catch (error) {
      lastError = errorMessage(error)
      // A signed refusal (REMOTE_ERROR from the submitter itself) is kept: it shows the submitter was asked.
      if (isP2pError(error) && error.code === 'REMOTE_ERROR' && error.details.signed instanceof Uint8Array && same(String(error.details.from ?? ''), submitter)) {
        refusal = error.details.signed
        lastError = `${String(error.details.remoteCode)}: ${String(error.details.remoteMessage)}`
      }
      env.logger.debug({ submitter, index: request.index, attempt: attempts, err: lastError }, 'leaf fetch failed')
      if (deadlineMs - Date.now() <= 700) break
      await sleep(500, env.node.signal)
    }
  }
  return { answered: false, attempts, lastError, refusal }
}

async function leafAudit(env: TaskEnv, value: unknown, index: number, cycle: bigint, seed: Hex, submitter: Address): Promise<AuditVerdict> {
  try {
    return (await env.runtime.call('leafAudit', value, index, roundInfo(env, cycle + 1n, cycle, seed), submitter)) as AuditVerdict
  } catch (error) {
    env.node.metrics.sandboxErrors.inc({ task: env.id, method: 'leafAudit' })
    throw error
  }
}

export type LeafCheckInput = {
  cycle: bigint
  submitter: Address
  /** The on-chain root (digest of the round DAG's root block). */
  root: Hex
  /** The cycle seed: leafAudit's round info, and the positions unless `positionSeed` is given. */
  seed: Hex
  deadlineMs: number
  /** Seed of the position draw (penalty scaling draws afresh, see reopenedPositionSeed). */
  positionSeed?: Hex
  /** Check exactly these positions (those ≥ the leaf count are skipped) instead of a draw. */
  positions?: readonly number[]
}

/**
 * Samples `submitter`'s round DAG of `cycle` and checks every sampled leaf. Our own failures (the
 * sandbox) throw; the submitter's (false answers, failed leafAudit, silence) are evidence.
 */
export async function checkRoundLeaves(env: TaskEnv, input: LeafCheckInput): Promise<SubmissionCheck> {
  const { cycle, submitter, seed } = input
  const root = input.root.toLowerCase() as Hex
  const samples = env.runtime.scale?.samples ?? 16
  const base = { taskId: env.id, cycle: Number(cycle), accused: submitter, auditor: env.node.address, onchainRoot: root }
  const requestOf = (index: number): LeafRequest => ({ task: env.id, cycle: Number(cycle), root, index })

  /** One position: fetch, verify, audit; undefined = it passed. */
  const checkOne = async (index: number, fetched?: LeafFetch): Promise<SubmissionCheck | { ok: true; leafCount: number }> => {
    const request = requestOf(index)
    const result = fetched ?? (await fetchLeaf(env, submitter, request, input.deadlineMs))
    if (!result.answered) {
      if (result.attempts < MIN_NO_ANSWER_ATTEMPTS) return { ok: 'unknown', reason: `only ${result.attempts} attempt(s) for leaf ${index} before the deadline (${result.lastError})` }
      const signedRequest = await signEnvelope(env.node.chain.account, { type: LEAF_REQUEST_TYPE, body: request })
      const record = {
        type: LEAF_EVIDENCE.noAnswer,
        ...base,
        index,
        request: signedRequest,
        deadline: input.deadlineMs,
        attempts: result.attempts,
        lastError: result.lastError,
        refusal: result.refusal,
        at: Date.now(),
      }
      const signature = await env.node.chain.account.signMessage({ message: { raw: encodeValue(record) } })
      return { ok: false, reason: `no valid answer for leaf ${index} (${result.lastError})`, evidence: { ...record, signature } }
    }
    const check = checkLeafAnswer(result.message.body, request)
    if (!check.ok) {
      return { ok: false, reason: `leaf ${index}: ${check.reason}`, evidence: { type: LEAF_EVIDENCE.invalid, ...base, index, reason: check.reason, response: result.message.signed } }
    }
    const verdict = await leafAudit(env, check.value, index, cycle, seed, submitter)
    if (!verdict.ok) {
      return {
        ok: false,
        reason: `leaf ${index}: ${verdict.reason}`,
        evidence: { type: LEAF_EVIDENCE.auditFailed, ...base, index, reason: verdict.reason, detail: encodable(verdict.evidence), response: result.message.signed },
      }
    }
    return { ok: true, leafCount: check.leafCount }
  }

  // Leaf 0 first: its path ends in the root block, which fixes the leaf count n.
  const first = await fetchLeaf(env, submitter, requestOf(0), input.deadlineMs)
  let leafCount: number
  if (first.answered) {
    const check = checkLeafAnswer(first.message.body, requestOf(0))
    if (!check.ok) return { ok: false, reason: `leaf 0: ${check.reason}`, evidence: { type: LEAF_EVIDENCE.invalid, ...base, index: 0, reason: check.reason, response: first.message.signed } }
    leafCount = check.leafCount
  } else {
    const outcome = await checkOne(0, first)
    return outcome as SubmissionCheck
  }
  const positions = input.positions
    ? input.positions.filter((index) => Number.isSafeInteger(index) && index >= 0 && index < leafCount)
    : sampleLeafPositions((input.positionSeed ?? seed) as Hex, submitter, leafCount, samples)
  for (const index of positions) {
    const outcome = await checkOne(index, index === 0 ? first : undefined)
    if (outcome.ok !== true) return outcome as SubmissionCheck
  }
  env.logger.debug({ cycle, submitter, leafCount, positions: positions.length }, 'round leaves checked')
  return { ok: true }
}

/**
 * Penalty scaling draws fresh positions for a past cycle: keccak256(seed, reopenedUntil), so a
 * re-audit after a conviction does not just repeat the cycle's original sample.
 */
export function reopenedPositionSeed(seed: Hex, reopenedUntil: bigint): Hex {
  return keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint64' }], [seed, reopenedUntil]))
}

// ─── voters ───

export type LeafVote = { side: 'uphold' | 'reject'; reason: string | null }

/** The evidence of an audit: from our content store, else from the accuser (block/1.0.0, hash-checked). */
async function loadEvidence(env: TaskEnv, audit: AuditRow): Promise<Record<string, unknown> | undefined> {
  if (isZero(audit.evidenceCid)) return undefined
  // Evidence is stored as a dag-cbor block (putEvidence).
  const cid = cidFromDigest(audit.evidenceCid as Hex, DAG_CBOR_CODE)
  try {
    let bytes = await env.node.content.getBlock(cid)
    if (!bytes) {
      const message = await requestNode(env, audit.accuser as Address, PROTOCOLS.block, { cid })
      const served = (message.body as { bytes?: unknown } | null)?.bytes
      if (!(served instanceof Uint8Array)) throw new Error('the answer has no bytes')
      await env.node.content.putBlock(cid, served) // HASH_MISMATCH unless the bytes are the evidence
      bytes = served
    }
    const value = decodeValue(bytes)
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch (error) {
    env.logger.debug({ auditId: audit.auditId, err: errorMessage(error) }, 'audit evidence unavailable')
    return undefined
  }
}

/** The accused's signed leaf answer in `evidence`, if it is one for this very (task, cycle, root). */
async function signedAnswerOf(env: TaskEnv, evidence: Record<string, unknown>, accused: Address, cycle: number, root: Hex): Promise<{ body: unknown; index: number } | undefined> {
  if (!(evidence.response instanceof Uint8Array)) return undefined
  try {
    const message = await verifyEnvelope(evidence.response, { maxClockSkewMs: Number.POSITIVE_INFINITY, type: LEAF_RESPONSE_TYPE })
    if (!same(message.from, accused)) return undefined
    const body = message.body as Record<string, unknown> | null
    // An answer about another task, cycle or root proves nothing about this submission.
    if (!body || body.task !== env.id || body.cycle !== cycle || body.root !== root.toLowerCase()) return undefined
    if (typeof body.index !== 'number' || !Number.isSafeInteger(body.index) || body.index < 0) return undefined
    return { body, index: body.index }
  } catch {
    return undefined
  }
}

/**
 * How to vote on a submission audit of a SCALE task, checked for ourselves: the accused's signed
 * answer in the evidence is re-verified (and its leaf re-audited); for "no answer" evidence we ask
 * the accused for that leaf ourselves (it answering correctly now means reject); evidence we cannot
 * use (missing, malformed, about something else) → our own fisherman check of the submission.
 * undefined = we could not tell in time (abstain).
 */
export async function leafVote(env: TaskEnv, audit: AuditRow, deadlineMs: number): Promise<LeafVote | undefined> {
  const cycle = BigInt(audit.cycle)
  const accused = audit.accused as Address
  const [submission, state] = await Promise.all([
    env.node.chain.coop.getSubmission({ taskId: env.taskId, cycle, node: accused }),
    env.node.chain.coop.getCycle({ taskId: env.taskId, cycle }),
  ])
  const evidence = await loadEvidence(env, audit)
  return judgeLeafEvidence(env, evidence, { cycle, accused, root: submission.root, seed: state.seed, deadlineMs })
}

/**
 * The voter's judgement of SCALE audit evidence against the chain's facts (the accused's on-chain
 * root and the cycle seed): see leafVote. Evidence only counts when it is the accused's own signed
 * answer about this very task, cycle and root; anything else makes us check for ourselves.
 */
export async function judgeLeafEvidence(
  env: TaskEnv,
  evidence: Record<string, unknown> | undefined,
  facts: { cycle: bigint; accused: Address; root: Hex; seed: Hex; deadlineMs: number },
): Promise<LeafVote | undefined> {
  const { cycle, accused, seed, deadlineMs } = facts
  const root = facts.root.toLowerCase() as Hex
  const answer = evidence ? await signedAnswerOf(env, evidence, accused, Number(cycle), root) : undefined
  if (answer) {
    const request: LeafRequest = { task: env.id, cycle: Number(cycle), root, index: answer.index }
    const check = checkLeafAnswer(answer.body, request)
    if (!check.ok) return { side: 'uphold', reason: `the accused's signed answer for leaf ${answer.index} is false: ${check.reason}` }
    const verdict = await leafAudit(env, check.value, answer.index, cycle, seed, accused)
    if (!verdict.ok) return { side: 'uphold', reason: `leaf ${answer.index} fails the task's leafAudit: ${verdict.reason}` }
    return { side: 'reject', reason: `the accused's signed leaf ${answer.index} verifies and passes leafAudit` }
  }
  const claimedIndex = evidence?.type === LEAF_EVIDENCE.noAnswer && typeof evidence.index === 'number' && Number.isSafeInteger(evidence.index) ? evidence.index : undefined
  const check = await checkRoundLeaves(env, { cycle, submitter: accused, root, seed, deadlineMs, ...(claimedIndex !== undefined ? { positions: [claimedIndex] } : {}) })
  if (check.ok === 'unknown') return undefined
  if (check.ok) return { side: 'reject', reason: claimedIndex !== undefined ? `the accused answers leaf ${claimedIndex} correctly` : 'our own sample of the round passes' }
  // Keep our own evidence too (a later voter or a post-mortem may want it).
  const own = await putEvidence(env, check.evidence)
  return { side: 'uphold', reason: `${check.reason} (our evidence ${own.cid})` }
}

// ─── penalty scaling ───

/** How often the task runner looks at the re-opened horizon (each look reads the chain). */
export const REOPENED_POLL_MS = 2_000

/**
 * One pass, run by the task runner for a SCALE task (one at a time, at most every REOPENED_POLL_MS):
 * looks at the nodes convicted recently (upheld submission audits in the state), and for each whose
 * past rounds are re-opened on-chain (`reopenedUntil` > now) audits its submissions of the cycles
 * still inside the horizon (`cycle + unbondingRounds ≥ current round`) that this node is an
 * assigned auditor of — once per (cycle, conviction), persisted.
 */
export async function auditReopened(env: TaskEnv, round: bigint, now: bigint): Promise<void> {
  const { store, chain, address } = env.node
  const horizon = BigInt(env.params.unbondingRounds)
  const oldest = round > horizon + 1n ? round - horizon - 1n : 0n
  const convicts = new Set<string>()
  for (const audit of store.listAudits({ taskId: env.id, resolved: true })) {
    if (audit.kind === 'submission' && audit.upheld && BigInt(audit.cycle) >= oldest && !same(audit.accused, address)) convicts.add(audit.accused.toLowerCase())
  }
  for (const convict of convicts) {
    const accused = convict as Address
    const node = await chain.coop.getNode({ taskId: env.taskId, node: accused })
    if (node.reopenedUntil <= now) continue
    const firstCycle = round > horizon ? round - horizon : 0n
    for (let cycle = firstCycle; cycle < round; cycle++) {
      const key = `${convict}:${node.reopenedUntil}`
      if (store.hasStep(env.id, Number(cycle), 'reopenedAudit', key)) continue
      await auditReopenedCycle(env, cycle, accused, node.reopenedUntil, key)
    }
  }
}

async function auditReopenedCycle(env: TaskEnv, cycle: bigint, accused: Address, reopenedUntil: bigint, key: string): Promise<void> {
  const { store, chain, address, sender, metrics } = env.node
  const c = Number(cycle)
  const submission = await chain.coop.getSubmission({ taskId: env.taskId, cycle, node: accused })
  const state = await chain.coop.getCycle({ taskId: env.taskId, cycle })
  // Nothing to audit (no submission, or already convicted); under audit by someone else: look again later.
  if (isZero(submission.root) || submission.convicted) {
    store.markStep(env.id, c, 'reopenedAudit', key, { skipped: isZero(submission.root) ? 'no submission' : 'convicted' })
    return
  }
  if (submission.openAudits > 0 || isZero(state.seed)) return
  const auditors = await chain.coop.auditorsOf({ taskId: env.taskId, cycle, node: accused })
  const position = auditors.findIndex((auditor) => same(auditor, address))
  if (position < 0) {
    store.markStep(env.id, c, 'reopenedAudit', key, { skipped: 'not an auditor' })
    return
  }
  // Raising is allowed while re-opened and while the cycle is inside the horizon.
  const horizonEnds = env.startTime + (cycle + BigInt(env.params.unbondingRounds) + 1n) * env.params.roundLength
  const closesAt = reopenedUntil < horizonEnds ? reopenedUntil : horizonEnds
  const deadlineMs = Number(closesAt) * 1000 - 1_500
  const check = await checkRoundLeaves(env, {
    cycle,
    submitter: accused,
    root: submission.root,
    seed: state.seed,
    positionSeed: reopenedPositionSeed(state.seed, reopenedUntil),
    deadlineMs,
  })
  metrics.auditsChecked.inc({ task: env.id, result: check.ok === true ? 'pass' : check.ok === false ? 'fail' : 'unknown' })
  if (check.ok === 'unknown') return // retried on the next pass while the horizon lasts
  if (check.ok) {
    store.markStep(env.id, c, 'reopenedAudit', key, { ok: true })
    env.logger.info({ cycle, accused, reopenedUntil }, 're-opened round audit passed')
    return
  }
  const evidence = await putEvidence(env, check.evidence)
  env.logger.warn({ cycle, accused, reason: check.reason, evidence: evidence.cid }, 're-opened round audit failed')
  // The first assigned auditor raises; the others a moment later only if nobody did (they vote).
  await sleep(position * 1_200, env.node.signal)
  const fresh = await chain.coop.getSubmission({ taskId: env.taskId, cycle, node: accused })
  if (fresh.convicted || fresh.openAudits > 0 || Date.now() >= deadlineMs) {
    store.markStep(env.id, c, 'reopenedAudit', key, { ok: false, raised: false, evidence: evidence.cid })
    return
  }
  const outcome = await sender.execute(
    { kind: 'raiseAudit', taskId: env.id, cycle: c, key: `${accused.toLowerCase()}:reopened:${reopenedUntil}` },
    { accused, evidenceCid: digestOfCid(evidence.cid), evidence: evidence.cid, reopenedUntil: reopenedUntil.toString() },
    { functionName: 'raiseAudit', args: [env.taskId, cycle, accused, digestOfCid(evidence.cid)] },
  )
  store.markStep(env.id, c, 'reopenedAudit', key, { ok: false, raised: confirmed(outcome), evidence: evidence.cid })
  if (confirmed(outcome)) {
    metrics.auditsRaised.inc({ task: env.id })
    env.logger.warn({ cycle, accused, evidence: evidence.cid, txHash: outcome.intent.txHash }, 'audit raised on a re-opened round')
  }
}

/** Checks the auditor's signature of a no-answer record (exported for tests and tooling). */
export async function noAnswerSigner(evidence: Record<string, unknown>): Promise<Address | undefined> {
  const { signature, ...record } = evidence
  if (typeof signature !== 'string') return undefined
  try {
    return await recoverMessageAddress({ message: { raw: encodeValue(record) }, signature: signature as Hex })
  } catch {
    return undefined
  }
}
