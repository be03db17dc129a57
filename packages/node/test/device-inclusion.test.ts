// Devices without wallets end to end on a real anvil: two in-process nodes run the sensor-log task
// (bundled, sandboxed); an ed25519 and a secp256k1 device post readings over HTTP and keep the
// node-signed receipts; once the nodes submitted the round, @coop/device's verifyInclusion proves
// each payload under the honest node's on-chain root (and, once the distribution is final, under the
// anchored SCALE head), and catches the node that forges its DAG
// (cheater mode: its first acknowledged payload replaced by a forgery). Also `coop device verify`.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'

import { createDevice, verifyInclusion, type DeviceReceipt } from '@coop/device'
import { keccak256, stringToHex } from 'viem'

import type { CoopNode, NodeConfig } from '../src/index.ts'
import { createTestTask, startTestChain, waitFor, type TestChain } from './helpers.ts'
import { bundleTaskInto, NETWORK_WINDOWS, nodeConfig, startNodes, stopNetwork } from './network-helpers.ts'

const ROUND = 8n
let chain: TestChain
const nodes: CoopNode[] = []

before(async () => {
  chain = await startTestChain(2)
})

after(() => stopNetwork(chain, { nodes }))

test('device receipts: inclusion proven under the honest node\'s on-chain root and the anchored SCALE head, refuted for a forging node', { timeout: 240_000 }, async () => {
  const { programCid, bundlePath } = await bundleTaskInto(chain, resolve(import.meta.dirname, '../../../tasks/sensor-log/index.ts'), 'sensor-log.mjs')
  const task = await createTestTask(chain, { ...NETWORK_WINDOWS, programCid, roundLength: ROUND, voteWindow: 3n, rounds: 12 })
  const taskId = task.taskId.toString()
  const configOf = (index: number, bootstrap: string[]): NodeConfig =>
    nodeConfig(chain, index, {
      tasks: [{ taskId, program: bundlePath }],
      bootstrap,
      // node-2 forges its round DAGs from the start.
      ...(index === 1 ? { behaviour: { mode: 'cheater' as const, cheatFromRound: 0 } } : {}),
    })
  const [honest, cheater] = (await startNodes(chain, 2, configOf, nodes)) as [CoopNode, CoopNode]
  for (const node of nodes) assert.equal(node.tasks.get(taskId)?.status, 'running', `${node.name} runs the task`)
  const urlOf = (node: CoopNode) => node.api!.url

  // Two wallet-less devices post a plausible reading to each node, early enough in a round.
  const devices = [
    createDevice({ scheme: 'ed25519', privateKey: keccak256(stringToHex('coop.test.device.0')) }),
    createDevice({ scheme: 'secp256k1', privateKey: keccak256(stringToHex('coop.test.device.1')) }),
  ]
  const now = () => BigInt(Math.floor(Date.now() / 1000))
  while ((now() - task.startTime) % ROUND > ROUND - 4n) await new Promise((r) => setTimeout(r, 250))
  const receipts: { node: CoopNode; receipt: DeviceReceipt }[] = []
  for (const node of nodes) {
    for (const [index, device] of devices.entries()) {
      const t = Number(now())
      const { receipt } = await device.send(urlOf(node), taskId, { sensor: `d${index}`, t, temp: 20 + index, humidity: 45 })
      receipts.push({ node, receipt })
    }
  }
  const cycle = receipts[0]!.receipt.round
  assert.ok(receipts.every(({ receipt }) => receipt.round === cycle), 'all readings in one round')
  assert.deepEqual(receipts.filter((r) => r.node === honest).map((r) => r.receipt.position), [0, 1])
  const options = (node: CoopNode) => ({ nodeUrl: urlOf(node), rpcUrl: chain.anvil.rpcUrl, taskManager: chain.addresses.taskManager })

  // Before the node built and submitted the round: pending, not failed.
  const early = await verifyInclusion(receipts[0]!.receipt, options(honest))
  assert.equal(early.ok, false)
  assert.equal(early.checks.receipt, 'ok')
  assert.ok(['pending', 'ok'].includes(early.checks.submission), JSON.stringify(early))

  // Both nodes submit cycle `cycle` in the next round's submission window.
  await waitFor(
    'both nodes to submit the round on-chain',
    async () => {
      for (const node of nodes) {
        const submission = await chain.coop.getSubmission({ taskId: task.taskId, cycle: BigInt(cycle), node: node.address })
        if (BigInt(submission.root) === 0n) return false
      }
      return true
    },
    Number(ROUND) * 1000 * 3,
  )

  for (const { receipt } of receipts.filter((r) => r.node === honest)) {
    const report = await verifyInclusion(receipt, options(honest))
    assert.equal(report.ok, true, JSON.stringify(report))
    assert.equal(report.anchored === 'submission' || report.anchored === 'head', true)
    assert.deepEqual([report.checks.receipt, report.checks.leaf, report.checks.proof, report.checks.submission], ['ok', 'ok', 'ok', 'ok'])
    const onchain = await chain.coop.getSubmission({ taskId: task.taskId, cycle: BigInt(cycle), node: honest.address })
    assert.equal(report.digest, onchain.root.toLowerCase())
  }
  // Once the cycle's distribution is final its SCALE head is anchored on-chain (Cycle.scaleHead):
  // the device then checks the head's bytes against it and finds the node's root listed.
  const anchored = await waitFor(
    'the SCALE head of the round anchored and served',
    async () => {
      const report = await verifyInclusion(receipts[0]!.receipt, options(honest))
      return report.checks.head === 'ok' ? report : undefined
    },
    Number(ROUND) * 1000 * 8,
    1_000,
  )
  assert.equal(anchored.ok, true)
  assert.equal(anchored.anchored, 'head')

  // The forging node replaced the first payload it acknowledged: its receipt cannot be proven.
  const forged = receipts.find((r) => r.node === cheater && r.receipt.position === 0)!
  const refuted = await verifyInclusion(forged.receipt, options(cheater))
  assert.equal(refuted.ok, false)
  assert.equal(refuted.checks.leaf, 'failed', JSON.stringify(refuted))
  // A receipt shown to the wrong node: the leaf there is another payload (or absent).
  const misdirected = await verifyInclusion(receipts.find((r) => r.node === honest && r.receipt.position === 1)!.receipt, options(cheater))
  assert.equal(misdirected.ok, false)

  // The CLI does the same check (exit 0 = included, 1 = not proven).
  const receiptFile = join(chain.dir, 'receipt.json')
  writeFileSync(receiptFile, JSON.stringify(receipts[0]!.receipt))
  const cli = resolve(import.meta.dirname, '../../cli/bin/coop.mjs')
  const args = ['device', 'verify', '--receipt', receiptFile, '--node-url', urlOf(honest), '--rpc', chain.anvil.rpcUrl, '--task-manager', chain.addresses.taskManager, '--task-lens', chain.addresses.taskLens, '--json']
  const { stdout } = await promisify(execFile)(process.execPath, [cli, ...args], { timeout: 60_000 })
  assert.equal((JSON.parse(stdout) as { ok: boolean }).ok, true)
  const forgedFile = join(chain.dir, 'forged.json')
  writeFileSync(forgedFile, JSON.stringify(forged.receipt))
  const failed = await promisify(execFile)(process.execPath, [cli, 'device', 'verify', '--receipt', forgedFile, '--node-url', urlOf(cheater), '--rpc', chain.anvil.rpcUrl, '--task-manager', chain.addresses.taskManager, '--task-lens', chain.addresses.taskLens], { timeout: 60_000 }).then(
    () => ({ code: 0, stdout: '' }),
    (error: { code: number; stdout: string }) => error,
  )
  assert.equal(failed.code, 1)
  assert.match(failed.stdout, /NOT PROVEN/)
})
