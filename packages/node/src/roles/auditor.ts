// Auditor (cycle r−1 once submissions close): records the seed if nobody has, then, for every
// sampled submission this node is assigned to (TaskLens.isSampled / auditorsOf, i.e. the protocol's
// draw), fetches it over p2p, checks its root and runs the program's audit. A failure is stored
// as evidence (content store) and raised on-chain with the evidence CID's digest, once per
// (cycle, submitter): the first assigned auditor raises, the others vote on it.
import { materializeProofOf } from '@coop/chain'

import { errorMessage } from '../errors.ts'
import { auditDutyOf, materializeFor } from '../scale/batcher.ts'
import { digestOfCid } from '../runtime/program.ts'
import { checkSubmission } from './checks.ts'
import { checkRoundLeaves, isScaleTask } from './fisherman.ts'
import { confirmed, isZero, putEvidence, same, sleep, type TaskEnv } from './env.ts'

export async function recordSeed(env: TaskEnv, cycle: bigint): Promise<void> {
  const c = await env.node.chain.coop.getCycle({ taskId: env.taskId, cycle })
  if (!isZero(c.seed)) return
  // The first submitter records it at once, the others only if it has not after a moment.
  const position = c.submitters.findIndex((node) => same(node, env.node.address))
  if (position > 0) {
    await sleep(Math.min(position, 4) * 600, env.node.signal)
    if (!isZero((await env.node.chain.coop.getCycle({ taskId: env.taskId, cycle })).seed)) return
  }
  // Another node may record it meanwhile: checkFirst + "seed set" counts as done.
  await env.node.sender.execute({ kind: 'recordSeed', taskId: env.id, cycle: Number(cycle) }, {}, { functionName: 'recordSeed', args: [env.taskId, cycle] }, { checkFirst: true })
}

/** Stagger between the assigned auditors of one submission (ms per position). */
const RAISE_STAGGER_MS = 1_200

export async function audit(env: TaskEnv, cycle: bigint, closesAt: bigint): Promise<void> {
  const { chain, store, metrics, address } = env.node
  const coop = chain.coop
  const c = Number(cycle)
  const state = await coop.getCycle({ taskId: env.taskId, cycle })
  if (isZero(state.seed)) return
  const deadlineMs = Number(closesAt) * 1000
  // A cycle with batched submissions: the selection order includes entries TaskLens cannot see
  // until materialized, so sampling and assignment use the protocol's twins (scale/batcher.ts).
  const merged = state.batchCount === 0 ? undefined : await coop.getCycleSubmitters({ taskId: env.taskId, cycle })
  const results = await Promise.allSettled(
    (merged ? merged.submitters.map((s) => s.node) : state.submitters)
      .filter((submitter) => !same(submitter, address))
      .map(async (submitter) => {
        const known = store.getVerdict(env.id, c, 'submission', submitter)
        if (known?.ok) return
        if (!known) {
          let root: `0x${string}`
          if (merged) {
            const duty = await auditDutyOf(env, cycle, state.seed, merged.submitters, submitter)
            if (!duty.sampled || !duty.auditors.some((auditor) => same(auditor, address))) return
            root = duty.root
          } else {
            if (!(await coop.isSampled({ taskId: env.taskId, cycle, node: submitter }))) return
            const auditors = await coop.auditorsOf({ taskId: env.taskId, cycle, node: submitter })
            if (!auditors.some((auditor) => same(auditor, address))) return
            root = (await coop.getSubmission({ taskId: env.taskId, cycle, node: submitter })).root
          }
          // Leave time to raise before the window closes.
          // SCALE tasks: fisherman leaf sampling of the round DAG; others: fetch + program audit.
          const check = await (isScaleTask(env) ? checkRoundLeaves : checkSubmission)(env, { cycle, submitter, root, seed: state.seed, deadlineMs: deadlineMs - 1_500 })
          metrics.auditsChecked.inc({ task: env.id, result: check.ok === true ? 'pass' : check.ok === false ? 'fail' : 'unknown' })
          if (check.ok === 'unknown') {
            env.logger.warn({ cycle, submitter, reason: check.reason }, 'audit inconclusive; not accusing')
            return
          }
          if (check.ok) {
            store.putVerdict({ taskId: env.id, cycle: c, kind: 'submission', subject: submitter, ok: true, reason: null, evidenceCid: null })
            env.logger.info({ cycle, submitter }, 'audit passed')
            return
          }
          const evidence = await putEvidence(env, check.evidence)
          store.putVerdict({ taskId: env.id, cycle: c, kind: 'submission', subject: submitter, ok: false, reason: check.reason, evidenceCid: evidence.cid })
          env.logger.warn({ cycle, submitter, reason: check.reason, evidence: evidence.cid }, 'audit failed')
        }
        // A batched submission is audited on its Submission record: materialize it first.
        const proof = merged ? materializeProofOf(merged.batches, submitter) : undefined
        if (proof && !(await materializeFor(env, cycle, submitter, { batchIndex: proof.batchIndex, entry: proof.entry }, proof.proof))) return
        await raise(env, cycle, submitter, deadlineMs)
      }),
  )
  for (const result of results) {
    if (result.status === 'rejected') {
      // Our own failure (RPC, sandbox): try again on the next tick while the window is open.
      throw result.reason
    }
  }
  store.markStep(env.id, c, 'audit')
}

async function raise(env: TaskEnv, cycle: bigint, accused: `0x${string}`, deadlineMs: number): Promise<void> {
  const { chain, store, sender, metrics, address } = env.node
  const c = Number(cycle)
  const verdict = store.getVerdict(env.id, c, 'submission', accused)
  if (!verdict || verdict.ok || !verdict.evidenceCid) return
  const auditors = await chain.coop.auditorsOf({ taskId: env.taskId, cycle, node: accused })
  const position = Math.max(0, auditors.findIndex((auditor) => same(auditor, address)))
  await sleep(position * RAISE_STAGGER_MS, env.node.signal)
  // Someone already raised it (or it is convicted): we vote instead.
  const submission = await chain.coop.getSubmission({ taskId: env.taskId, cycle, node: accused })
  if (submission.convicted || submission.openAudits > 0) return
  if (store.listAudits({ taskId: env.id, cycle: c }).some((a) => a.kind === 'submission' && same(a.accused, accused))) return
  if (Date.now() >= deadlineMs) return
  const evidenceCid = digestOfCid(verdict.evidenceCid)
  try {
    const outcome = await sender.execute(
      { kind: 'raiseAudit', taskId: env.id, cycle: c, key: accused.toLowerCase() },
      { accused, evidenceCid, evidence: verdict.evidenceCid },
      { functionName: 'raiseAudit', args: [env.taskId, cycle, accused, evidenceCid] },
    )
    if (confirmed(outcome)) {
      metrics.auditsRaised.inc({ task: env.id })
      env.logger.warn({ cycle, accused, evidence: verdict.evidenceCid, txHash: outcome.intent.txHash }, 'audit raised')
    }
  } catch (error) {
    env.logger.warn({ cycle, accused, err: errorMessage(error) }, 'raising the audit failed')
  }
}
