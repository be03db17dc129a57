// Worker (cycle r: the program's work) and submitter (cycle r−1: the program's submission, its
// dag-cbor root on-chain; the value is stored first so it can be served to auditors).
import { encodeValue, submissionRoot } from '@coop/sdk'

import { buildScaleRound, scaleSubmissionValue } from '../scale/round-builder.ts'
import { submitThroughBatcher } from '../scale/batcher.ts'
import { callProgram, confirmed, roundInfo, same, type TaskEnv } from './env.ts'

export async function work(env: TaskEnv, cycle: bigint): Promise<void> {
  const { store, metrics } = env.node
  if (store.hasStep(env.id, Number(cycle), 'work')) return
  try {
    await callProgram(env, 'work', roundInfo(env, cycle, cycle))
  } catch (error) {
    metrics.work.inc({ task: env.id, result: 'error' })
    throw error
  }
  store.markStep(env.id, Number(cycle), 'work')
  metrics.work.inc({ task: env.id, result: 'ok' })
  metrics.rounds.inc({ task: env.id })
  env.logger.info({ cycle }, 'work done')
}

export async function submit(env: TaskEnv, cycle: bigint): Promise<void> {
  const { store, content, sender, metrics } = env.node
  const c = Number(cycle)
  // The value is computed once and kept: after a crash the same root is re-sent, never a new one.
  let stored = store.getSubmission(env.id, c)
  if (!stored && env.runtime.scale) {
    // SCALE task: the root of this node's round DAG (docs/scale.md); an empty round is not submitted.
    const record = await buildScaleRound(env, cycle)
    if (!record?.root || !record.digest) return
    store.putSubmission({ taskId: env.id, cycle: c, value: scaleSubmissionValue(record), cid: record.root, root: record.digest })
    stored = store.getSubmission(env.id, c)!
  }
  if (!stored) {
    const value = await callProgram(env, 'submission', roundInfo(env, cycle + 1n, cycle))
    const bytes = encodeValue(value)
    const { cid, digest } = submissionRoot(value)
    await content.putBlock(cid, bytes)
    store.putSubmission({ taskId: env.id, cycle: c, value: bytes, cid, root: digest })
    stored = store.getSubmission(env.id, c)!
  }
  const root = stored.root as `0x${string}`
  // Through a batcher (config submission.via = 'batcher'): once the batch holds it, the 'submit'
  // intent below finds it on-chain (checkFirst) and is settled without a transaction; otherwise
  // the node submits directly.
  const via = env.node.config.submission
  const batched = via?.via === 'batcher' && !same(via.batcher, env.node.address) ? await submitThroughBatcher(env, cycle, root, via.batcher) : false
  const outcome = await sender.execute(
    { kind: 'submit', taskId: env.id, cycle: c },
    { root, cid: stored.cid, ...(batched ? { via: 'batcher' } : {}) },
    { functionName: 'submit', args: [env.taskId, cycle, root] },
    { checkFirst: batched },
  )
  if (batched) {
    if (outcome.intent.status === 'skipped') {
      metrics.submissions.inc({ task: env.id })
      env.logger.info({ cycle, root, batcher: via?.via === 'batcher' ? via.batcher : undefined }, 'submitted in a batch')
    }
    return
  }
  if (confirmed(outcome)) {
    metrics.submissions.inc({ task: env.id })
    env.logger.info({ cycle, root, txHash: outcome.intent.txHash }, 'submitted')
  }
}
