// The `scale` section of defineTask and the harness's SCALE rounds for a task whose leaves come
// from submission() (the ingest path is exercised by tasks/sensor-log's tests).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { inclusionProof, sampleLeafPositions, verifyInclusion } from '@coop/protocol'

import { type Address, SCALE_DEFAULTS, createHarness, defaultDistribution, defineTask, isSdkError, scaleSettings, sha256, shouldCheat, toHex } from '../src/index.ts'

const LEAVES = 24
const expected = (taskId: bigint, cycle: number, node: Address, i: number) => toHex(sha256(`scale-test|${taskId}|${cycle}|${node.toLowerCase()}|${i}`))

const hashes = defineTask({
  name: 'hashes',
  async submission(round, ctx) {
    // A cheater forges every other leaf.
    return Array.from({ length: LEAVES }, (_, i) => ({ i, h: shouldCheat(round, ctx) && i % 2 === 1 ? toHex(new Uint8Array(32)) : expected(round.taskId, round.cycle, ctx.address, i) }))
  },
  distribution: async (submitters, bounty) => defaultDistribution(submitters, bounty),
  scale: {
    samples: 6,
    async leafAudit(leaf, position, round, submitter) {
      const { i, h } = leaf as { i: number; h: string }
      if (i !== position) return { ok: false, reason: `leaf ${position} says it is ${i}` }
      return h === expected(round.taskId, round.cycle, submitter, i) ? { ok: true } : { ok: false, reason: `leaf ${position}: wrong hash` }
    },
  },
})

describe('defineTask scale section', () => {
  it('fills in the defaults and freezes the section', () => {
    assert.deepEqual(scaleSettings(hashes), { ingest: null, samples: 6, retentionRounds: SCALE_DEFAULTS.retentionRounds, replication: SCALE_DEFAULTS.replication })
    assert.ok(Object.isFrozen(hashes.scale))
    assert.equal(scaleSettings(defineTask({ name: 'plain', work: async () => {}, submission: async () => 1, audit: async () => ({ ok: true }), distribution: async () => [] })), null)
    const ingest = defineTask({ name: 'ingest', distribution: async () => [], scale: { ingest: {}, leafAudit: async () => ({ ok: true as const }) } })
    assert.deepEqual(scaleSettings(ingest)?.ingest, { maxPayloadBytes: SCALE_DEFAULTS.maxPayloadBytes, accept: false, leaves: false })
  })

  it('lists every problem of a bad section', () => {
    const problems = (definition: unknown): string[] => {
      try {
        defineTask(definition as never)
        return []
      } catch (error) {
        assert.ok(isSdkError(error, 'INVALID_TASK'))
        return (error.details.problems as string[]) ?? []
      }
    }
    assert.deepEqual(problems({ name: 'x', distribution: async () => [], scale: null }), ['scale must be an object'])
    const bad = problems({ name: 'x', distribution: async () => [], audit: 3, scale: { leafAudit: async () => ({ ok: true }), replication: 0, retentionRounds: -1, sampels: 4, ingest: { leaves: 'no', extra: 1 } } })
    for (const expectedProblem of [
      'scale.sampels is not a SCALE setting (known: ingest, leafAudit, samples, retentionRounds, replication)',
      'scale.replication must be an integer in [1, 64]',
      'scale.retentionRounds must be an integer in [0, 100000]',
      'scale.ingest.extra is not an ingest setting (known: maxPayloadBytes, accept, leaves)',
      'scale.ingest.leaves must be a function when present',
      'audit must be a function when present',
    ]) {
      assert.ok(bad.includes(expectedProblem), `${expectedProblem} in ${JSON.stringify(bad)}`)
    }
    assert.deepEqual(problems({ name: 'x', scale: { leafAudit: async () => ({ ok: true }), ingest: {} } }), ['distribution must be a function'])
  })
})

describe('harness SCALE rounds', () => {
  it('round DAG roots are the submissions; fishermen sample with sampleLeafPositions, verify proofs, run leafAudit; a forger is caught', async () => {
    const harness = createHarness(hashes, { nodes: 4, rounds: 4, behaviours: { 2: { mode: 'cheater', cheatFromRound: 2 } } })
    const cheater = harness.nodes[2]!.address
    const report = await harness.run()
    assert.deepEqual(report.falselyFlagged, [])
    assert.deepEqual(report.caught, [cheater])
    for (const cycle of report.cycles) {
      assert.deepEqual(cycle.errors, [])
      for (const submission of cycle.submissions) {
        const dag = submission.dag!
        assert.equal(dag.size, LEAVES)
        assert.equal(submission.root.digest, dag.digest)
        // The submitter's blocks are in its store (its routes could serve them).
        assert.ok(harness.node(submission.node).store.blocks.has(dag.root))
      }
      for (const audit of cycle.audits) {
        assert.deepEqual(audit.positions, sampleLeafPositions(cycle.seed, audit.submitter, LEAVES, 6))
      }
    }
    const c2 = report.cycles[2]!
    const failed = c2.audits.find((a) => a.submitter === cheater && a.verdict?.ok === false)
    assert.match(failed!.verdict!.ok === false ? failed!.verdict!.reason : '', /wrong hash/)
    // Every leaf of every DAG proves against its root.
    const dag = c2.submissions[0]!.dag!
    for (let i = 0; i < dag.size; i++) {
      const proof = inclusionProof(dag, i)
      assert.ok(verifyInclusion(dag.root, i, dag.blocks.get(proof.leafCid)!, proof))
    }
  })
})
