// The devnet demo end to end (silently): the scripted 3-cycle run must pass its own checks.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { formatNodeTable, runDevnetDemo } from '../src/cli/scenario.ts'
import { liveAnvilCount } from '../src/index.ts'

test('devnet demo: 3 cycles, one cheater slashed, every node claims in one call, anvil stopped', async () => {
  const lines: string[] = []
  const summary = await runDevnetDemo({ log: (line) => lines.push(line) })
  assert.deepEqual(summary.checks, { rewardConserved: true, everyNodeClaimed: true, cheaterConvicted: true })
  assert.equal(summary.cycles.length, 3)
  const cheater = summary.nodes.find((node) => node.name === 'node-3')!
  assert.equal(cheater.slashed, '200')
  assert.deepEqual([cheater.passed, cheater.failed], [2, 1])
  assert.deepEqual(cheater.claimedCycles, [0, 2])
  for (const node of summary.nodes.filter((n) => n !== cheater)) {
    assert.deepEqual(node.claimedCycles, [0, 1, 2])
    assert.deepEqual([node.passed, node.failed, node.score], [3, 0, 3])
  }
  const audit = summary.cycles[1]!.audits[0]!
  assert.equal(audit.accused, 'node-3')
  assert.equal(audit.upheld, true)
  for (const cycle of summary.cycles) assert.equal(cycle.distribution?.status, 'Final')
  assert.ok(lines.some((line) => line.includes('UPHELD')))
  assert.match(formatNodeTable(summary.nodes), /node-3 +800 +2 +1 +1/)
  assert.equal(liveAnvilCount(), 0)
  assert.doesNotThrow(() => JSON.stringify(summary))
})
