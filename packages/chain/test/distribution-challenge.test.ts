// A wrong distribution list is challenged, voted down and voided; the next selected node posts.
// A cycle whose attempts all time out fails and returns its budget.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { buildDistribution, equalSplit } from '@coop/protocol'
import { getAddress, keccak256, parseUnits, stringToHex, zeroHash, type Address } from 'viem'

import { DistributionStatus, isContractError, setChainTime, taskParams, type TaskParams } from '../src/index.ts'
import { rejection, startDevnet, type Devnet, type TestNode } from './helpers.ts'

let net: Devnet
let params: TaskParams
let taskId: bigint
let startTime: bigint
const start = (round: bigint) => startTime + round * params.roundLength
const byAddress = (address: Address) => net.nodes.find((node) => node.address.toLowerCase() === address.toLowerCase()) as TestNode

before(async () => {
  net = await startDevnet(3)
  params = taskParams({
    stakeToken: net.addresses.coopToken,
    rewardToken: net.addresses.rewardToken,
    maxDistributionAttempts: 5,
  })
  const created = await net.coop.createTask({ params, bounty: params.bountyPerRound * 2n })
  taskId = created.taskId
  startTime = created.startTime
  for (const [index, node] of net.nodes.entries()) {
    await node.coop.stake({ taskId, amount: parseUnits('1000', 18) })
    await node.coop.registerNode({ p2pAddress: `/ip4/127.0.0.1/tcp/${4001 + index}/p2p/12D3KooWnode${index}` })
  }
  await setChainTime(net.time, start(1n))
  for (const node of net.nodes) await node.coop.submit({ taskId, cycle: 0n, root: keccak256(stringToHex(node.name)) })
  await setChainTime(net.time, start(2n))
  for (const node of net.nodes) await node.coop.submit({ taskId, cycle: 1n, root: keccak256(stringToHex(`${node.name} 1`)) })
})
after(async () => {
  await net?.stop()
})

test('a greedy list is challenged, upheld, voided; the next attempt posts the honest list', async () => {
  // The lens answers once the seed is fixed (any audit, post or recordSeed fixes it).
  assert.equal((await net.coop.selectedDistributor({ taskId, cycle: 0n, attempt: 0n })).node, undefined)
  await net.coop.recordSeed({ taskId, cycle: 0n })
  const attempt = await net.coop.currentDistributionAttempt({ taskId, cycle: 0n })
  assert.equal(attempt, 0n)
  const selected = await net.coop.selectedDistributor({ taskId, cycle: 0n, attempt })
  const greedy = byAddress(selected.node!)
  // The poster pays itself the whole budget.
  const list = buildDistribution({ taskId, cycle: 0n, entries: [{ node: greedy.address, reward: params.bountyPerRound, bonus: 0n }] })
  await greedy.coop.postDistribution({
    taskId,
    cycle: 0n,
    submitterIndex: selected.index,
    merkleRoot: list.root,
    listCid: keccak256(stringToHex('greedy')),
    rewardTotal: list.totalReward,
    bonusTotal: 0n,
    scaleHead: zeroHash, // a task without SCALE rounds anchors no head
  })
  const others = net.nodes.filter((node) => node !== greedy)
  const [challenger, voter] = others as [TestNode, TestNode]
  const challenge = await challenger.coop.challengeDistribution({ taskId, cycle: 0n, evidenceCid: keccak256(stringToHex('recomputed')) })
  const blocked = await rejection(() => net.coop.finalizeDistribution({ taskId, cycle: 0n }))
  assert.ok(isContractError(blocked, 'DistributionNotFinal'))
  await voter.coop.vote({ auditId: challenge.auditId, side: 'uphold' })
  await setChainTime(net.time, challenge.deadline)
  const resolved = await net.coop.resolveAudit({ auditId: challenge.auditId })
  assert.equal(resolved.upheld, true)
  assert.equal(resolved.slashed?.node, greedy.address)
  assert.ok(resolved.events.some((log) => log.eventName === 'DistributionRejected'))

  const cycle = await net.coop.getCycle({ taskId, cycle: 0n })
  assert.equal(cycle.status, DistributionStatus.Pending)
  assert.equal(cycle.attempt, 1)
  // The greedy poster is convicted like any cheater: no reward, and never drawn to post again.
  assert.equal((await net.coop.getSubmission({ taskId, cycle: 0n, node: greedy.address })).convicted, true)
  assert.equal((await net.coop.getNode({ taskId, node: greedy.address })).score, 0)
  const passed = cycle.submitters.map((node) => getAddress(node)).filter((node) => node !== greedy.address)
  const honest = buildDistribution({ taskId, cycle: 0n, entries: equalSplit(cycle.budget, cycle.bonus, passed) })
  // Later draws may land on the convict again (its weight stays in the cycle): its turn is refused
  // and times out. Either an honest node posts, or every attempt is used up and the cycle fails.
  for (;;) {
    const attempt = await net.coop.currentDistributionAttempt({ taskId, cycle: 0n })
    if (attempt >= BigInt(params.maxDistributionAttempts)) {
      const failed = await net.coop.failDistribution({ taskId, cycle: 0n })
      assert.equal(failed.returnedReward, cycle.budget)
      return
    }
    const next = await net.coop.selectedDistributor({ taskId, cycle: 0n, attempt })
    const poster = byAddress(next.node!)
    const post = () =>
      poster.coop.postDistribution({
        taskId,
        cycle: 0n,
        submitterIndex: next.index,
        merkleRoot: honest.root,
        listCid: keccak256(stringToHex('honest')),
        rewardTotal: honest.totalReward,
        bonusTotal: honest.totalBonus,
        scaleHead: zeroHash, // a task without SCALE rounds anchors no head
      })
    if (poster === greedy) {
      assert.ok(isContractError(await rejection(post), 'NotSelectedDistributor'))
      // Attempt a's window ends at turnStart + (a − stored attempt + 1) · distributionWindow.
      const { turnStart, attempt: stored } = await net.coop.getCycle({ taskId, cycle: 0n })
      await setChainTime(net.time, turnStart + (attempt - BigInt(stored) + 1n) * params.distributionWindow)
      continue
    }
    const posted = await post()
    assert.equal(posted.attempt, Number(attempt))
    break
  }
  await setChainTime(net.time, (await net.coop.getCycle({ taskId, cycle: 0n })).postedAt + params.distributionAuditWindow)
  const final = await net.coop.finalizeDistribution({ taskId, cycle: 0n })
  assert.equal(final.merkleRoot, honest.root)
})

test('a cycle nobody distributes fails after its attempts and returns the budget', async () => {
  // Cycle 1's distribution opened at start(3); let every turn time out.
  await setChainTime(net.time, start(3n))
  const early = await rejection(() => net.coop.failDistribution({ taskId, cycle: 1n }))
  assert.ok(isContractError(early, 'DistributionAttemptsRemain'))
  const attempts = BigInt(params.maxDistributionAttempts)
  await setChainTime(net.time, start(3n) + attempts * params.distributionWindow)
  assert.equal(await net.coop.currentDistributionAttempt({ taskId, cycle: 1n }), attempts)
  const escrowBefore = (await net.coop.getTask({ taskId })).escrow
  const failed = await net.coop.failDistribution({ taskId, cycle: 1n })
  assert.equal(failed.returnedReward, params.bountyPerRound)
  assert.equal((await net.coop.getTask({ taskId })).escrow, escrowBefore + params.bountyPerRound)
  assert.equal((await net.coop.getCycle({ taskId, cycle: 1n })).status, DistributionStatus.Failed)
})
