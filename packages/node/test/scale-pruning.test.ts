import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

import { createContentStore } from '@coop/sdk'
import { getAddress } from 'viem'

import { accumulateRoot, mayPrune, prunePass } from '../src/scale/pruning.ts'
import { RoundStore, isRoundStoreError } from '../src/scale/round-store.ts'
import { EMPTY_COMPACT_STATE, ScaleState } from '../src/scale/scale-state.ts'
import { openState } from '../src/state/store.ts'
import { payloadSizedLeaf, runPruneSeries } from './scale-prune-series.ts'

const rule = { retentionRounds: 5, unbondingRounds: 3 }

test('mayPrune: settled, retention passed, no open audit, past the penalty re-open horizon', () => {
  const base = { cycle: 10, currentRound: 20, settledSeenRound: 12, openAudits: 0, ...rule }
  assert.equal(mayPrune(base), true)
  assert.equal(mayPrune({ ...base, settledSeenRound: undefined }), false, 'not settled')
  assert.equal(mayPrune({ ...base, currentRound: 16 }), false, 'inside the retention window')
  assert.equal(mayPrune({ ...base, currentRound: 17 }), true, 'exactly retentionRounds after')
  assert.equal(mayPrune({ ...base, openAudits: 1 }), false, 'an audit is open')
  assert.equal(mayPrune({ ...base, reopened: true }), false, 're-opened by penalty scaling')
  assert.equal(mayPrune({ ...base, unbondingRounds: 10, currentRound: 20 }), false, 'a conviction could still re-open it')
  assert.equal(mayPrune({ ...base, unbondingRounds: 9, currentRound: 20 }), true)
  assert.equal(mayPrune({ ...base, retentionRounds: 0, settledSeenRound: 20 }), true)
})

test('a pruned round keeps root, digest, leaf count and compact state; its leaves are gone; audits block pruning', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'coop-scale-prune-'))
  const state = openState(join(dir, 'state.sqlite'))
  try {
    const content = createContentStore(join(dir, 'content'))
    const self = getAddress('0x1000000000000000000000000000000000000001')
    const rounds = new RoundStore({ state, content, self })
    const scale = new ScaleState(state)
    for (let cycle = 0; cycle < 3; cycle++) await rounds.buildOwnRound('1', cycle, Array.from({ length: 50 }, (_, i) => payloadSizedLeaf(cycle, i)))
    const before = rounds.getRound('1', 0)!
    const audits = new Map<number, number>([[1, 1]])
    const run = (currentRound: number) =>
      prunePass({ taskId: '1', state, rounds, scale, currentRound, ...rule, settlement: async (cycle) => ({ status: cycle + 2 <= currentRound ? 'final' : 'open', openAudits: audits.get(cycle) ?? 0 }) })
    assert.deepEqual((await run(2)).pruned, []) // cycle 0 seen final in round 2
    assert.equal(scale.compact('1').finalSeen['0'], 2)
    assert.deepEqual((await run(6)).pruned, []) // 2 + 5 > 6
    const report = await run(7)
    assert.deepEqual(report.pruned.map((p) => [p.cycle, p.leaves]), [[0, 50]])
    assert.ok(report.pruned[0]!.blocks >= 99 && report.pruned[0]!.bytes > 50 * 180)
    const after = rounds.getRound('1', 0)!
    assert.equal(after.status, 'pruned')
    assert.equal(after.root, before.root)
    assert.equal(after.digest, before.digest)
    assert.equal(after.leafCount, 50)
    await assert.rejects(rounds.proveLeaf('1', 0, 3), (error: unknown) => isRoundStoreError(error, 'LEAVES_PRUNED'))
    assert.equal((await rounds.proveLeaf('1', 2, 3)).index, 3, 'later rounds still answer')
    const compact = scale.compact('1')
    assert.equal(compact.roundsPruned, 1)
    assert.equal(compact.leavesPruned, 50)
    assert.equal(compact.prunedAccumulator, accumulateRoot(EMPTY_COMPACT_STATE.prunedAccumulator, 0, self, before.digest!))
    assert.equal(compact.finalSeen['0'], undefined)
    // Cycles 1 and 2 were first seen settled in round 6: due in round 11. Cycle 1 has an open
    // audit: it is kept past its retention and pruned once the audit resolves.
    assert.deepEqual((await run(10)).pruned, [])
    assert.deepEqual((await run(11)).pruned.map((p) => p.cycle), [2])
    assert.equal(rounds.getRound('1', 1)!.status, 'built')
    audits.delete(1)
    assert.deepEqual((await run(12)).pruned.map((p) => p.cycle), [1])
    assert.equal(scale.compact('1').roundsPruned, 3)
  } finally {
    state.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('disk use stays flat once past the retention window (measured over 24 rounds)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'coop-scale-disk-'))
  // Small rounds keep this test fast (one fsynced file per block); bench/scale-prune.ts runs big ones.
  const rounds = 24
  const leaves = 48
  const replicaLeaves = 12
  try {
    const run = await runPruneSeries({ dir, rounds, leaves, replicaLeaves, ...rule })
    run.close()
    const { series } = run
    console.log(`# round → data dir KiB (${leaves} own + ${replicaLeaves} replica leaves per round, retention ${rule.retentionRounds})`)
    console.log(`# ${series.map((e) => `${e.round}:${Math.round(e.bytes / 1024)}`).join(' ')}`)
    // Settled at c + 2, pruned retention rounds later and past the re-open horizon: at most
    // 2 + retention + 1 rounds are held at any time.
    // 2 + retention + 1 cycles are held at any time (two rounds each: own + replica).
    for (const entry of series.slice(10)) assert.ok(entry.heldRounds <= 2 * (2 + rule.retentionRounds + 1), `round ${entry.round} holds ${entry.heldRounds} rounds`)
    const reference = series[12]!.bytes
    const peak = Math.max(...series.slice(15).map((e) => e.bytes))
    assert.ok(peak <= reference * 1.15, `max over rounds 15..${rounds - 1} = ${peak} > 1.15 × ${reference} (round 12)`)
    // Without pruning the store would have grown ~linearly: the last size is far below that.
    const perRound = (series[7]!.bytes - series[0]!.bytes) / 7
    assert.ok(series[rounds - 1]!.bytes < series[0]!.bytes + perRound * (rounds - 1) * 0.4)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
