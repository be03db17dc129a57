// Claimer: for every final (or finalizable) cycle where this node has a leaf — the list held
// locally, fetched from the poster, or recomputed, always checked against the posted root — one
// claimRewards call for all unclaimed cycles at once.
import { DistributionStatus } from '@coop/chain'
import { proofOf } from '@coop/protocol'

import { isClaimed } from '../chain/effects.ts'
import { NodeError } from '../errors.ts'
import { obtainList } from './checks.ts'
import { confirmed, same, type TaskEnv } from './env.ts'

export async function claim(env: TaskEnv, cycles: readonly bigint[]): Promise<void> {
  const { chain, store, sender, metrics, address } = env.node
  const requests: { cycle: bigint; reward: bigint; bonus: bigint; proof: `0x${string}`[] }[] = []
  const missing: bigint[] = []
  for (const cycle of cycles) {
    const c = Number(cycle)
    const state = await chain.coop.getCycle({ taskId: env.taskId, cycle })
    if (state.status !== DistributionStatus.Final && state.status !== DistributionStatus.Posted) continue
    if (await isClaimed(chain, env.taskId, cycle, address)) {
      store.markStep(env.id, c, 'claimed')
      continue
    }
    const list = await obtainList(env, cycle, state)
    if (!list) {
      missing.push(cycle)
      continue
    }
    const leaf = list.distribution.leaves.find((entry) => same(entry.node, address))
    if (!leaf) {
      store.markStep(env.id, c, 'noLeaf')
      continue
    }
    if (leaf.reward === 0n && leaf.bonus === 0n) {
      store.markStep(env.id, c, 'noLeaf')
      continue
    }
    requests.push({ cycle, reward: leaf.reward, bonus: leaf.bonus, proof: proofOf(list.distribution, address)! })
  }
  if (requests.length === 0) {
    // Back off (the runner retries with growing delays) rather than recompute every tick.
    if (missing.length > 0) throw new NodeError('LIST_UNAVAILABLE', `no list matching the posted root of cycle(s) ${missing.join(', ')} yet`)
    return
  }
  const claimed = requests.map((request) => request.cycle)
  const outcome = await sender.execute(
    { kind: 'claim', taskId: env.id, cycle: Number(claimed[claimed.length - 1]), key: claimed.join(',') },
    {
      cycles: claimed.map(String),
      reward: requests.reduce((sum, r) => sum + r.reward, 0n).toString(),
      bonus: requests.reduce((sum, r) => sum + r.bonus, 0n).toString(),
    },
    { functionName: 'claimRewards', args: [env.taskId, address, requests] },
  )
  if (confirmed(outcome)) for (const cycle of claimed) store.markStep(env.id, Number(cycle), 'claimed')
  else if (outcome.intent.status === 'skipped') {
    // AlreadyClaimed for one of them: find out which, the others go in the next batch.
    for (const cycle of claimed) if (await isClaimed(chain, env.taskId, cycle, address)) store.markStep(env.id, Number(cycle), 'claimed')
  }
  if (confirmed(outcome)) {
    metrics.claims.inc({ task: env.id }, claimed.length)
    env.logger.info({ cycles: claimed, txHash: outcome.intent.txHash }, 'rewards claimed')
  }
}
