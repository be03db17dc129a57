// Distributor (cycle ≤ r−2, once its audits are resolved, when the protocol's draw for the current
// attempt picks this node): runs the program's distribution over the submitters (passed = not
// convicted), builds the Merkle list (@coop/protocol buildDistribution), stores and serves it
// (list/1.0.0) and posts root + list CID digest + totals.
// Distribution auditor (everyone else while the list can be challenged): fetches the list from the
// poster, recomputes it, and challenges when the posted root differs. Finalizer and failer.
import { DistributionStatus, type Cycle } from '@coop/chain'

import type { Hex } from 'viem'

import { errorMessage } from '../errors.ts'
import { buildHeadForPost, storedHead } from '../scale/heads.ts'
import type { Intent } from '../state/store.ts'
import { computeList, verifyListDocument } from './checks.ts'
import { PROTOCOLS } from '../p2p/protocols.ts'
import { confirmed, emit, putEvidence, requestNode, same, sleep, ZERO32, type TaskEnv } from './env.ts'

export type DistributeOptions = {
  /**
   * Digest of the cycle's SCALE head (docs/scale.md) to anchor with the list. By default a task
   * with a `scale` section anchors the head this node builds (../scale/heads.ts); a task without
   * one anchors zero.
   */
  scaleHead?: Hex
}

/** The head digest to anchor: the given one, zero for a task without SCALE rounds, else the cycle's head (built once per prepared attempt). */
async function scaleHeadToAnchor(
  env: TaskEnv,
  cycle: bigint,
  state: Cycle,
  list: { merkleRoot: Hex; listCid: Hex },
  prepared: Intent | undefined,
  options: DistributeOptions,
): Promise<Hex> {
  if (options.scaleHead !== undefined) return options.scaleHead
  if (env.runtime.scale === null) return ZERO32
  const preparedHead = prepared?.payload.scaleHead
  if (typeof preparedHead === 'string' && storedHead(env, cycle, preparedHead as Hex)) return preparedHead as Hex
  return (await buildHeadForPost(env, cycle, state, list)).digest
}

export async function distribute(env: TaskEnv, cycle: bigint, attempt: bigint, options: DistributeOptions = {}): Promise<void> {
  const { chain, store, content, sender, metrics, address } = env.node
  const selected = await chain.coop.selectedDistributor({ taskId: env.taskId, cycle, attempt })
  if (!same(selected.node, address)) return
  const state = await chain.coop.getCycle({ taskId: env.taskId, cycle })
  if (state.status !== DistributionStatus.Pending || state.openAudits !== 0 || state.openChallenges !== 0) return
  const c = Number(cycle)
  const intentRef = { kind: 'post' as const, taskId: env.id, cycle: c, key: attempt.toString() }
  // A list already prepared for this attempt (crash before/after sending) is reused as is.
  const prepared = store.getIntent(intentRef)
  let list = prepared ? store.getList(env.id, c, { listCid: String(prepared.payload.cid) }) : undefined
  let computed = list ? verifyListDocument(env, cycle, list.listJson, { merkleRoot: prepared!.payload.merkleRoot as `0x${string}` }) : undefined
  if (!computed) {
    computed = await computeList(env, cycle, state)
    await content.put(computed.doc)
    store.putList({ taskId: env.id, cycle: c, listCid: computed.cid, merkleRoot: computed.distribution.root, listJson: computed.json, source: 'self' })
  }
  const { distribution } = computed
  const scaleHead = await scaleHeadToAnchor(env, cycle, state, { merkleRoot: distribution.root, listCid: computed.digest }, prepared, options)
  if (selected.batched) {
    // Selected from a batch: the contract checks the draw against the Submission record, which a
    // batched entry has once materialized (idempotent; anyone may call).
    const { batchIndex, entry, proof } = selected.batched
    const materialized = await sender.execute(
      { kind: 'materialize', taskId: env.id, cycle: c, key: address.toLowerCase() },
      { node: address, batchIndex: batchIndex.toString() },
      { functionName: 'materializeSubmission', args: [env.taskId, cycle, batchIndex, entry, proof] },
      { checkFirst: true },
    )
    if (!confirmed(materialized) && materialized.intent.status !== 'skipped') return
  }
  const outcome = await sender.execute(
    intentRef,
    { cid: computed.cid, merkleRoot: distribution.root, listCid: computed.digest, attempt: attempt.toString(), scaleHead },
    {
      functionName: 'postDistribution',
      args: [env.taskId, cycle, selected.index, distribution.root, computed.digest, distribution.totalReward, distribution.totalBonus, scaleHead],
    },
  )
  if (confirmed(outcome)) {
    metrics.distributions.inc({ task: env.id })
    env.logger.info({ cycle, attempt, root: distribution.root, list: computed.cid, entries: distribution.leaves.length }, 'distribution posted')
  }
}

export async function checkDistribution(env: TaskEnv, cycle: bigint): Promise<void> {
  const { chain, store, sender, metrics } = env.node
  const state = await chain.coop.getCycle({ taskId: env.taskId, cycle })
  const c = Number(cycle)
  if (state.status !== DistributionStatus.Posted) return
  const stepKey = `${state.poster.toLowerCase()}:${state.attempt}`
  if (store.hasStep(env.id, c, 'distCheck', stepKey)) return
  let theirs: ReturnType<typeof verifyListDocument> | undefined
  let fetchError: string | undefined
  try {
    const message = await requestNode(env, state.poster, PROTOCOLS.list, { taskId: env.id, cycle: c })
    const json = (message.body as { list?: unknown } | null)?.list
    if (typeof json !== 'string') throw new Error('the answer has no list')
    theirs = verifyListDocument(env, cycle, json, { merkleRoot: state.merkleRoot, listCid: state.listCid })
    store.putList({ taskId: env.id, cycle: c, listCid: theirs.cid, merkleRoot: theirs.distribution.root, listJson: theirs.json, source: state.poster })
  } catch (error) {
    fetchError = errorMessage(error)
    env.logger.info({ cycle, poster: state.poster, err: fetchError }, 'could not fetch the posted list; recomputing')
  }
  const ours = await computeList(env, cycle, state)
  const matches = ours.distribution.root.toLowerCase() === state.merkleRoot.toLowerCase()
  store.putVerdict({
    taskId: env.id,
    cycle: c,
    kind: 'distribution',
    subject: stepKey,
    ok: matches,
    reason: matches ? null : `recomputed root ${ours.distribution.root} ≠ posted ${state.merkleRoot}`,
    evidenceCid: null,
  })
  if (matches) {
    if (!theirs) store.putList({ taskId: env.id, cycle: c, listCid: ours.cid, merkleRoot: ours.distribution.root, listJson: ours.json, source: 'recomputed' })
    store.markStep(env.id, c, 'distCheck', stepKey)
    return
  }
  const evidence = await putEvidence(env, {
    type: 'coop/evidence/distribution/1',
    taskId: env.id,
    cycle: c,
    poster: state.poster,
    postedRoot: state.merkleRoot,
    recomputedRoot: ours.distribution.root,
    recomputed: ours.doc,
    posted: theirs?.doc ?? null,
    fetchError: fetchError ?? null,
  })
  const outcome = await sender.execute(
    { kind: 'challenge', taskId: env.id, cycle: c, key: stepKey },
    { evidence: evidence.cid, evidenceCid: evidence.digest, poster: state.poster },
    { functionName: 'challengeDistribution', args: [env.taskId, cycle, evidence.digest] },
  )
  if (confirmed(outcome)) {
    metrics.challenges.inc({ task: env.id })
    env.logger.warn({ cycle, poster: state.poster, evidence: evidence.cid }, 'distribution challenged')
  }
  store.markStep(env.id, c, 'distCheck', stepKey)
}

/** Nodes with a leaf finalize by claiming; the others step in a little later. */
const staggerMs = (env: TaskEnv) => 1_500 + Number(BigInt(env.node.address) % 1_000n)

export async function finalize(env: TaskEnv, cycle: bigint): Promise<void> {
  await sleep(staggerMs(env), env.node.signal)
  const outcome = await env.node.sender.execute(
    { kind: 'finalize', taskId: env.id, cycle: Number(cycle) },
    {},
    { functionName: 'finalizeDistribution', args: [env.taskId, cycle] },
    { checkFirst: true },
  )
  if (confirmed(outcome)) {
    env.node.metrics.finalizations.inc({ task: env.id })
    env.logger.info({ cycle }, 'distribution finalized')
  }
}

export async function failDistribution(env: TaskEnv, cycle: bigint): Promise<void> {
  await sleep(staggerMs(env), env.node.signal)
  const outcome = await env.node.sender.execute(
    { kind: 'fail', taskId: env.id, cycle: Number(cycle) },
    {},
    { functionName: 'failDistribution', args: [env.taskId, cycle] },
    { checkFirst: true },
  )
  if (confirmed(outcome)) emit(env, { type: 'distribution', taskId: env.id, cycle: cycle.toString(), status: 'failed' })
}
