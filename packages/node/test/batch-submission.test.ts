// Batched submissions through the node (issue 4): four in-process nodes on anvil with real p2p;
// node-1 submits directly and is the batcher, nodes 2–4 are configured with
// submission: { via: 'batcher', batcher: node-1 } and hand their signed submissions over
// /coop/scale/batch/1. The contract records them from one submitBatch per cycle; an audit of a
// batched node is raised (after materializing it), voted on by the running nodes, resolved; a
// batched cheater (node-4, from round 2) is sampled and convicted by the auditor role; the batched
// nodes are in the distribution lists and claim their rewards.
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { after, before, test } from 'node:test'

import { approveErc20, coopActions, createCoopClient, createCoopTestClient, mine, taskManagerAbi, type CoopActions } from '@coop/chain'
import { keccak256, maxUint256, stringToHex } from 'viem'

import type { CoopNode, NodeConfig } from '../src/index.ts'
import { createTestTask, startTestChain, waitFor, type TestChain } from './helpers.ts'
import { bundleTaskInto, NETWORK_WINDOWS, nodeConfig, startNodes, stopNetwork } from './network-helpers.ts'

const ROUND = 8n
let chain: TestChain
const nodes: CoopNode[] = []

before(async () => {
  chain = await startTestChain(5)
})

after(() => stopNetwork(chain, { nodes }))

test('3 nodes submit through one batcher; the contract records them; batched nodes are audited (by hand and by the auditor role: a batched cheater is convicted) and paid', { timeout: 170_000 }, async () => {
  const { programCid, bundlePath } = await bundleTaskInto(chain, resolve(import.meta.dirname, '../../../tasks/compute/index.ts'), 'compute.mjs')
  const task = await createTestTask(chain, {
    ...NETWORK_WINDOWS,
    programCid,
    roundLength: ROUND,
    submissionWindow: 4n,
    voteWindow: 3n,
    duesRounds: 3,
    auditorsPerSample: 2,
    rounds: 6,
  })
  const taskId = task.taskId
  const batcherAddress = chain.nodes[0]!.address
  const configOf = (index: number, bootstrap: string[]): NodeConfig =>
    nodeConfig(chain, index, {
      tasks: [{ taskId: taskId.toString(), config: { inputsPerCycle: 8, iterations: 100, auditSample: 2 }, ...(index === 0 ? { program: bundlePath } : {}) }],
      bootstrap,
      ...(index === 0 ? {} : { submission: { via: 'batcher' as const, batcher: batcherAddress } }),
      // node-4 submits through the batcher too, and forges its work from round 2.
      ...(index === 3 ? { behaviour: { mode: 'cheater' as const, cheatFromRound: 2 } } : {}),
    })
  const [first] = (await startNodes(chain, 4, configOf, nodes)) as [CoopNode]
  const batched = nodes.slice(1)

  // The contract records the three batched nodes from a batch (one transaction for all of them).
  const recorded = await waitFor(
    'a cycle whose batch holds nodes 2–4',
    async () => {
      for (const cycle of [0n, 1n, 2n]) {
        const batches = await first.chain.coop.getBatchEntries({ taskId, cycle })
        const inBatches = new Set(batches.flatMap((batch) => batch.entries.map((entry) => entry.node.toLowerCase())))
        if (batched.every((node) => inBatches.has(node.address.toLowerCase()))) return { cycle, batches }
      }
      return undefined
    },
    Number(ROUND) * 1000 * 4,
  )
  const { cycle } = recorded
  assert.ok(recorded.batches.some((batch) => batch.entries.length >= 2), 'several nodes share a batch transaction')
  for (const node of nodes) {
    assert.equal(
      await chain.creator.readContract({ abi: taskManagerAbi, address: chain.addresses.taskManager, functionName: 'hasSubmittedInCycle', args: [taskId, cycle, node.address] }),
      true,
      `${node.name} submitted for cycle ${cycle}`,
    )
  }
  const direct = (await chain.coop.getCycle({ taskId, cycle })).submitters
  assert.deepEqual(direct, [first.address], 'only the batcher submitted directly')

  // An audit of a batched node: a fifth staked account (no node running) materializes node-2's
  // entry from its proof and raises an audit; the running nodes check the submission and vote.
  const accuser = chain.nodes[4]!
  const accuserClient = createCoopClient({ rpcUrl: chain.anvil.rpcUrl, account: accuser.privateKey })
  const coop: CoopActions = accuserClient.extend(coopActions(chain.addresses))
  await approveErc20(accuserClient, { address: chain.addresses.coopToken, spender: chain.addresses.taskManager, amount: maxUint256 })
  await coop.stake({ taskId, amount: task.params.minStake * 2n })
  await coop.registerNode({ p2pAddress: '/ip4/127.0.0.1/tcp/9/p2p/accuser-without-a-node' })
  const accused = batched[0]!
  const auditOpens = task.startTime + (cycle + 1n) * ROUND + task.params.submissionWindow
  await waitFor('the audit window of the cycle', async () => (await first.chain.now()) >= auditOpens, Number(ROUND) * 1000 * 2)
  await mine(createCoopTestClient({ rpcUrl: chain.anvil.rpcUrl })) // a block at that time, so calls see it
  const proof = await coop.buildMaterializeProof({ taskId, cycle, node: accused.address })
  assert.ok(proof, 'the accused is in a batch')
  await coop.materializeSubmission({ taskId, cycle, ...proof })
  const submission = await coop.getSubmission({ taskId, cycle, node: accused.address })
  assert.equal(submission.batched, true)
  const { auditId, deadline } = await coop.raiseAudit({ taskId, cycle, accused: accused.address, evidenceCid: keccak256(stringToHex('no real evidence')) })
  const audit = await waitFor(
    'the audit resolved',
    async () => {
      const state = await coop.getAudit({ auditId })
      if (state.resolved) return state
      // The running nodes resolve it after the deadline; nudge it ourselves if they have not yet.
      if ((await first.chain.now()) >= deadline + 3n) await coop.resolveAudit({ auditId }).catch(() => undefined)
      return undefined
    },
    Number(ROUND) * 1000 * 2,
  )
  assert.equal(audit.upheld, false, 'the honest batched node is cleared by the running nodes\' votes')
  assert.ok(audit.rejectWeight > 0n, 'running nodes checked the batched submission and voted')
  assert.equal((await coop.getSubmission({ taskId, cycle, node: accused.address })).convicted, false)

  // The auditors (node role) sample batched entries by the protocol's twins, materialize the
  // cheater's forged batched submission and get it convicted.
  const cheater = batched[2]!
  const convicted = await waitFor(
    'the batched cheater convicted',
    async () => {
      for (const c of [2n, 3n, 4n]) {
        const s = await chain.coop.getSubmission({ taskId, cycle: c, node: cheater.address })
        if (s.convicted) return { cycle: c, submission: s }
      }
      return undefined
    },
    Number(ROUND) * 1000 * 6,
  )
  assert.equal(convicted.submission.batched, true, 'the convicted submission came from a batch')

  // Batched nodes are in the lists and claim the cycle.
  await waitFor(
    `batched nodes to claim cycle ${cycle}`,
    async () => {
      for (const node of batched) {
        const claimed = await chain.creator.readContract({ abi: taskManagerAbi, address: chain.addresses.taskManager, functionName: 'claimed', args: [taskId, cycle, node.address] })
        if (!claimed) return false
      }
      return true
    },
    Number(ROUND) * 1000 * 6,
  )
})
