// Example SCALE ingest task (issue 4): wallet-less sensors post signed readings to nodes; each
// node's round DAG is the readings it accepted (leaves = the payloads' bytes, in arrival order);
// fishermen sample leaves and check each reading's signature, fields and plausibility; the bounty
// is split by accepted reading count (the leaf count stated by each submitter's DAG root, checked
// against its on-chain root).
import { type DevicePayload, isScaleError, verifyDevicePayload } from '@coop/protocol'
import {
  type Address,
  type AuditVerdict,
  type DevicePayloadView,
  type Hex,
  type RoundInfo,
  type TaskContext,
  cidFromDigest,
  DAG_CBOR_CODE,
  RAW_CODE,
  configInt,
  decodeValue,
  defineTask,
  encodeValue,
  shouldCheat,
  sha256,
  toHex,
} from '@coop/sdk'

/** A reading: `{ sensor, t, temp, humidity }` (t in unix seconds; °C; % relative humidity). */
export type Reading = { sensor: string; t: number; temp: number; humidity: number }

export const MAX_PAYLOAD_BYTES = 2048
/** Physical bounds of a plausible reading (the records of Earth's surface, and a hygrometer's range). */
export const BOUNDS = { temp: [-90, 60], humidity: [0, 100] } as const
const SENSOR = /^[A-Za-z0-9._:-]{1,64}$/

export type SensorLogConfig = {
  /** Allowed device public keys (lowercase 0x hex); empty = any device. With a list, a node cannot invent devices. */
  devices: string[]
  /** Seconds a reading's timestamp may lie outside its round. Default 120. */
  clockSlack: number
}

export function sensorLogConfig(ctx: Pick<TaskContext, 'config'>): SensorLogConfig {
  const devices = Array.isArray(ctx.config.devices) ? ctx.config.devices.filter((d): d is string => typeof d === 'string').map((d) => d.toLowerCase()) : []
  return { devices, clockSlack: configInt(ctx.config.clockSlack, 120, 0, 86_400) }
}

/** Why a reading is implausible for `cycle`, or undefined when it is fine. */
export function readingProblem(body: unknown, cycle: number, round: Pick<RoundInfo, 'round' | 'startTime' | 'roundLength'>, slack: number): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || body instanceof Uint8Array) return 'body is not a reading map'
  const keys = Object.keys(body).sort().join(',')
  if (keys !== 'humidity,sensor,t,temp') return `body fields must be exactly sensor, t, temp, humidity (got ${keys})`
  const r = body as Record<string, unknown>
  if (typeof r.sensor !== 'string' || !SENSOR.test(r.sensor)) return 'sensor must be 1-64 characters [A-Za-z0-9._:-]'
  if (typeof r.t !== 'number' || !Number.isSafeInteger(r.t)) return 't must be an integer (unix seconds)'
  for (const field of ['temp', 'humidity'] as const) {
    const value = r[field]
    const [lo, hi] = BOUNDS[field]
    if (typeof value !== 'number' || !Number.isFinite(value) || value < lo || value > hi) return `${field} must be a number in [${lo}, ${hi}]`
  }
  // The reading's time must fall in its cycle's round (± slack): [start(cycle) − slack, start(cycle + 1) + slack).
  const cycleStart = round.startTime - (round.round - cycle) * round.roundLength
  if (r.t < cycleStart - slack || r.t >= cycleStart + round.roundLength + slack) return `t ${r.t} is outside round ${cycle} (starts ${cycleStart})`
  return undefined
}

/** The checks a reading must pass at ingest and in an audit: allowed device, plausible body. */
function payloadProblem(payload: Pick<DevicePayload, 'device' | 'body'>, cycle: number, round: RoundInfo, config: SensorLogConfig): string | undefined {
  if (config.devices.length > 0 && !config.devices.includes(payload.device.toLowerCase())) return `device ${payload.device} is not one of the task's devices`
  return readingProblem(payload.body, cycle, round, config.clockSlack)
}

/** A leaf (the payload's raw bytes) at `position` of `submitter`'s round DAG for `round.cycle`. */
export async function auditLeaf(leaf: unknown, position: number, round: RoundInfo, submitter: Address, ctx: TaskContext): Promise<AuditVerdict> {
  if (!(leaf instanceof Uint8Array)) return { ok: false, reason: `leaf ${position} is not a raw payload block` }
  let payload: DevicePayload
  try {
    // Shape, canonical encoding, task, round = the audited cycle, device signature.
    payload = verifyDevicePayload(leaf, { maxBytes: MAX_PAYLOAD_BYTES, expectedTaskId: round.taskId.toString(), round: { current: round.cycle, accept: [0, 0] } }).payload
  } catch (error) {
    const code = isScaleError(error) ? error.code : 'ERROR'
    return { ok: false, reason: `leaf ${position} is not a valid payload of this round (${code}: ${(error as Error).message.split('\n')[0]})`, evidence: { position, code, submitter } }
  }
  const problem = payloadProblem(payload, round.cycle, round, sensorLogConfig(ctx))
  return problem ? { ok: false, reason: `leaf ${position}: ${problem}`, evidence: { position, submitter } } : { ok: true }
}

/**
 * Cheater mode (ctx.behaviour, from cheatFromRound): the node inflates its count with forged
 * copies of the readings it accepted (a changed temperature under the device's old signature)
 * and swaps the first acknowledged payload for a forgery, so the device's inclusion check fails
 * too. Fishermen catch the forged leaves (half of the DAG) by their signatures.
 */
export function forgeLeaves(payloads: Uint8Array[]): Uint8Array[] {
  const forge = (bytes: Uint8Array): Uint8Array => {
    const payload = decodeValue(bytes) as Record<string, unknown>
    const body = payload.body as Record<string, unknown>
    const forged = { ...payload, body: { ...body, temp: typeof body?.temp === 'number' ? Math.min(60, body.temp + 7) : 21 } }
    return encodeValue(forged)
  }
  const forged = payloads.map(forge)
  return [forged[0] as Uint8Array, ...payloads.slice(1), ...forged.slice(1)]
}

/** The leaf count a round DAG root states: its `n` (interior root), or 1 (a single raw leaf). */
export function leafCountOfRoot(rootBlock: Uint8Array, digest: Hex): number | undefined {
  const hash = toHex(sha256(rootBlock)).toLowerCase()
  if (hash !== digest.toLowerCase()) return undefined
  try {
    const node = decodeValue(rootBlock) as { n?: unknown; l?: unknown; r?: unknown } | null
    if (node && typeof node === 'object' && !(node instanceof Uint8Array) && typeof node.n === 'number' && node.l && node.r) return node.n
  } catch {}
  return 1 // a one-leaf DAG's root is the leaf itself
}

const task = defineTask({
  name: 'sensor-log',
  scale: {
    ingest: {
      maxPayloadBytes: MAX_PAYLOAD_BYTES,
      // Curation at ingest: the same checks auditors make, so an honest node never holds a leaf that fails them.
      async accept(payload: DevicePayloadView, round: RoundInfo, ctx: TaskContext): Promise<AuditVerdict> {
        const problem = payloadProblem(payload, payload.round, round, sensorLogConfig(ctx))
        return problem ? { ok: false, reason: problem } : { ok: true }
      },
      async leaves(payloads: Uint8Array[], round: RoundInfo, ctx: TaskContext): Promise<unknown[]> {
        if (!shouldCheat(round, ctx)) return payloads
        ctx.log.warn('cheating: forging readings', { cycle: round.cycle, accepted: payloads.length })
        return forgeLeaves(payloads)
      },
    },
    samples: 8,
    retentionRounds: 8,
    replication: 2,
    leafAudit: auditLeaf,
  },

  async distribution(submitters, bounty, round, ctx) {
    // Accepted readings per passed submitter, from its round DAG's root block (fetched from the
    // submitter, checked against its on-chain root). A submitter that cannot show its root makes
    // the call fail (retried), so every node computes the same list or none.
    const counted: { node: Address; count: bigint }[] = []
    for (const submitter of submitters) {
      if (!submitter.passed) continue
      if (!submitter.root) throw new Error(`no on-chain root given for ${submitter.node}`)
      // Our own root block is in our store; the others' come from their `root` route (p2p).
      const own = submitter.node.toLowerCase() === ctx.address.toLowerCase()
      const answer = own ? { block: await rootBlock(ctx, submitter.root) } : ((await ctx.request(submitter.node, 'root', { digest: submitter.root })) as { block?: unknown } | null)
      const block = answer?.block
      const count = block instanceof Uint8Array ? leafCountOfRoot(block, submitter.root) : undefined
      if (count === undefined) throw new Error(`${submitter.node} did not show the root block of its round ${round.cycle}`)
      counted.push({ node: submitter.node, count: BigInt(count) })
    }
    const total = counted.reduce((sum, entry) => sum + entry.count, 0n)
    if (total === 0n) return []
    counted.sort((a, b) => (BigInt(a.node) < BigInt(b.node) ? -1 : 1))
    return counted.map(({ node, count }) => ({ node, reward: (bounty.reward * count) / total, bonus: (bounty.bonus * count) / total }))
  },

  routes: {
    // The root block of this node's round DAG with the given digest (dag-cbor interior node, or a
    // one-leaf DAG's raw leaf), read from the node's verified block store.
    async root(request, ctx) {
      const digest = (request.body as { digest?: unknown } | null)?.digest
      if (typeof digest !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(digest)) throw new Error('body must be { digest: 0x…32 bytes }')
      const block = await rootBlock(ctx, digest)
      if (!block) throw new Error(`no round DAG with root ${digest} here`)
      return { block }
    },
  },
})

/** The root block of a round DAG in this node's store, by its digest (interior dag-cbor node, or a one-leaf DAG's raw leaf). */
async function rootBlock(ctx: TaskContext, digest: string): Promise<Uint8Array | undefined> {
  for (const cid of [cidFromDigest(digest as Hex, DAG_CBOR_CODE), cidFromDigest(digest as Hex, RAW_CODE)]) {
    const value = await ctx.store.get(cid)
    if (value !== undefined) return value instanceof Uint8Array ? value : encodeValue(value)
  }
  return undefined
}

export default task
