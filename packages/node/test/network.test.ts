// Three in-process nodes on a real anvil, real p2p (127.0.0.1) and the real compute task in its
// sandbox, with 8 s rounds of wall-clock time: one node forges its work from cycle 2. Its forged
// submission is audited and convicted on-chain, honest nodes are never slashed, and every honest
// node claims its rewards of every cycle.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { after, before, test } from 'node:test'

import { DistributionStatus, taskManagerAbi } from '@coop/chain'
import { parseEventLogs, type Address } from 'viem'
import { getLogs } from 'viem/actions'

import type { CoopNode, NodeConfig } from '../src/index.ts'
import { createTestTask, startTestChain, waitFor, type TestChain } from './helpers.ts'
import { bundleTaskInto, NETWORK_WINDOWS, nodeConfig, startNodes, stopNetwork } from './network-helpers.ts'

const ROUND = 8n
const CYCLES = 4
const CHEAT_FROM = 2

let chain: TestChain
const nodes: CoopNode[] = []

before(async () => {
  chain = await startTestChain(3)
})

after(() => stopNetwork(chain, { nodes }))

test('3 nodes, one cheater from cycle 2: audited, convicted, honest nodes paid and never slashed', { timeout: 150_000 }, async () => {
  const { programCid, bundlePath } = await bundleTaskInto(chain, resolve(import.meta.dirname, '../../../tasks/compute/index.ts'), 'compute.mjs')
  const task = await createTestTask(chain, {
    ...NETWORK_WINDOWS,
    programCid,
    roundLength: ROUND,
    voteWindow: 3n,
    duesRounds: 3,
    auditorsPerSample: 2,
    rounds: CYCLES,
  })
  const taskConfig = { inputsPerCycle: 16, iterations: 200, auditSample: 4 }
  const configOf = (index: number, bootstrap: string[]): NodeConfig =>
    nodeConfig(chain, index, {
      // Only node-1 has the bundle; the others fetch the program from it over block/1.0.0.
      tasks: [{ taskId: task.taskId.toString(), config: taskConfig, ...(index === 0 ? { program: bundlePath } : {}) }],
      bootstrap,
      ...(index === 2 ? { behaviour: { mode: 'cheater' as const, cheatFromRound: CHEAT_FROM } } : {}),
    })
  const [first] = (await startNodes(chain, 3, configOf, nodes)) as [CoopNode]
  for (const node of nodes) assert.equal(node.tasks.get(task.taskId.toString())?.status, 'running', `${node.name} runs the task`)
  const [honestA, honestB, cheater] = nodes as [CoopNode, CoopNode, CoopNode]
  const honest = [honestA, honestB]
  const taskId = task.taskId

  // The API is up and the port file written.
  const port = Number(readFileSync(join(chain.dir, 'node-1', 'http.port'), 'utf8'))
  assert.equal(port, first.api?.port)
  const status = (await (await fetch(`http://127.0.0.1:${port}/api/status`)).json()) as { address: string }
  assert.equal(status.address.toLowerCase(), first.address.toLowerCase())

  // The cheater's forged submission (cycle 2, or 3 should a busy machine make the first audit
  // miss its window) is convicted on-chain.
  const convictedCycle = await waitFor(
    'the cheater convicted',
    async () => {
      for (let cycle = CHEAT_FROM; cycle < CYCLES; cycle++) {
        if ((await chain.coop.getSubmission({ taskId, cycle: BigInt(cycle), node: cheater.address })).convicted) return cycle
      }
      return undefined
    },
    Number(ROUND) * 1000 * (CYCLES + 2),
  )
  for (let cycle = 0; cycle < CHEAT_FROM; cycle++) {
    assert.equal((await chain.coop.getSubmission({ taskId, cycle: BigInt(cycle), node: cheater.address })).convicted, false, `cycle ${cycle} was honest work`)
  }
  assert.ok(convictedCycle >= CHEAT_FROM)
  // Every honest node claims every cycle.
  await waitFor(
    'honest nodes to claim cycles 0..3',
    async () => {
      for (const node of honest) {
        for (let cycle = 0; cycle < CYCLES; cycle++) {
          const claimed = await chain.creator.readContract({ abi: taskManagerAbi, address: chain.addresses.taskManager, functionName: 'claimed', args: [taskId, BigInt(cycle), node.address] })
          if (!claimed) return false
        }
      }
      return true
    },
    Number(ROUND) * 1000 * (CYCLES + 4),
  )

  const logs = parseEventLogs({
    abi: taskManagerAbi,
    logs: await getLogs(chain.creator, { address: chain.addresses.taskManager, fromBlock: 0n, toBlock: 'latest' }),
  })
  const slashed = logs.filter((log) => log.eventName === 'Slashed').map((log) => (log.args as { node: Address }).node.toLowerCase())
  assert.ok(slashed.includes(cheater.address.toLowerCase()), 'the cheater was slashed')
  for (const node of honest) assert.ok(!slashed.includes(node.address.toLowerCase()), `${node.name} was never slashed`)
  const stakedBy = (node: CoopNode) => logs.filter((log) => log.eventName === 'Staked' && (log.args as { node: Address }).node === node.address).length
  for (const node of honest) assert.equal(stakedBy(node), 1, `${node.name} staked once`)
  const convictions = logs.filter((log) => log.eventName === 'Slashed' && (log.args as { node: Address }).node === cheater.address).length
  assert.equal(stakedBy(cheater), 1 + convictions, 'the cheater topped its stake up once after each slash')
  const resolved = logs.filter((log) => log.eventName === 'AuditResolved')
  assert.ok(resolved.length >= 1 && resolved.every((log) => (log.args as { upheld: boolean }).upheld), 'every audit upheld (no false accusation)')
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const state = await chain.coop.getCycle({ taskId, cycle: BigInt(cycle) })
    assert.equal(state.status, DistributionStatus.Final, `cycle ${cycle} final`)
  }
  // Cycles 0 and 1: the cheater was still honest, so it was paid too; from cycle 2 it was not.
  for (const node of honest) {
    const info = await chain.coop.getNode({ taskId, node: node.address })
    assert.equal(info.failed, 0)
    const rewards = node.rewards(taskId)
    assert.ok(rewards.filter((entry) => entry.claimed).length >= CYCLES, `${node.name} holds its lists and claimed`)
  }
  const intents = honestA.state.listIntents({ taskId: taskId.toString(), kind: 'claim', status: ['confirmed'] })
  assert.ok(intents.length >= 1)
  for (const node of nodes) {
    const metrics = await node.metrics.metrics()
    assert.match(metrics, /coop_submissions_total/)
  }
})
