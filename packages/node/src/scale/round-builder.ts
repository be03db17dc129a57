// The submitter's side of a SCALE task (docs/scale.md): the submission of cycle c is the root of
// this node's round DAG for c. Leaves: for an ingest task, the device payloads it accepted for
// round c in arrival order (sealed first, so none joins afterwards), passed through the task's
// optional `scale.ingest.leaves`; otherwise the array `submission()` returns. Built once: after a
// crash the stored round (same root) is reused, never rebuilt differently.
import { buildRoundDag } from '@coop/protocol'
import { encodeValue } from '@coop/sdk'
import { CID } from 'multiformats/cid'

import { roundInfo, type TaskEnv } from '../roles/env.ts'
import type { RoundRecord } from './round-store.ts'

/**
 * Builds (or returns the already built) round DAG of `cycle`; null when the round has no leaves
 * (nothing to submit: an ingest round no device posted to).
 */
export async function buildScaleRound(env: TaskEnv, cycle: bigint): Promise<RoundRecord | null> {
  const scale = env.runtime.scale
  if (!scale) throw new Error(`task ${env.id} has no scale section`)
  const { rounds, ingest } = env.node
  const c = Number(cycle)
  const existing = rounds.getRound(env.id, c)
  if (existing?.status === 'built' || existing?.status === 'pruned') return existing
  const round = roundInfo(env, cycle + 1n, cycle)
  let leaves: unknown
  let payloadCount = 0
  if (scale.ingest) {
    const { payloads } = ingest.seal(env.id, c)
    payloadCount = payloads.length
    leaves = scale.ingest.leaves && payloads.length > 0 ? await env.runtime.call('ingestLeaves', payloads, round) : payloads
  } else {
    leaves = await env.runtime.call('submission', round)
    if (!Array.isArray(leaves)) throw new Error('a SCALE task\'s submission() must return the array of leaves of its round DAG')
  }
  if (!Array.isArray(leaves) || leaves.length === 0) return null
  return rounds.putRound({ taskId: env.id, cycle: c, dag: buildRoundDag(leaves), payloadCount })
}

/**
 * What `submission/1.0.0` serves for a SCALE round (the leaves are fetched one by one over
 * `/coop/scale/leaf/1`): `{ scale: 1, root: CID, leafCount, payloadCount }`, dag-cbor.
 */
export function scaleSubmissionValue(record: RoundRecord): Uint8Array {
  if (!record.root) throw new Error('the round is not built')
  return encodeValue({ scale: 1, root: CID.parse(record.root), leafCount: record.leafCount, payloadCount: record.payloadCount })
}
