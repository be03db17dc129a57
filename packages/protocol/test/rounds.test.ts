import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import {
  DistributionStatus,
  type RoundParams,
  cyclePhases,
  distributionAttemptAt,
  distributionAttemptOpens,
  isProtocolError,
  phasesAt,
  roundAt,
  roundStart,
} from '../src/index.ts'
import { runs, uintOfBits } from './arbitraries.ts'

const params: RoundParams = { roundLength: 100n, submissionWindow: 20n, auditWindow: 50n, distributionWindow: 10n }
const START = 1_000n

test('roundAt / roundStart follow TaskManager._currentRound / _roundStart', () => {
  assert.equal(roundAt(START, 100n, START), 0n)
  assert.equal(roundAt(START, 100n, START + 99n), 0n)
  assert.equal(roundAt(START, 100n, START + 100n), 1n)
  assert.equal(roundStart(START, 100n, 3n), 1_300n)
  assert.throws(() => roundAt(START, 100n, START - 1n), (e) => isProtocolError(e, 'TIME_BEFORE_START'))
  assert.throws(() => roundAt(START, 0n, START), (e) => isProtocolError(e, 'INVALID_ROUND_PARAMS'))
})

test('cyclePhases: submit in round c+1, audit until its audit window ends, distribute from round c+2', () => {
  assert.deepEqual(cyclePhases(params, START, 3n), {
    cycle: 3n,
    workOpens: 1_300n,
    submissionOpens: 1_400n,
    submissionCloses: 1_420n,
    auditOpens: 1_420n,
    auditCloses: 1_450n,
    distributionOpens: 1_500n,
  })
})

test('phasesAt: which cycle is in which phase, with exclusive closing bounds', () => {
  const during = phasesAt(params, START, 1_410n)
  assert.equal(during.round, 4n)
  assert.equal(during.roundStart, 1_400n)
  assert.deepEqual(during.work, { cycle: 4n })
  assert.equal(during.submission?.cycle, 3n)
  assert.equal(during.submission?.submissionOpen, true)
  assert.equal(during.submission?.seedAvailable, false)
  assert.equal(during.submission?.auditOpen, false)
  assert.equal(during.distribution?.cycle, 2n)
  assert.equal(during.distribution?.attempt, 1n) // 1400 + 10: the first turn timed out

  const closed = phasesAt(params, START, 1_420n)
  assert.equal(closed.submission?.submissionOpen, false)
  assert.equal(closed.submission?.seedAvailable, true)
  assert.equal(closed.submission?.auditOpen, true)
  assert.equal(phasesAt(params, START, 1_449n).submission?.auditOpen, true)
  assert.equal(phasesAt(params, START, 1_450n).submission?.auditOpen, false)

  const first = phasesAt(params, START, START)
  assert.equal(first.submission, null)
  assert.equal(first.distribution, null)
  assert.equal(phasesAt(params, START, 1_150n).distribution, null)
  assert.equal(phasesAt(params, START, 1_200n).distribution?.cycle, 0n)
})

test('distributionAttemptAt: lazy attempts from the stored turn, fixed once posted', () => {
  assert.equal(distributionAttemptAt(params, START, 2n, 1_399n), 0n)
  assert.equal(distributionAttemptAt(params, START, 2n, 1_409n), 0n)
  assert.equal(distributionAttemptAt(params, START, 2n, 1_410n), 1n)
  const posted = { status: DistributionStatus.Posted, attempt: 2n, turnStart: 1_420n }
  assert.equal(distributionAttemptAt(params, START, 2n, 9_999n, posted), 2n)
  // An upheld challenge stored attempt 1 with a fresh turn at 1433.
  const rejected = { status: DistributionStatus.Pending, attempt: 1n, turnStart: 1_433n }
  assert.equal(distributionAttemptAt(params, START, 2n, 1_432n, rejected), 1n)
  assert.equal(distributionAttemptAt(params, START, 2n, 1_453n, rejected), 3n)
  assert.equal(distributionAttemptOpens(params, START, 2n, 3n), 1_430n)
  assert.equal(distributionAttemptOpens(params, START, 2n, 3n, rejected), 1_453n)
  assert.throws(
    () => distributionAttemptAt({ ...params, distributionWindow: 0n }, START, 2n, 1_400n),
    (e) => isProtocolError(e, 'INVALID_ROUND_PARAMS'),
  )
})

test('property: t lies in round roundAt(t), and phasesAt agrees with cyclePhases', () => {
  const timing = fc.record({
    roundLength: fc.bigInt({ min: 3n, max: 1n << 32n }),
    start: uintOfBits(40),
    offset: uintOfBits(48),
  })
  fc.assert(
    fc.property(timing, ({ roundLength, start, offset }) => {
      const p: RoundParams = {
        roundLength,
        submissionWindow: roundLength / 3n,
        auditWindow: roundLength / 2n,
        distributionWindow: roundLength / 3n,
      }
      const now = start + offset
      const round = roundAt(start, roundLength, now)
      assert.ok(roundStart(start, roundLength, round) <= now)
      assert.ok(now < roundStart(start, roundLength, round + 1n))
      const phases = phasesAt(p, start, now)
      if (phases.submission) {
        const c = cyclePhases(p, start, phases.submission.cycle)
        assert.ok(c.submissionOpens <= now && now < c.distributionOpens)
        assert.equal(phases.submission.submissionOpen, now < c.submissionCloses)
      }
      if (phases.distribution) {
        const attempt = phases.distribution.attempt
        const opens = distributionAttemptOpens(p, start, phases.distribution.cycle, attempt)
        assert.ok(opens <= now && now < opens + p.distributionWindow)
      }
    }),
    runs,
  )
})
