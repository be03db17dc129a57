// Voter (every open audit where this node is a staked non-accused voter): checks for itself —
// fetch + audit for a submission, recomputation for a distribution list — and votes once;
// resolver (anyone, after the deadline; the accuser first, the others a moment later);
// and collector of won vote rewards.
import { DistributionStatus } from '@coop/chain'

import { checkSubmission, computeList } from './checks.ts'
import { confirmed, putEvidence, same, sleep, type TaskEnv } from './env.ts'
import { isScaleTask, leafVote, type LeafVote } from './fisherman.ts'

export async function vote(env: TaskEnv, auditId: bigint, deadline: bigint): Promise<void> {
  const { chain, store, sender, metrics, address } = env.node
  const audit = store.getAudit(auditId.toString())
  if (!audit || audit.resolved || same(audit.accused, address) || same(audit.accuser, address)) return
  const cycle = BigInt(audit.cycle)
  let side: 'uphold' | 'reject'
  let reason: string | null = null
  if (audit.kind === 'submission' && isScaleTask(env)) {
    // SCALE: re-check the evidence (signed leaf answer / unanswered request) ourselves, per audit
    // (a past cycle re-opened after a conviction is judged on its new evidence, not an old verdict).
    const stepKey = auditId.toString()
    let decided = store.getStep(env.id, audit.cycle, 'leafVote', stepKey) as LeafVote | undefined
    if (!decided) {
      decided = await leafVote(env, audit, Number(deadline) * 1000 - 2_000)
      if (!decided) {
        env.logger.warn({ auditId, cycle, accused: audit.accused }, 'could not check the accused round in time; abstaining')
        return
      }
      store.markStep(env.id, audit.cycle, 'leafVote', stepKey, decided)
    }
    side = decided.side
    reason = decided.reason
  } else if (audit.kind === 'submission') {
    let verdict = store.getVerdict(env.id, audit.cycle, 'submission', audit.accused)
    if (!verdict) {
      const [submission, state] = await Promise.all([
        chain.coop.getSubmission({ taskId: env.taskId, cycle, node: audit.accused as `0x${string}` }),
        chain.coop.getCycle({ taskId: env.taskId, cycle }),
      ])
      const check = await checkSubmission(env, {
        cycle,
        submitter: audit.accused as `0x${string}`,
        root: submission.root,
        seed: state.seed,
        deadlineMs: Number(deadline) * 1000 - 2_000,
      })
      if (check.ok === 'unknown') {
        // We could not tell in time: abstain rather than guess.
        env.logger.warn({ auditId, cycle, accused: audit.accused, reason: check.reason }, 'could not check the accused submission; abstaining')
        return
      }
      const evidence = check.ok ? null : await putEvidence(env, check.evidence)
      store.putVerdict({
        taskId: env.id,
        cycle: audit.cycle,
        kind: 'submission',
        subject: audit.accused,
        ok: check.ok,
        reason: check.ok ? null : check.reason,
        evidenceCid: evidence?.cid ?? null,
      })
      verdict = store.getVerdict(env.id, audit.cycle, 'submission', audit.accused)!
    }
    side = verdict.ok ? 'reject' : 'uphold'
    reason = verdict.reason
  } else {
    // A challenged list: recompute it; the challenge is right iff the posted root differs.
    const state = await chain.coop.getCycle({ taskId: env.taskId, cycle })
    if (state.status !== DistributionStatus.Posted || !same(state.poster, audit.accused)) side = 'uphold'
    else {
      const list = await computeList(env, cycle, state)
      side = list.distribution.root.toLowerCase() === state.merkleRoot.toLowerCase() ? 'reject' : 'uphold'
      reason = side === 'uphold' ? `recomputed root ${list.distribution.root} differs from the posted ${state.merkleRoot}` : null
    }
  }
  if (Date.now() >= Number(deadline) * 1000) return
  const outcome = await sender.execute(
    { kind: 'vote', taskId: env.id, cycle: audit.cycle, key: auditId.toString() },
    { side, auditId: auditId.toString() },
    { functionName: 'vote', args: [auditId, side === 'uphold' ? 1 : 2] },
  )
  if (confirmed(outcome)) {
    metrics.votes.inc({ task: env.id, side })
    env.logger.info({ auditId, cycle, accused: audit.accused, side, reason }, 'voted')
  }
}

export async function resolve(env: TaskEnv, auditId: bigint): Promise<void> {
  const { store, sender, metrics, address } = env.node
  const audit = store.getAudit(auditId.toString())
  if (!audit || audit.resolved) return
  // The accuser resolves first; everyone else steps in if it does not.
  if (!same(audit.accuser, address)) await sleep(1_500 + (Number(BigInt(address) % 1000n)), env.node.signal)
  const outcome = await sender.execute(
    { kind: 'resolve', taskId: env.id, cycle: audit.cycle, key: auditId.toString() },
    { auditId: auditId.toString() },
    { functionName: 'resolveAudit', args: [auditId] },
    { checkFirst: true },
  )
  if (confirmed(outcome)) {
    metrics.resolutions.inc({ task: env.id })
    env.logger.info({ auditId, cycle: audit.cycle }, 'audit resolved')
  }
}

export async function claimVoteReward(env: TaskEnv, auditId: bigint): Promise<void> {
  const { store, sender, metrics } = env.node
  const audit = store.getAudit(auditId.toString())
  if (!audit) return
  const outcome = await sender.execute(
    { kind: 'claimVoteReward', taskId: env.id, cycle: audit.cycle, key: auditId.toString() },
    { auditId: auditId.toString() },
    { functionName: 'claimVoteReward', args: [auditId] },
  )
  if (confirmed(outcome)) {
    metrics.voteRewards.inc({ task: env.id })
    env.logger.info({ auditId }, 'vote reward claimed')
  }
}
