// A wrong distribution list is challenged: an in-process node and a scripted second submitter
// (the test, holding almost all stake, so the draw picks it) that posts a list paying only itself.
// The node fetches/recomputes the list, challenges it with evidence, the challenge is upheld and
// the poster slashed and its list voided.
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { after, before, test } from 'node:test'

import { approveErc20, coopActions, createCoopClient, createCoopTestClient, getChainTime, mine, taskManagerAbi, transferErc20, type CoopActions } from '@coop/chain'
import { buildDistribution, cyclePhases } from '@coop/protocol'
import { bundleTask } from '@coop/sdk'
import { keccak256, maxUint256, parseEventLogs, parseUnits, zeroHash, type Address } from 'viem'
import { getLogs } from 'viem/actions'

import { digestOfCid, startNode, type CoopNode } from '../src/index.ts'
import { createTestTask, logFile, startTestChain, waitFor, type TestChain } from './helpers.ts'

let chain: TestChain
let node: CoopNode | undefined

before(async () => {
  chain = await startTestChain(2)
})
after(async () => {
  await node?.stop()
  await chain?.stop()
})

test('a list that pays only its poster is challenged, upheld, and the poster slashed', { timeout: 90_000 }, async () => {
  const bundle = await bundleTask(resolve(import.meta.dirname, '../../../tasks/compute/index.ts'))
  const bundlePath = join(chain.dir, 'compute.mjs')
  writeFileSync(bundlePath, bundle.code)
  const task = await createTestTask(chain, {
    programCid: digestOfCid(bundle.cid),
    roundLength: 6n,
    submissionWindow: 2n,
    auditWindow: 3n,
    voteWindow: 2n,
    distributionWindow: 3n,
    distributionAuditWindow: 3n,
    // Nobody is sampled: this test is about the distribution, not submission audits.
    duesRounds: 0,
    auditDecay: 0,
    auditFloorBps: 0,
    rounds: 3,
  })
  const taskId = task.taskId

  // The scripted poster: a huge stake, so the draw all but surely selects it.
  const fake = chain.nodes[1]!
  const fakeClient = createCoopClient({ rpcUrl: chain.anvil.rpcUrl, account: fake.privateKey })
  const fakeCoop: CoopActions = fakeClient.extend(coopActions(chain.addresses))
  await transferErc20(chain.creator, { address: chain.addresses.coopToken, to: fake.address, amount: parseUnits('1000000', 18) })
  await approveErc20(fakeClient, { address: chain.addresses.coopToken, spender: chain.addresses.taskManager, amount: maxUint256 })
  await fakeCoop.stake({ taskId, amount: parseUnits('1000000', 18) })
  await fakeCoop.registerNode({ p2pAddress: '/ip4/127.0.0.1/tcp/9/p2p/12D3KooWSfrdC2eVGD9URZot2UGgbX6izh4dBjCx8wCyu7fJLARG' })

  node = await startNode(
    {
      name: 'checker',
      rpcUrl: chain.anvil.rpcUrl,
      privateKey: chain.nodes[0]!.privateKey,
      taskManager: chain.addresses.taskManager,
      taskLens: chain.addresses.taskLens,
      tasks: [{ taskId: taskId.toString(), program: bundlePath, config: { inputsPerCycle: 4, iterations: 10 } }],
      dataDir: join(chain.dir, 'checker'),
      p2p: { listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [] },
      http: { host: '127.0.0.1', port: 0 },
      pollIntervalMs: 200,
      logLevel: 'debug',
    },
    { logDestination: logFile(chain.dir, 'checker'), api: false },
  )
  await node.ready()

  const phases = cyclePhases(task.params, task.startTime, 0n)
  const now = async () => {
    const block = await getChainTime(chain.creator)
    const wall = BigInt(Math.floor(Date.now() / 1000))
    return block > wall ? block : wall
  }
  await waitFor('the submission window of cycle 0', async () => (await now()) >= phases.submissionOpens, 20_000, 100)
  // @coop/chain actions simulate against the latest block: mine one so it carries the wall clock.
  const testClient = createCoopTestClient({ rpcUrl: chain.anvil.rpcUrl })
  await mine(testClient)
  await fakeCoop.submit({ taskId, cycle: 0n, root: keccak256('0x0f') })
  await waitFor('the node to submit cycle 0', async () => BigInt((await chain.coop.getSubmission({ taskId, cycle: 0n, node: node!.address })).root) !== 0n, 10_000)

  await waitFor('distribution of cycle 0 to open', async () => (await now()) >= phases.distributionOpens, 20_000, 100)
  await mine(testClient)
  const selected = await fakeCoop.selectedDistributor({ taskId, cycle: 0n, attempt: 0n })
  assert.equal(selected.node, fake.address, 'the stake-weighted draw picks the scripted poster')
  const state = await chain.coop.getCycle({ taskId, cycle: 0n })
  const wrong = buildDistribution({ taskId, cycle: 0n, entries: [{ node: fake.address, reward: state.budget, bonus: 0n }] })
  await fakeCoop.postDistribution({
    taskId,
    cycle: 0n,
    submitterIndex: selected.index,
    merkleRoot: wrong.root,
    listCid: keccak256('0x1157'),
    rewardTotal: wrong.totalReward,
    bonusTotal: 0n,
    scaleHead: zeroHash, // a task without SCALE rounds anchors no head
  })

  const challenged = await waitFor(
    'the node to challenge the list',
    () => node!.state.listIntents({ taskId: taskId.toString(), kind: 'challenge', status: ['confirmed'] })[0],
    10_000,
  )
  assert.equal(challenged.cycle, 0)
  assert.ok(typeof challenged.payload.evidence === 'string')
  const evidence = (await node.content.get(challenged.payload.evidence as string)) as { type: string; postedRoot: string; recomputedRoot: string }
  assert.equal(evidence.type, 'coop/evidence/distribution/1')
  assert.equal(evidence.postedRoot, wrong.root)
  assert.notEqual(evidence.recomputedRoot, wrong.root)

  await waitFor('the challenge to be resolved', async () => {
    const logs = parseEventLogs({ abi: taskManagerAbi, logs: await getLogs(chain.creator, { address: chain.addresses.taskManager, fromBlock: 0n, toBlock: 'latest' }) })
    return logs.some((log) => log.eventName === 'DistributionRejected') ? logs : undefined
  }, 15_000)
  const logs = parseEventLogs({ abi: taskManagerAbi, logs: await getLogs(chain.creator, { address: chain.addresses.taskManager, fromBlock: 0n, toBlock: 'latest' }) })
  const raised = logs.find((log) => log.eventName === 'AuditRaised')
  assert.equal((raised?.args as { kind: number; accuser: Address }).kind, 1)
  assert.equal((raised?.args as { accuser: Address }).accuser, node.address)
  assert.ok(logs.some((log) => log.eventName === 'AuditResolved' && (log.args as { upheld: boolean }).upheld))
  const slashed = logs.filter((log) => log.eventName === 'Slashed').map((log) => (log.args as { node: Address }).node)
  assert.deepEqual(slashed, [fake.address])
  assert.equal((await chain.coop.getSubmission({ taskId, cycle: 0n, node: fake.address })).convicted, true)
})
