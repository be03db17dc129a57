// Fisherman audits end to end: three node processes (src/main.ts) on anvil run a SCALE task (the
// fixture in ./fixtures/scale-task.ts, 24 leaves per round, 4 sampled) with 10 s rounds.
// node-3 cheats twice:
//   - it discards the leaves of its (honest) cycle-1 round once that cycle's audit window is over
//     (the test deletes the leaf blocks from its block store: only the interior blocks stay), so it
//     can no longer answer for that round;
//   - from cycle 2 it forges every leaf.
// The fisherman audit of cycle 2 catches the forgery (signed answer + failed leafAudit), the audit
// is upheld and the cheater convicted; the conviction re-opens its past rounds, and the re-opened
// audit of cycle 1 finds no answer: raised with the signed unanswered request as evidence, voters
// try themselves, upheld. The honest nodes are never accused, slashed or convicted.
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

import { taskManagerAbi } from '@coop/chain'
import { buildRoundDag } from '@coop/protocol'
import { parseEventLogs, type Address } from 'viem'
import { getLogs } from 'viem/actions'

import { honestLeaves } from './fixtures/scale-task.ts'
import { startTestChain, waitFor, type TestChain } from './helpers.ts'
import { createScaleFixtureTask, nodeConfig, SCALE_LEAVES, SCALE_ROUND, spawnNodeProcess, stopNetwork } from './network-helpers.ts'

const ROUND = SCALE_ROUND
const LEAVES = SCALE_LEAVES
const DISCARDED = 1
const CHEAT_FROM = 2

let chain: TestChain
const children: ChildProcess[] = []

before(async () => {
  chain = await startTestChain(3)
})
after(() => stopNetwork(chain, { children }))

test('a forging SCALE node is caught by a fisherman audit, convicted, and its discarded past round is audited and convicted too', { timeout: 150_000 }, async () => {
  // unbondingRounds 4 (not the minimum 3): should load push the conviction to cycle 3, cycle 1 is still inside the horizon.
  const task = await createScaleFixtureTask(chain, { unbondingRounds: 4, rounds: 6 })
  const taskId = task.taskId
  const names = ['node-1', 'node-2', 'node-3']
  const dataDirs = names.map((name) => join(chain.dir, name))
  const spawnNode = (index: number, bootstrap: string[]) =>
    spawnNodeProcess(
      chain,
      nodeConfig(chain, index, {
        tasks: [task.taskConfig],
        bootstrap,
        ...(index === 2 ? { behaviour: { mode: 'cheater' as const, cheatFromRound: CHEAT_FROM } } : {}),
      }),
      children,
    )
  // Nodes find each other through the on-chain registry (registerNode), so no bootstrap is needed.
  for (let index = 0; index < 3; index++) spawnNode(index, [])
  const [honestA, honestB, cheater] = chain.nodes.map((node) => node.address) as [Address, Address, Address]
  const submission = (cycle: number, node: Address) => chain.coop.getSubmission({ taskId, cycle: BigInt(cycle), node })

  // The cheater "discards" its cycle-1 leaves once that cycle's audit window (and votes) are over.
  const cycle1Closed = task.startTime + (BigInt(DISCARDED) + 1n) * ROUND + 5n + 5n
  await waitFor('cycle 1 submitted by everyone', async () => {
    for (const node of [honestA, honestB, cheater]) if (BigInt((await submission(DISCARDED, node)).root) === 0n) return false
    return true
  }, Number(ROUND) * 4_000)
  await waitFor('cycle 1 audit window and votes over', async () => BigInt(Math.floor(Date.now() / 1000)) >= cycle1Closed, Number(ROUND) * 3_000, 200)
  assert.equal((await submission(DISCARDED, cheater)).convicted, false, 'cycle 1 was honest work and passed its own audit')
  const dag = buildRoundDag(honestLeaves(taskId, DISCARDED, cheater, LEAVES))
  assert.equal(dag.digest, (await submission(DISCARDED, cheater)).root, 'the test knows the cheater\'s cycle-1 leaves')
  for (const cid of dag.leafCids) rmSync(join(dataDirs[2]!, 'content', 'blocks', cid.slice(-2), cid), { force: true })

  // The forged cycle (2, or 3 should a busy machine make the first audit miss its window) is convicted.
  const forgedCycle = await waitFor('the forged round convicted', async () => {
    for (let cycle = CHEAT_FROM; cycle <= CHEAT_FROM + 1; cycle++) if ((await submission(cycle, cheater)).convicted) return cycle
    return undefined
  }, Number(ROUND) * 4_000)
  // Penalty scaling: the discarded past round is audited after the conviction, and convicted.
  await waitFor('the discarded past round convicted', async () => (await submission(DISCARDED, cheater)).convicted, Number(ROUND) * 3_000)

  const logs = parseEventLogs({ abi: taskManagerAbi, logs: await getLogs(chain.creator, { address: chain.addresses.taskManager, fromBlock: 0n, toBlock: 'latest' }) })
  const raised = logs.filter((log) => log.eventName === 'AuditRaised').map((log) => log.args as { auditId: bigint; cycle: bigint; accused: Address; accuser: Address; deadline: bigint })
  const resolved = new Map(logs.filter((log) => log.eventName === 'AuditResolved').map((log) => [(log.args as { auditId: bigint }).auditId, log.args as { upheld: boolean }]))
  const reopenedAt = logs.filter((log) => log.eventName === 'PastRoundsReopened' && (log.args as { node: Address }).node === cheater).map((log) => log.blockNumber)
  assert.ok(reopenedAt.length >= 1, 'the conviction re-opened the cheater\'s past rounds')
  const pastAudit = raised.find((audit) => audit.cycle === BigInt(DISCARDED) && audit.accused === cheater)
  assert.ok(pastAudit, 'an audit was raised on the past cycle')
  assert.ok(pastAudit.cycle < BigInt(forgedCycle))
  // It was raised after the round's own audit window, which only the re-opening allows.
  const pastRaisedBlock = logs.find((log) => log.eventName === 'AuditRaised' && (log.args as { auditId: bigint }).auditId === pastAudit.auditId)!.blockNumber
  assert.ok(pastRaisedBlock > reopenedAt[0]!, 'raised after the re-opening')
  assert.equal(resolved.get(pastAudit.auditId)?.upheld, true)
  // No honest node was ever accused; every audit resolved so far was upheld (no false accusation).
  for (const audit of raised) assert.equal(audit.accused, cheater, `audit ${audit.auditId} accuses the cheater only`)
  for (const [auditId, outcome] of resolved) assert.equal(outcome.upheld, true, `audit ${auditId} upheld`)
  const slashed = logs.filter((log) => log.eventName === 'Slashed').map((log) => (log.args as { node: Address }).node)
  assert.ok(slashed.filter((node) => node === cheater).length >= 2, 'the cheater was slashed for both rounds')
  for (const node of [honestA, honestB]) {
    assert.ok(!slashed.includes(node), `${node} was never slashed`)
    assert.equal((await chain.coop.getNode({ taskId, node })).failed, 0)
    for (let cycle = 0; cycle <= forgedCycle; cycle++) assert.equal((await submission(cycle, node)).convicted, false)
  }
  // The honest cycle 0 of the cheater stays unconvicted: re-opened audits only convict real faults.
  assert.equal((await submission(0, cheater)).convicted, false)
})
