import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type Address, createHarness, defaultDistribution, defineTask, isSdkError, shouldCheat } from '../src/index.ts'

type Square = { cycle: number; value: number }

// A tiny task: the work of cycle c is c²; auditors check the value and ask the submitter for it.
const square = defineTask<Square>({
  name: 'square',
  async work(round, ctx) {
    if (!shouldCheat(round, ctx)) await ctx.kv.put(`r/${round.cycle}`, round.cycle * round.cycle)
  },
  async submission(round, ctx) {
    return { cycle: round.cycle, value: ((await ctx.kv.get(`r/${round.cycle}`)) as number | undefined) ?? 12345 }
  },
  async audit(submission, round, submitter, ctx) {
    assert.ok(round.seed, 'audits see the cycle seed')
    const served = (await ctx.request(submitter, 'value', { cycle: round.cycle })) as { value: number | null }
    if (submission.value !== round.cycle * round.cycle) return { ok: false, reason: 'wrong value', evidence: { claimed: submission.value } }
    if (served.value !== submission.value) return { ok: false, reason: 'submitter does not hold its value' }
    return { ok: true }
  },
  async distribution(submitters, bounty) {
    return defaultDistribution(submitters, bounty)
  },
  routes: {
    async value(request, ctx) {
      const { cycle } = request.body as { cycle: number }
      return { value: ((await ctx.kv.get(`r/${cycle}`)) as number | undefined) ?? null }
    },
  },
})

describe('createHarness', () => {
  it('simulates rounds with real sampling: the cheater is caught from its first cheating cycle, honest nodes never', async () => {
    const harness = createHarness(square, { nodes: 5, rounds: 6, behaviours: { 2: { mode: 'cheater', cheatFromRound: 3 } } })
    const cheater = harness.nodes[2]?.address as Address
    const report = await harness.run()
    assert.equal(report.cycles.length, 6)
    assert.deepEqual(report.caught, [cheater])
    assert.deepEqual(report.falselyFlagged, [])
    assert.deepEqual(report.missed, [])
    const addresses = new Set(harness.nodes.map((n) => n.address))
    for (const cycle of report.cycles) {
      assert.equal(cycle.errors.length, 0, JSON.stringify(cycle.errors))
      assert.equal(cycle.submissions.length, 5)
      for (const s of cycle.submissions) {
        if (s.sampled) assert.equal(s.auditors.length, 2)
        assert.ok(!s.auditors.includes(s.node), 'never audits itself')
        assert.ok(s.auditors.every((a) => addresses.has(a)))
      }
      assert.ok(cycle.distributionAgreed)
      assert.ok(cycle.distributor && addresses.has(cycle.distributor))
    }
    // Dues: everyone at 100% up to and including the cycle its score reaches 3.
    for (const cycle of report.cycles.slice(0, 4)) assert.ok(cycle.submissions.every((s) => s.probabilityBps === 10_000n && s.sampled))
    const c3 = report.cycles[3]!
    assert.deepEqual(c3.caught, [cheater])
    assert.ok(c3.audits.filter((a) => a.submitter === cheater).every((a) => a.verdict?.ok === false))
    assert.equal(c3.distribution.length, 4)
    assert.ok(c3.distribution.every((e) => e.node !== cheater && e.reward === (1000n * 10n ** 18n) / 4n))
    // Convicted: its score is reset, so it pays dues again; honest nodes decay to 10000·2/(2+4−3).
    const c4 = report.cycles[4]!
    assert.equal(c4.submissions.find((s) => s.node === cheater)?.probabilityBps, 10_000n)
    assert.ok(c4.submissions.filter((s) => s.node !== cheater).every((s) => s.probabilityBps === 6666n))
    assert.deepEqual(c4.caught, [cheater])
    assert.equal(harness.node(cheater).score, 0n)
    for (const cycle of report.cycles.slice(0, 3)) assert.deepEqual(cycle.failed, [])
  })

  it('is deterministic', async () => {
    const run = () => createHarness(square, { nodes: 4, rounds: 3 }).run()
    const [a, b] = await Promise.all([run(), run()])
    assert.deepEqual(
      a.cycles.map((c) => [c.seed, c.distributor, c.submissions.map((s) => [s.root.cid, s.auditors])]),
      b.cycles.map((c) => [c.seed, c.distributor, c.submissions.map((s) => [s.root.cid, s.auditors])]),
    )
  })

  it('takes explicit addresses and behaviours by address', async () => {
    const nodes: Address[] = ['0x1000000000000000000000000000000000000001', '0x2000000000000000000000000000000000000002', '0x3000000000000000000000000000000000000003']
    const harness = createHarness(square, { nodes, rounds: 2, behaviours: { [nodes[1] as string]: { mode: 'cheater' } } })
    const report = await harness.run()
    assert.deepEqual(report.caught, [nodes[1]])
    assert.deepEqual(report.falselyFlagged, [])
  })

  it('records task errors per node instead of failing the simulation', async () => {
    const flaky = defineTask({
      ...square,
      name: 'flaky',
      async work(round, ctx) {
        if (ctx.address === harness.nodes[0]?.address) throw new Error('disk on fire')
        return square.work(round, ctx)
      },
    })
    const harness = createHarness(flaky, { nodes: 3, rounds: 1 })
    const [cycle] = (await harness.run()).cycles
    assert.deepEqual(cycle?.errors.map((e) => [e.node, e.phase, e.error]), [[harness.nodes[0]?.address, 'work', 'disk on fire']])
    // Its submission then carries the placeholder value and fails its audit.
    assert.deepEqual(cycle?.failed, [harness.nodes[0]?.address])
  })

  it('validates its options', () => {
    assert.throws(() => createHarness({ name: 'x' } as never, { nodes: 2, rounds: 1 }), (e) => isSdkError(e, 'INVALID_TASK'))
    assert.throws(() => createHarness(square, { nodes: 0, rounds: 1 }), (e) => isSdkError(e, 'INVALID_OPTIONS'))
    assert.throws(() => createHarness(square, { nodes: ['0xnope' as Address], rounds: 1 }), (e) => isSdkError(e, 'INVALID_OPTIONS'))
    assert.throws(() => createHarness(square, { nodes: 2, rounds: -1 }), (e) => isSdkError(e, 'INVALID_OPTIONS'))
  })
})
