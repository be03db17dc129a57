// The whole task lifecycle on anvil, through the actions: create, stake, submit, audit, vote,
// resolve, post, finalize, claim, unstake after unbonding, withdraw the remaining bounty.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { buildDistribution, equalSplit, type Distribution } from '@coop/protocol'
import { getAddress, keccak256, parseUnits, stringToHex, zeroHash, type Address } from 'viem'

import {
  AuditKind,
  DistributionStatus,
  getErc20Balance,
  isContractError,
  setChainTime,
  taskParams,
  type TaskParams,
} from '../src/index.ts'
import { rejection, startDevnet, type Devnet, type TestNode } from './helpers.ts'

const STAKE = parseUnits('1000', 18)
let net: Devnet
let params: TaskParams
let taskId: bigint
let startTime: bigint
let honest1: TestNode
let honest2: TestNode
let cheater: TestNode
const root = (label: string) => keccak256(stringToHex(label))
const start = (round: bigint) => startTime + round * params.roundLength
const coopBalance = (owner: Address) => getErc20Balance(net.creator, { address: net.addresses.coopToken, owner })
const rewardBalance = (owner: Address) => getErc20Balance(net.creator, { address: net.addresses.rewardToken, owner })
const distributions = new Map<bigint, Distribution>()

before(async () => {
  net = await startDevnet(3)
  ;[honest1, honest2, cheater] = net.nodes as [TestNode, TestNode, TestNode]
})
after(async () => {
  await net?.stop()
})

/** Posts the equal-split list of `cycle` from whichever node the lens selects (skipping convicts). */
async function distribute(cycle: bigint): Promise<Distribution> {
  for (;;) {
    const attempt = await net.coop.currentDistributionAttempt({ taskId, cycle })
    const selected = await net.coop.selectedDistributor({ taskId, cycle, attempt })
    assert.ok(selected.node, 'seed recorded, so someone is selected')
    const submission = await net.coop.getSubmission({ taskId, cycle, node: selected.node })
    if (submission.convicted) {
      // A convict's turn can only time out.
      const refused = await rejection(() =>
        nodeByAddress(selected.node!).coop.postDistribution({
          taskId,
          cycle,
          submitterIndex: selected.index,
          merkleRoot: root('x'),
          listCid: root('x'),
          rewardTotal: 0n,
          bonusTotal: 0n,
          scaleHead: zeroHash, // a task without SCALE rounds anchors no head
        }),
      )
      assert.ok(isContractError(refused, 'NotSelectedDistributor'))
      await setChainTime(net.time, start(cycle + 2n) + (attempt + 1n) * params.distributionWindow)
      continue
    }
    const state = await net.coop.getCycle({ taskId, cycle })
    const passed: Address[] = []
    for (const node of state.submitters) {
      if (!(await net.coop.getSubmission({ taskId, cycle, node })).convicted) passed.push(getAddress(node))
    }
    const list = buildDistribution({ taskId, cycle, entries: equalSplit(state.budget, state.bonus, passed) })
    const posted = await nodeByAddress(selected.node).coop.postDistribution({
      taskId,
      cycle,
      submitterIndex: selected.index,
      merkleRoot: list.root,
      listCid: root(`list ${cycle}`),
      rewardTotal: list.totalReward,
      bonusTotal: list.totalBonus,
      scaleHead: zeroHash, // a task without SCALE rounds anchors no head
    })
    assert.equal(BigInt(posted.attempt), attempt)
    distributions.set(cycle, list)
    return list
  }
}

const nodeByAddress = (address: Address) => {
  const node = net.nodes.find((n) => n.address.toLowerCase() === address.toLowerCase())
  assert.ok(node)
  return node
}

test('create and fund a task', async () => {
  params = taskParams({ stakeToken: net.addresses.coopToken, rewardToken: net.addresses.rewardToken })
  // Two full rounds and a half: the half is what withdrawRemainingBounty returns at the end.
  const created = await net.coop.createTask({ params, bounty: params.bountyPerRound * 2n })
  const funded = await net.coop.fundTask({ taskId: created.taskId, amount: params.bountyPerRound / 2n })
  taskId = created.taskId
  startTime = created.startTime
  assert.equal(taskId, 1n)
  assert.equal(created.funded, params.bountyPerRound * 2n)
  assert.equal(funded.funded, params.bountyPerRound / 2n)
  assert.ok(created.gasUsed > 0n && created.receipt.status === 'success')
  const task = await net.coop.getTask({ taskId })
  assert.equal(task.creator, net.creator.account.address)
  assert.equal(task.escrow, (params.bountyPerRound * 5n) / 2n)
  assert.equal(task.params.roundLength, params.roundLength)
  assert.equal(await net.coop.currentRound({ taskId }), 0n)
})

test('nodes stake and register', async () => {
  for (const [index, node] of net.nodes.entries()) {
    const staked = await node.coop.stake({ taskId, amount: STAKE })
    assert.equal(staked.totalStake, STAKE)
    await node.coop.registerNode({ p2pAddress: `/ip4/127.0.0.1/tcp/${4001 + index}/p2p/12D3KooWtest${index}` })
    assert.equal(await node.coop.getP2pAddress({ node: node.address }), `/ip4/127.0.0.1/tcp/${4001 + index}/p2p/12D3KooWtest${index}`)
    assert.equal((await net.coop.getNode({ taskId, node: node.address })).stake, STAKE)
  }
})

test('cycle 0: everyone submits, the cheater is audited, convicted and slashed', async () => {
  await setChainTime(net.time, start(1n))
  for (const node of net.nodes) {
    const submitted = await node.coop.submit({ taskId, cycle: 0n, root: root(`${node.name} cycle 0`) })
    assert.equal(submitted.weight, STAKE) // score 0: weight = stake
  }
  const cycle = await net.coop.getCycle({ taskId, cycle: 0n })
  assert.deepEqual(cycle.submitters, net.nodes.map((node) => node.address))
  assert.equal(cycle.budget, params.bountyPerRound)

  // Audits open when submissions close (the seed is fixed then).
  const early = await rejection(() =>
    honest1.coop.raiseAudit({ taskId, cycle: 0n, accused: cheater.address, evidenceCid: root('evidence') }),
  )
  assert.ok(isContractError(early, 'SeedNotYetAvailable'))
  await setChainTime(net.time, start(1n) + params.submissionWindow)
  const seed = await net.coop.recordSeed({ taskId, cycle: 0n })
  assert.ok(seed.recordedNow && seed.seed !== `0x${'0'.repeat(64)}`)
  assert.equal(await net.coop.isSampled({ taskId, cycle: 0n, node: cheater.address }), true) // dues: 100%
  assert.equal(await net.coop.auditProbabilityBps({ taskId, cycle: 0n, node: cheater.address }), 10_000n)
  const auditors = await net.coop.auditorsOf({ taskId, cycle: 0n, node: cheater.address })
  assert.equal(auditors.length, 2)
  assert.ok(!auditors.includes(cheater.address))

  const raised = await honest1.coop.raiseAudit({ taskId, cycle: 0n, accused: cheater.address, evidenceCid: root('evidence') })
  assert.equal(raised.auditId, 1n)
  assert.equal(raised.deadline, (await net.coop.getAudit({ auditId: 1n })).deadline)
  const accusedVote = await rejection(() => cheater.coop.vote({ auditId: raised.auditId, side: 'reject' }))
  assert.ok(isContractError(accusedVote, 'AccusedCannotVote'))
  const voted = await honest2.coop.vote({ auditId: raised.auditId, side: 'uphold' })
  assert.equal(voted.weight, STAKE)
  const tooEarly = await rejection(() => net.coop.resolveAudit({ auditId: raised.auditId }))
  assert.ok(isContractError(tooEarly, 'VotingStillOpen'))

  await setChainTime(net.time, raised.deadline)
  const balanceBefore = await coopBalance(honest1.address)
  const resolved = await net.coop.resolveAudit({ auditId: raised.auditId })
  assert.equal(resolved.upheld, true)
  assert.equal(resolved.upholdWeight, STAKE * 2n)
  assert.deepEqual(resolved.slashed, { node: cheater.address, amount: (STAKE * 2_000n) / 10_000n })
  const slashed = (STAKE * 2_000n) / 10_000n
  assert.deepEqual(resolved.shared, {
    winner: honest1.address,
    toWinner: (slashed * 3_000n) / 10_000n,
    toVoters: (slashed * 2_000n) / 10_000n,
    toPool: slashed - (slashed * 3_000n) / 10_000n - (slashed * 2_000n) / 10_000n,
  })
  assert.ok(resolved.reopenedUntil && resolved.reopenedUntil > raised.deadline)
  assert.equal((await coopBalance(honest1.address)) - balanceBefore, resolved.shared?.toWinner)

  const audit = await net.coop.getAudit({ auditId: raised.auditId })
  assert.equal(audit.kind, AuditKind.Submission)
  assert.ok(audit.resolved && audit.upheld)
  const reward = await honest2.coop.claimVoteReward({ auditId: raised.auditId })
  assert.equal(reward.amount, resolved.shared?.toVoters) // the only voter besides the accuser
  const again = await rejection(() => honest2.coop.claimVoteReward({ auditId: raised.auditId }))
  assert.ok(isContractError(again, 'NoRewardOwed'))

  const convict = await net.coop.getNode({ taskId, node: cheater.address })
  assert.equal(convict.stake, STAKE - slashed)
  assert.equal(convict.failed, 1)
  assert.equal(convict.score, 0)
  assert.ok((await net.coop.getSubmission({ taskId, cycle: 0n, node: cheater.address })).convicted)
  // The slash's pool share became cycle 0's bonus (its distribution was still pending).
  assert.equal((await net.coop.getCycle({ taskId, cycle: 0n })).bonus, resolved.shared?.toPool)
})

test('cycle 1 submissions and cycle 0 distribution by the selected node', async () => {
  await setChainTime(net.time, start(2n))
  for (const node of [honest1, honest2]) await node.coop.submit({ taskId, cycle: 1n, root: root(`${node.name} cycle 1`) })
  // Cycle 0's reputation settled with the cycle 1 submission.
  assert.equal((await net.coop.getNode({ taskId, node: honest1.address })).passed, 1)

  const list = await distribute(0n)
  assert.equal(list.leaves.length, 2)
  assert.equal(list.totalReward, params.bountyPerRound)
  const cycle = await net.coop.getCycle({ taskId, cycle: 0n })
  assert.equal(cycle.status, DistributionStatus.Posted)
  assert.equal(cycle.merkleRoot, list.root)

  const early = await rejection(() => net.coop.finalizeDistribution({ taskId, cycle: 0n }))
  assert.ok(isContractError(early, 'DistributionNotFinal'))
  await setChainTime(net.time, cycle.postedAt + params.distributionAuditWindow)
  const final = await net.coop.finalizeDistribution({ taskId, cycle: 0n })
  assert.equal(final.merkleRoot, list.root)
  assert.equal(final.returnedReward, 0n)
})

test('cycle 1 distribution; each node claims both cycles in one call', async () => {
  await setChainTime(net.time, start(3n))
  await net.coop.recordSeed({ taskId, cycle: 1n })
  const list = await distribute(1n)
  const posted = await net.coop.getCycle({ taskId, cycle: 1n })
  await setChainTime(net.time, posted.postedAt + params.distributionAuditWindow)
  // No explicit finalize for cycle 1: claimRewards finalizes it on the way.
  for (const node of [honest1, honest2]) {
    const claims = [0n, 1n].map((cycle) => {
      const leaf = distributions.get(cycle)!.leaves.find((entry) => entry.node === node.address)!
      return { cycle, reward: leaf.reward, bonus: leaf.bonus, proof: leaf.proof }
    })
    const rewardBefore = await rewardBalance(node.address)
    const claimed = await node.coop.claimRewards({ taskId, claims })
    assert.deepEqual(claimed.perCycle.map((entry) => entry.cycle), [0n, 1n])
    assert.equal(claimed.reward, params.bountyPerRound) // half of each of two cycles
    assert.equal(claimed.bonus, distributions.get(0n)!.totalBonus / 2n)
    assert.equal((await rewardBalance(node.address)) - rewardBefore, claimed.reward)
    const twice = await rejection(() => node.coop.claimRewards({ taskId, claims }))
    assert.ok(isContractError(twice, 'AlreadyClaimed'))
  }
  assert.equal((await net.coop.getCycle({ taskId, cycle: 1n })).status, DistributionStatus.Final)
  assert.equal(list.leaves.length, 2)
  // The cheater was left out of cycle 0 and did not submit cycle 1: nothing to claim.
  const none = await rejection(() =>
    cheater.coop.claimRewards({ taskId, claims: [{ cycle: 0n, reward: 1n, bonus: 0n, proof: [] }] }),
  )
  assert.ok(isContractError(none, 'InvalidProof'))
})

test('unstake: locked while auditable, withdrawn after unbonding', async () => {
  const requested = await honest1.coop.requestUnstake({ taskId, amount: STAKE })
  assert.equal(requested.round, 3n)
  const unlockRound = await net.coop.unbondedAtRound({ taskId, node: honest1.address })
  assert.equal(unlockRound, 3n + BigInt(params.unbondingRounds)) // max(request + 3, last cycle 1 + 3 + 1)
  const locked = await rejection(() => honest1.coop.withdrawStake({ taskId }))
  assert.ok(isContractError(locked, 'StakeLocked'))
  assert.equal(locked.args[2], unlockRound)

  await setChainTime(net.time, start(unlockRound))
  const before = await coopBalance(honest1.address)
  const withdrawn = await honest1.coop.withdrawStake({ taskId })
  assert.equal(withdrawn.amount, STAKE)
  assert.equal((await coopBalance(honest1.address)) - before, STAKE)
  const state = await net.coop.getNode({ taskId, node: honest1.address })
  assert.equal(state.stake + state.unbonding, 0n)
})

test('the ended task returns its remaining bounty to the creator', async () => {
  const task = await net.coop.getTask({ taskId })
  assert.equal(task.cyclesInFlight, 0)
  assert.equal(task.escrow, params.bountyPerRound / 2n) // below one round: the task has ended
  const notCreator = await rejection(() => honest2.coop.withdrawRemainingBounty({ taskId }))
  assert.ok(isContractError(notCreator, 'NotTaskCreator'))
  const before = await rewardBalance(net.creator.account.address)
  const returned = await net.coop.withdrawRemainingBounty({ taskId })
  assert.equal(returned.rewardAmount, params.bountyPerRound / 2n)
  assert.equal((await rewardBalance(net.creator.account.address)) - before, returned.rewardAmount)
  assert.equal((await net.coop.getTask({ taskId })).stopped, true)
  // Nothing of the reward token is stranded in the manager.
  assert.equal(await rewardBalance(net.addresses.taskManager), 0n)
})
