import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import { buildRoundDag, signDevicePayload } from '@coop/protocol'
import { type Address, type RoundInfo, type TaskRuntime, createHarness, createMemoryContext, defineTask, scaleSettings, withRound } from '@coop/sdk'

import sensorLog, { auditLeaf, forgeLeaves, leafCountOfRoot, readingProblem } from '../index.ts'
import { startBundledSandbox, type BundledSandbox } from '../../test-sandbox.ts'

const startTime = 1_700_000_000
const roundLength = 12
/** A plausible reading for the harness round. */
const body = ({ device, seq, round }: { device: number; seq: number; round: RoundInfo }) => ({
  sensor: `s${device}`,
  t: round.startTime + 1,
  temp: 15 + ((device * 7 + seq) % 10),
  humidity: 40 + (seq % 30),
})

describe('sensor-log task', () => {
  it('is a SCALE ingest task with the documented settings', () => {
    assert.deepEqual(scaleSettings(sensorLog), { ingest: { maxPayloadBytes: 2048, accept: true, leaves: true }, samples: 8, retentionRounds: 8, replication: 2 })
  })

  it('harness: devices post to nodes, fishermen sample leaves, rewards follow accepted readings; a forging node is caught, honest ones never', async () => {
    const harness = createHarness(sensorLog, {
      nodes: 4,
      rounds: 5,
      startTime,
      roundLength,
      devices: { count: 6, readings: 3, body },
      behaviours: [{ mode: 'honest' }, { mode: 'honest' }, { mode: 'honest' }, { mode: 'cheater', cheatFromRound: 3 }],
    })
    const cheater = harness.nodes[3]!.address
    const report = await harness.run()
    for (const cycle of report.cycles) assert.deepEqual(cycle.errors, [], `cycle ${cycle.cycle}`)
    assert.deepEqual(report.falselyFlagged, [])
    assert.deepEqual(report.caught, [cheater])
    // Every device reading was accepted (6 devices × 3 readings per cycle), spread over the nodes.
    for (const cycle of report.cycles) {
      assert.equal(cycle.ingest!.reduce((sum, n) => sum + n.accepted, 0), 18)
      assert.deepEqual(cycle.ingest!.flatMap((n) => n.rejected), [])
    }
    const c1 = report.cycles[1]!
    // Rewards ∝ accepted readings: node i gets the devices d with (d + 1) mod 4 = i.
    const counts = new Map(c1.submissions.map((s) => [s.node, s.dag!.size]))
    const reward = 1000n * 10n ** 18n
    const total = [...counts.values()].reduce((a, b) => a + b, 0)
    for (const entry of c1.distribution) assert.equal(entry.reward, (reward * BigInt(counts.get(entry.node)!)) / BigInt(total))
    assert.ok(c1.distributionAgreed)
    // From cycle 3 the cheater's DAG is half forgeries: sampled fishermen fail it, it earns nothing.
    const c3 = report.cycles[3]!
    assert.deepEqual(c3.caught, [cheater])
    const failed = c3.audits.find((a) => a.submitter === cheater && a.verdict?.ok === false)
    assert.match(failed!.verdict!.ok === false ? failed!.verdict!.reason : '', /BAD_SIGNATURE/)
    assert.ok(c3.distribution.every((e) => e.node !== cheater))
  })

  it('ingest curation: implausible readings and unknown devices are refused before they are stored', async () => {
    const allowed = signDevicePayload(`0x${'01'.repeat(32)}`, 'ed25519', { taskId: '1', round: 0, seq: 0, body: null }).payload.device
    const harness = createHarness(sensorLog, {
      nodes: 2,
      rounds: 1,
      startTime,
      roundLength,
      devices: { count: 3, readings: 2, body: (input) => (input.seq === 0 ? { ...body(input), temp: 99 } : body(input)) },
    })
    const report = await harness.run()
    const rejected = report.cycles[0]!.ingest!.flatMap((n) => n.rejected)
    assert.equal(rejected.length, 3)
    assert.ok(rejected.every((r) => r.code === 'REJECTED' && /temp must be a number/.test(r.reason)))
    // With a device allowlist, a node cannot invent devices.
    const pinned = createHarness(sensorLog, { nodes: 2, rounds: 1, startTime, roundLength, config: { devices: [allowed] }, devices: { count: 2, readings: 1, body } })
    const pinnedReport = await pinned.run()
    const pinnedRejected = pinnedReport.cycles[0]!.ingest!.flatMap((n) => n.rejected)
    assert.equal(pinnedRejected.length, 2)
    assert.ok(pinnedRejected.every((r) => /not one of the task's devices/.test(r.reason)))
  })

  it('leafAudit: valid readings pass; forged, wrong-round, wrong-task, implausible and non-payload leaves fail', async () => {
    const key = `0x${'42'.repeat(32)}` as const
    const round: RoundInfo = { taskId: 7n, round: 6, cycle: 5, startTime: startTime + 6 * roundLength, roundLength, seed: `0x${'ab'.repeat(32)}` }
    const t = startTime + 5 * roundLength + 3
    const ctx = withRound(createMemoryContext(), round)
    const node = '0x1000000000000000000000000000000000000001' as Address
    const good = signDevicePayload(key, 'secp256k1', { taskId: '7', round: 5, seq: 1, body: { sensor: 'a', t, temp: 20, humidity: 50 } })
    assert.deepEqual(await auditLeaf(good.bytes, 0, round, node, ctx), { ok: true })
    const [forged] = forgeLeaves([good.bytes])
    assert.match((await auditLeaf(forged, 0, round, node, ctx) as { reason: string }).reason, /BAD_SIGNATURE/)
    const wrongRound = signDevicePayload(key, 'ed25519', { taskId: '7', round: 4, seq: 1, body: { sensor: 'a', t, temp: 20, humidity: 50 } })
    assert.match((await auditLeaf(wrongRound.bytes, 0, round, node, ctx) as { reason: string }).reason, /WRONG_ROUND/)
    const wrongTask = signDevicePayload(key, 'ed25519', { taskId: '8', round: 5, seq: 1, body: { sensor: 'a', t, temp: 20, humidity: 50 } })
    assert.match((await auditLeaf(wrongTask.bytes, 0, round, node, ctx) as { reason: string }).reason, /WRONG_TASK/)
    const hot = signDevicePayload(key, 'ed25519', { taskId: '7', round: 5, seq: 1, body: { sensor: 'a', t, temp: 61, humidity: 50 } })
    assert.match((await auditLeaf(hot.bytes, 0, round, node, ctx) as { reason: string }).reason, /temp/)
    const late = signDevicePayload(key, 'ed25519', { taskId: '7', round: 5, seq: 1, body: { sensor: 'a', t: t + 3600, temp: 20, humidity: 50 } })
    assert.match((await auditLeaf(late.bytes, 0, round, node, ctx) as { reason: string }).reason, /outside round 5/)
    assert.equal((await auditLeaf({ not: 'bytes' }, 0, round, node, ctx)).ok, false)
    assert.equal((await auditLeaf(new Uint8Array([1, 2, 3]), 0, round, node, ctx)).ok, false)
    assert.equal(readingProblem({ sensor: 'a', t, temp: 20, humidity: 50, extra: 1 }, 5, round, 0)?.includes('exactly'), true)
  })

  it('leafCountOfRoot: the count a root states, only for the right digest', () => {
    const leaves = Array.from({ length: 5 }, (_, i) => new Uint8Array([i]))
    const dag = buildRoundDag(leaves)
    assert.equal(leafCountOfRoot(dag.blocks.get(dag.root)!, dag.digest), 5)
    assert.equal(leafCountOfRoot(dag.blocks.get(dag.root)!, `0x${'00'.repeat(32)}`), undefined)
    const single = buildRoundDag([new Uint8Array([9])])
    assert.equal(leafCountOfRoot(single.blocks.get(single.root)!, single.digest), 1)
  })

  it('defineTask refuses a bad scale section with every problem listed', () => {
    assert.throws(
      () => defineTask({ name: 'x', distribution: async () => [], scale: { ingest: { maxPayloadBytes: 1 }, samples: 0, leafAudit: 1 } } as never),
      (error: Error & { code?: string; details?: { problems?: string[] } }) =>
        error.code === 'INVALID_TASK' &&
        ['scale.leafAudit must be a function', 'scale.samples must be an integer in [1, 1024]', 'scale.ingest.maxPayloadBytes must be an integer in [64, 1048576]'].every((p) =>
          error.details?.problems?.includes(p),
        ),
    )
    assert.throws(
      () => defineTask({ name: 'x', distribution: async () => [], submission: async () => [], scale: { ingest: {}, leafAudit: async () => ({ ok: true }) } } as never),
      (error: Error & { details?: { problems?: string[] } }) => error.details!.problems!.some((p) => p.startsWith('submission must be absent')),
    )
    assert.throws(
      () => defineTask({ name: 'x', distribution: async () => [], scale: { leafAudit: async () => ({ ok: true }) } } as never),
      (error: Error & { details?: { problems?: string[] } }) => error.details!.problems!.some((p) => p.startsWith('submission must be a function')),
    )
  })
})

describe('sensor-log in the sandbox', () => {
  let sandbox: BundledSandbox
  let runtime: TaskRuntime
  const host = createMemoryContext()
  before(async () => {
    sandbox = await startBundledSandbox('sensor-log', new URL('../index.ts', import.meta.url), host)
    runtime = sandbox.runtime
  })
  after(() => sandbox?.stop())

  it('reports its SCALE settings and serves accept, leaves, leafAudit and the root route through the bundle', async () => {
    assert.equal(runtime.name, 'sensor-log')
    assert.deepEqual(runtime.scale, scaleSettings(sensorLog))
    const round: RoundInfo = { taskId: 2n, round: 3, cycle: 3, startTime: startTime + 36, roundLength }
    const signed = signDevicePayload(`0x${'07'.repeat(32)}`, 'ed25519', { taskId: '2', round: 3, seq: 1, body: { sensor: 'a', t: startTime + 37, temp: 20, humidity: 50 } })
    assert.deepEqual(await runtime.call('ingestAccept', signed.payload, round), { ok: true })
    const refused = (await runtime.call('ingestAccept', { ...signed.payload, body: { sensor: 'a', t: startTime + 37, temp: 20, humidity: 101 } }, round)) as { ok: boolean }
    assert.equal(refused.ok, false)
    assert.deepEqual(await runtime.call('ingestLeaves', [signed.bytes], { ...round, round: 4 }), [signed.bytes])
    const auditRound = { ...round, round: 4, startTime: startTime + 48, seed: `0x${'cd'.repeat(32)}` }
    assert.deepEqual(await runtime.call('leafAudit', signed.bytes, 0, auditRound, host.address), { ok: true })
    // The root route: the root block of a DAG in the node's store, by digest.
    const dag = buildRoundDag([signed.bytes, signed.bytes.slice(0, 10)])
    for (const [cid, bytes] of dag.blocks) (host.store as unknown as { blocks: Map<string, Uint8Array> }).blocks.set(cid, bytes)
    const answer = (await runtime.call('route', { method: 'P2P', path: '/root', query: {}, body: { digest: dag.digest } })) as { block: Uint8Array }
    assert.equal(leafCountOfRoot(answer.block, dag.digest), 2)
  })
})
