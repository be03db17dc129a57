import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type Address, type TaskRuntime, createHarness, createMemoryContext, withRound } from '@coop/sdk'
import compute, { type ComputeSubmission, deriveInput, iterateSha256 } from '../index.ts'
import { startBundledSandbox, type BundledSandbox } from '../../test-sandbox.ts'

const config = { inputsPerCycle: 16, iterations: 200, auditSample: 4 }
const round = { taskId: 3n, round: 5, cycle: 4, startTime: 1_700_000_060, roundLength: 12 }
const seed = `0x${'ab'.repeat(32)}` as const

describe('compute task', () => {
  it('derives per-node inputs and iterates sha256 deterministically', () => {
    const node = '0x1000000000000000000000000000000000000001'
    assert.deepEqual(deriveInput(1n, 2, node, 3), deriveInput(1n, 2, node.toUpperCase().replace('0X', '0x') as Address, 3))
    assert.notDeepEqual(deriveInput(1n, 2, node, 3), deriveInput(1n, 2, node, 4))
    assert.notDeepEqual(deriveInput(1n, 2, node, 3), deriveInput(1n, 3, node, 3))
    const input = deriveInput(1n, 2, node, 3)
    assert.deepEqual(iterateSha256(input, 2), iterateSha256(iterateSha256(input, 1), 1))
    assert.equal(iterateSha256(input, 5).byteLength, 32)
  })

  it('harness: honest majority + a cheater from round 3 → the cheater is caught, honest nodes never flagged', async () => {
    const harness = createHarness(compute, {
      nodes: 4,
      rounds: 5,
      config,
      behaviours: [{ mode: 'honest' }, { mode: 'honest' }, { mode: 'honest' }, { mode: 'cheater', cheatFromRound: 3 }],
    })
    const cheater = harness.nodes[3]?.address as Address
    const report = await harness.run()
    assert.deepEqual(report.falselyFlagged, [])
    assert.deepEqual(report.caught, [cheater])
    for (const cycle of report.cycles.slice(0, 3)) assert.deepEqual(cycle.failed, [])
    const c3 = report.cycles[3]!
    assert.deepEqual(c3.caught, [cheater])
    const failedAudit = c3.audits.find((a) => a.submitter === cheater && a.verdict?.ok === false)
    assert.ok(failedAudit?.verdict && !failedAudit.verdict.ok)
    assert.equal(failedAudit.verdict.reason, 'output mismatch')
    assert.ok(c3.distribution.every((entry) => entry.node !== cheater))
    assert.equal(c3.distribution.length, 3)
    for (const cycle of report.cycles) assert.deepEqual(cycle.errors, [])
  })

  it('a partial cheater (a quarter of the items forged) is caught when the sample covers them', async () => {
    const harness = createHarness(compute, {
      nodes: 3,
      rounds: 1,
      config: { ...config, auditSample: 16, cheatFraction: 0.25 },
      behaviours: [{ mode: 'cheater' }],
    })
    const report = await harness.run()
    assert.deepEqual(report.caught, [harness.nodes[0]?.address])
    assert.deepEqual(report.falselyFlagged, [])
  })

  it('audit rejects stolen inputs, wrong counts and malformed submissions', async () => {
    const services = createMemoryContext({ config })
    const ctx = withRound(services, round)
    await compute.work(round, ctx)
    const submission = await compute.submission(round, ctx)
    const auditor = withRound(createMemoryContext({ config }), { ...round, seed })
    assert.deepEqual(await compute.audit(submission, { ...round, seed }, services.address, auditor), { ok: true })
    // Another node's submission replayed under a different submitter: inputs do not match.
    const other = '0x2000000000000000000000000000000000000002'
    const stolen = await compute.audit(submission, { ...round, seed }, other, auditor)
    assert.equal(stolen.ok, false)
    const short: ComputeSubmission = { ...submission, items: submission.items.slice(1) }
    assert.equal((await compute.audit(short, { ...round, seed }, services.address, auditor)).ok, false)
    assert.equal((await compute.audit({ nope: 1 } as never, { ...round, seed }, services.address, auditor)).ok, false)
    assert.equal((await compute.audit({ ...submission, cycle: 9 }, { ...round, seed }, services.address, auditor)).ok, false)
    // One forged output at a sampled position.
    const tampered = structuredClone(submission)
    for (const item of tampered.items) item.output = new Uint8Array(32)
    const verdict = await compute.audit(tampered, { ...round, seed }, services.address, auditor)
    assert.equal(verdict.ok, false)
    assert.ok(!verdict.ok && verdict.reason === 'output mismatch')
  })
})

describe('compute task in the sandbox', () => {
  let sandbox: BundledSandbox
  let runtime: TaskRuntime
  const host = createMemoryContext({ config })
  before(async () => {
    sandbox = await startBundledSandbox('compute', new URL('../index.ts', import.meta.url), host)
    runtime = sandbox.runtime
  })
  after(() => sandbox?.stop())

  it('round-trips work → submission → audit → distribution through the bundle', async () => {
    assert.equal(runtime.name, 'compute')
    await runtime.call('work', round)
    assert.deepEqual(await host.kv.list('result/'), ['result/000000000004'])
    const submission = (await runtime.call('submission', round)) as ComputeSubmission
    assert.equal(submission.items.length, 16)
    // The sandboxed result equals the in-process computation.
    assert.deepEqual(submission.items[5]?.output, iterateSha256(deriveInput(round.taskId, round.cycle, host.address, 5), 200))
    assert.deepEqual(await runtime.call('audit', submission, { ...round, seed }, host.address), { ok: true })
    const forged = structuredClone(submission)
    for (const item of forged.items) item.output = new Uint8Array(32).fill(7)
    const verdict = (await runtime.call('audit', forged, { ...round, seed }, host.address)) as { ok: boolean; reason: string; evidence: { i: number } }
    assert.equal(verdict.ok, false)
    assert.equal(verdict.reason, 'output mismatch')
    assert.ok(Number.isInteger(verdict.evidence.i))
    const other = '0x2000000000000000000000000000000000000002'
    const list = await runtime.call('distribution', [{ node: host.address, passed: true }, { node: other, passed: false }], { reward: 100n, bonus: 0n }, round)
    assert.deepEqual(list, [{ node: host.address, reward: 100n, bonus: 0n }])
    const status = (await runtime.call('route', { method: 'GET', path: '/status', query: {}, body: null })) as { cycles: number[] }
    assert.deepEqual(status.cycles, [4])
  })
})
