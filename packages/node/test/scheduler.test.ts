// The scheduler's phase logic (dueActions) against @coop/protocol's round clock: every window
// edge the scheduler acts on must be the protocol's (cyclePhases, phasesAt, distributionAttemptAt).
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { cyclePhases, distributionAttemptAt, DistributionStatus, phasesAt, roundAt } from '@coop/protocol'
import fc from 'fast-check'
import type { Address, Hex } from 'viem'

import { actionKey, dueActions, phaseAt, type CycleView, type DueAction, type DueInput, type SchedulerParams } from '../src/scheduler/phases.ts'

const ME = '0x00000000000000000000000000000000000000aa' as Address
const OTHER = '0x00000000000000000000000000000000000000bb' as Address
const THIRD = '0x00000000000000000000000000000000000000cc' as Address
const SEED = `0x${'11'.repeat(32)}` as Hex

const params: SchedulerParams = {
  roundLength: 100n,
  submissionWindow: 20n,
  auditWindow: 50n,
  voteWindow: 30n,
  distributionWindow: 10n,
  distributionAuditWindow: 15n,
  maxDistributionAttempts: 3n,
  votersBps: 2_000n,
}
const START = 1_000n

function due(overrides: Partial<DueInput> & { now: bigint }): DueAction[] {
  return dueActions({ params, startTime: START, me: ME, staked: true, cycles: [], audits: [], ...overrides }).actions
}
const types = (actions: DueAction[]) => actions.map((action) => action.type)
const find = <T extends DueAction['type']>(actions: DueAction[], type: T) => actions.find((action) => action.type === type) as Extract<DueAction, { type: T }> | undefined

describe('dueActions: cycles r and r − 1', () => {
  test('nothing before the task starts', () => {
    assert.deepEqual(dueActions({ params, startTime: START, now: START - 1n, me: ME, staked: true, cycles: [], audits: [] }), { round: undefined, phase: undefined, actions: [] })
  })

  test('work of the current round, once; the announcement once per round', () => {
    const now = START + 250n
    assert.equal(roundAt(START, params.roundLength, now), 2n)
    const actions = due({ now })
    assert.deepEqual(find(actions, 'work'), { type: 'work', cycle: 2n })
    assert.deepEqual(find(actions, 'announce'), { type: 'announce', round: 2n, cycle: 2n })
    const done = due({ now, cycles: [{ cycle: 2n, worked: true }], announcedRound: 2n })
    assert.equal(find(done, 'work'), undefined)
    assert.equal(find(done, 'announce'), undefined)
  })

  test('submission of r − 1 exactly inside [submissionOpens, submissionCloses)', () => {
    const cycle = 3n
    const phases = cyclePhases(params, START, cycle)
    const worked: CycleView = { cycle, worked: true }
    for (const [now, expected] of [
      [phases.submissionOpens - 1n, false],
      [phases.submissionOpens, true],
      [phases.submissionCloses - 1n, true],
      [phases.submissionCloses, false],
    ] as const) {
      const submit = find(due({ now, cycles: [worked] }), 'submit')
      assert.equal(submit !== undefined, expected, `submit at ${now - phases.submissionOpens}s into the window`)
      if (submit) assert.deepEqual(submit, { type: 'submit', cycle, closesAt: phases.submissionCloses })
      assert.equal(submit !== undefined, phasesAt(params, START, now).submission?.cycle === cycle && phasesAt(params, START, now).submission!.submissionOpen)
    }
  })

  test('no submission before the work is done, or twice', () => {
    const phases = cyclePhases(params, START, 3n)
    assert.equal(find(due({ now: phases.submissionOpens, cycles: [{ cycle: 3n }] }), 'submit'), undefined)
    assert.ok(find(due({ now: phases.submissionOpens, cycles: [{ cycle: 3n }], requireWork: false }), 'submit'))
    assert.equal(find(due({ now: phases.submissionOpens, cycles: [{ cycle: 3n, worked: true, submitted: true }] }), 'submit'), undefined)
  })

  test('seed then audit exactly inside [auditOpens, auditCloses), only for submitters', () => {
    const cycle = 3n
    const phases = cyclePhases(params, START, cycle)
    const noSeed: CycleView = { cycle, worked: true, submitted: true, submitters: 3 }
    const seeded: CycleView = { ...noSeed, seed: SEED }
    assert.equal(find(due({ now: phases.auditOpens - 1n, cycles: [noSeed] }), 'recordSeed'), undefined)
    assert.deepEqual(find(due({ now: phases.auditOpens, cycles: [noSeed] }), 'recordSeed'), { type: 'recordSeed', cycle })
    assert.deepEqual(find(due({ now: phases.auditOpens, cycles: [seeded] }), 'audit'), { type: 'audit', cycle, closesAt: phases.auditCloses })
    assert.ok(find(due({ now: phases.auditCloses - 1n, cycles: [seeded] }), 'audit'))
    assert.equal(find(due({ now: phases.auditCloses, cycles: [seeded] }), 'audit'), undefined)
    assert.equal(find(due({ now: phases.auditOpens, cycles: [{ ...seeded, submitted: false }] }), 'audit'), undefined)
    assert.equal(find(due({ now: phases.auditOpens, cycles: [{ ...seeded, audited: true }] }), 'audit'), undefined)
  })

  test('phaseAt follows the protocol windows of r − 1', () => {
    const phases = cyclePhases(params, START, 4n)
    assert.equal(phaseAt(params, START, START + 10n), 'work')
    assert.equal(phaseAt(params, START, phases.submissionOpens), 'submit')
    assert.equal(phaseAt(params, START, phases.auditOpens), 'audit')
    assert.equal(phaseAt(params, START, phases.auditCloses), 'vote')
    assert.equal(phaseAt(params, START, phases.auditCloses + params.voteWindow), 'settle')
  })

  test('a node below the minimum stake tops up, and neither submits nor votes meanwhile', () => {
    const audit = { auditId: 1n, cycle: 0n, kind: 'submission' as const, accused: OTHER, accuser: THIRD, deadline: START + 500n, resolved: false, myVote: 0 as const }
    const actions = due({ now: START + 400n, staked: false, audits: [audit], cycles: [{ cycle: 3n, worked: true }] })
    assert.ok(find(actions, 'stake'))
    assert.equal(find(actions, 'vote'), undefined)
    assert.equal(find(actions, 'submit'), undefined)
    assert.ok(find(actions, 'work'))
    assert.equal(find(due({ now: START + 400n, cycles: [{ cycle: 3n, worked: true }] }), 'stake'), undefined)
  })
})

describe('dueActions: audits', () => {
  const open = { auditId: 7n, cycle: 2n, kind: 'submission' as const, accused: OTHER, accuser: THIRD, deadline: START + 400n, resolved: false, myVote: 0 as const }

  test('vote once before the deadline, never as accused or accuser', () => {
    assert.deepEqual(find(due({ now: START + 399n, audits: [open] }), 'vote'), { type: 'vote', auditId: 7n, cycle: 2n, deadline: START + 400n })
    assert.equal(find(due({ now: START + 399n, audits: [{ ...open, myVote: 1 }] }), 'vote'), undefined)
    assert.equal(find(due({ now: START + 399n, audits: [{ ...open, accused: ME }] }), 'vote'), undefined)
    assert.equal(find(due({ now: START + 399n, audits: [{ ...open, accuser: ME }] }), 'vote'), undefined)
  })

  test('resolve from the deadline on', () => {
    assert.equal(find(due({ now: START + 399n, audits: [open] }), 'resolve'), undefined)
    assert.deepEqual(find(due({ now: START + 400n, audits: [open] }), 'resolve'), { type: 'resolve', auditId: 7n, cycle: 2n })
  })

  test('claim the vote reward only on the winning side, never as the accuser', () => {
    const resolved = { ...open, resolved: true, upheld: true }
    assert.ok(find(due({ now: START + 500n, audits: [{ ...resolved, myVote: 1 }] }), 'claimVoteReward'))
    assert.equal(find(due({ now: START + 500n, audits: [{ ...resolved, myVote: 2 }] }), 'claimVoteReward'), undefined)
    assert.equal(find(due({ now: START + 500n, audits: [{ ...resolved, myVote: 1, accuser: ME }] }), 'claimVoteReward'), undefined)
    assert.ok(find(due({ now: START + 500n, audits: [{ ...resolved, upheld: false, myVote: 2 }] }), 'claimVoteReward'))
    assert.equal(dueActions({ params: { ...params, votersBps: 0n }, startTime: START, now: START + 500n, me: ME, staked: true, cycles: [], audits: [{ ...resolved, myVote: 1 }] }).actions.find((a) => a.type === 'claimVoteReward'), undefined)
  })
})

describe('dueActions: distribution and claims (cycles ≤ r − 2)', () => {
  const cycle = 2n
  const phases = cyclePhases(params, START, cycle)
  const base: CycleView = { cycle, worked: true, submitted: true, submitters: 3, seed: SEED, status: DistributionStatus.Pending, attempt: 0n, turnStart: 0n, openAudits: 0, openChallenges: 0 }

  test('distribute from start(c + 2) with the protocol attempt; fail once attempts are exhausted', () => {
    assert.equal(find(due({ now: phases.distributionOpens - 1n, cycles: [base] }), 'distribute'), undefined)
    for (const offset of [0n, 9n, 10n, 25n]) {
      const now = phases.distributionOpens + offset
      const expected = distributionAttemptAt(params, START, cycle, now)
      assert.deepEqual(find(due({ now, cycles: [base] }), 'distribute'), { type: 'distribute', cycle, attempt: expected })
    }
    const exhausted = phases.distributionOpens + params.distributionWindow * params.maxDistributionAttempts
    assert.equal(distributionAttemptAt(params, START, cycle, exhausted), params.maxDistributionAttempts)
    assert.deepEqual(types(due({ now: exhausted, cycles: [base] })).filter((t) => t === 'failDistribution' || t === 'distribute'), ['failDistribution'])
  })

  test('a restarted turn (upheld challenge) counts attempts from its stored turnStart', () => {
    const now = phases.distributionOpens + 55n
    const stored = { ...base, attempt: 1n, turnStart: phases.distributionOpens + 50n }
    const expected = distributionAttemptAt(params, START, cycle, now, { status: DistributionStatus.Pending, attempt: 1n, turnStart: stored.turnStart })
    assert.equal(expected, 1n)
    assert.deepEqual(find(due({ now, cycles: [stored] }), 'distribute'), { type: 'distribute', cycle, attempt: 1n })
  })

  test('no distribution while audits or challenges are open, without a seed (record it), or for cycles we did not submit to', () => {
    const now = phases.distributionOpens
    assert.equal(find(due({ now, cycles: [{ ...base, openAudits: 1 }] }), 'distribute'), undefined)
    assert.equal(find(due({ now, cycles: [{ ...base, openChallenges: 1 }] }), 'distribute'), undefined)
    const { seed: _seed, ...unseeded } = base
    assert.deepEqual(find(due({ now, cycles: [unseeded] }), 'recordSeed'), { type: 'recordSeed', cycle })
    assert.equal(find(due({ now, cycles: [{ ...base, submitted: false }] }), 'distribute'), undefined)
  })

  test('a posted list is checked during its challenge window (not by its poster), then claimed or finalized', () => {
    const postedAt = phases.distributionOpens + 3n
    const posted: CycleView = { ...base, status: DistributionStatus.Posted, postedAt, poster: OTHER }
    const closes = postedAt + params.distributionAuditWindow
    assert.deepEqual(find(due({ now: closes - 1n, cycles: [posted] }), 'checkDistribution'), { type: 'checkDistribution', cycle, closesAt: closes })
    assert.equal(find(due({ now: closes - 1n, cycles: [{ ...posted, poster: ME }] }), 'checkDistribution'), undefined)
    assert.equal(find(due({ now: closes - 1n, cycles: [{ ...posted, distributionChecked: true }] }), 'checkDistribution'), undefined)
    assert.deepEqual(find(due({ now: closes, cycles: [posted] }), 'claim'), { type: 'claim', cycles: [cycle] })
    assert.deepEqual(find(due({ now: closes, cycles: [{ ...posted, hasLeaf: false }] }), 'finalize'), { type: 'finalize', cycle })
    assert.equal(find(due({ now: closes, cycles: [{ ...posted, openChallenges: 1 }] }), 'claim'), undefined)
  })

  test('all unclaimed final cycles go in one claim', () => {
    const now = START + 10n * params.roundLength
    const final = (c: bigint, extra: Partial<CycleView> = {}): CycleView => ({ ...base, cycle: c, status: DistributionStatus.Final, ...extra })
    const actions = due({ now, cycles: [final(1n), final(2n, { claimed: true }), final(3n), final(4n, { hasLeaf: false }), final(5n)] })
    assert.deepEqual(actions.filter((a) => a.type === 'claim'), [{ type: 'claim', cycles: [1n, 3n, 5n] }])
  })
})

describe('dueActions: properties against the protocol clock', () => {
  const paramsArb = fc
    .record({ roundLength: fc.integer({ min: 4, max: 3_600 }), sub: fc.integer({ min: 1, max: 1_000 }), audit: fc.integer({ min: 2, max: 2_000 }), vote: fc.integer({ min: 1, max: 2_000 }), dist: fc.integer({ min: 1, max: 500 }) })
    .filter((p) => p.sub < p.audit && p.audit + p.vote <= p.roundLength)
    .map(
      (p): SchedulerParams => ({
        roundLength: BigInt(p.roundLength),
        submissionWindow: BigInt(p.sub),
        auditWindow: BigInt(p.audit),
        voteWindow: BigInt(p.vote),
        distributionWindow: BigInt(p.dist),
        distributionAuditWindow: BigInt(p.dist),
        maxDistributionAttempts: 3n,
      }),
    )

  test('submit / recordSeed / audit / work / distribute are due exactly when the protocol says', () => {
    fc.assert(
      fc.property(paramsArb, fc.bigInt({ min: 0n, max: 1n << 40n }), fc.bigInt({ min: 0n, max: 50_000n }), (p, start, offset) => {
        const now = start + offset
        const at = phasesAt(p, start, now)
        const round = at.round
        const cycles: CycleView[] = [{ cycle: round, worked: false }]
        if (at.submission) cycles.push({ cycle: at.submission.cycle, worked: true, submitted: false })
        const before = dueActions({ params: p, startTime: start, now, me: ME, staked: true, cycles, audits: [] }).actions
        assert.equal(before.some((a) => a.type === 'submit'), at.submission?.submissionOpen ?? false)
        assert.deepEqual(find(before, 'work'), { type: 'work', cycle: round })
        if (at.submission) {
          const submitted: CycleView = { cycle: at.submission.cycle, worked: true, submitted: true, submitters: 2 }
          const unseeded = dueActions({ params: p, startTime: start, now, me: ME, staked: true, cycles: [submitted], audits: [] }).actions
          assert.equal(unseeded.some((a) => a.type === 'recordSeed'), at.submission.auditOpen)
          const seeded = dueActions({ params: p, startTime: start, now, me: ME, staked: true, cycles: [{ ...submitted, seed: SEED }], audits: [] }).actions
          const audit = find(seeded, 'audit')
          assert.equal(audit !== undefined, at.submission.auditOpen)
          if (audit) assert.equal(audit.closesAt, at.submission.phases.auditCloses)
        }
        if (at.distribution) {
          const view: CycleView = { cycle: at.distribution.cycle, submitted: true, submitters: 2, seed: SEED, status: DistributionStatus.Pending }
          const actions = dueActions({ params: p, startTime: start, now, me: ME, staked: true, cycles: [view], audits: [] }).actions
          if (at.distribution.attempt < 3n) assert.deepEqual(find(actions, 'distribute'), { type: 'distribute', cycle: at.distribution.cycle, attempt: at.distribution.attempt })
          else assert.ok(find(actions, 'failDistribution'))
        }
      }),
      { numRuns: 500 },
    )
  })

  test('action keys are unique per action instance', () => {
    const keys = new Set(
      [
        { type: 'work', cycle: 1n },
        { type: 'submit', cycle: 1n, closesAt: 0n },
        { type: 'audit', cycle: 1n, closesAt: 0n },
        { type: 'vote', auditId: 1n, cycle: 1n, deadline: 0n },
        { type: 'resolve', auditId: 1n, cycle: 1n },
        { type: 'distribute', cycle: 1n, attempt: 0n },
        { type: 'claim', cycles: [1n] },
        { type: 'announce', round: 1n, cycle: 1n },
        { type: 'stake' },
      ].map((action) => actionKey(action as DueAction)),
    )
    assert.equal(keys.size, 9)
  })
})
