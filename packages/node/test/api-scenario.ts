// A real devnet in a known state for the API and dashboard tests: anvil, Coop deployed, one task,
// three staked and registered nodes (node-3 with the minimum stake); cycle 0 submitted by all three, node-3 audited (raised by
// node-1, voted by node-2), upheld and slashed; cycle 1 submitted by node-1 and node-2; cycle 0's
// equal-split list posted by the selected node, finalized, and claimed by node-1. Chain time ends
// inside round 2. A fourth funded account (`spare`) has not staked: tests use it to make news.
import { buildDistribution, equalSplit } from '@coop/protocol'
import {
  createCoopTestClient,
  setChainTime,
  startFundedDevnet,
  type Anvil,
  type CoopActions,
  type CoopAddresses,
  type CoopClient,
  type CoopTestClient,
  type TaskParams,
} from '@coop/chain'
import { getAddress, keccak256, parseUnits, stringToHex, zeroHash, type Address, type Hex } from 'viem'

import { approvedNodes, createDefaultTask, type ApprovedNode } from './helpers.ts'

export const STAKE = parseUnits('1000', 18)
/** node-3 stakes only the minimum: it is rarely drawn as distributor (a convict's draw can only time out). */
export const CHEATER_STAKE = parseUnits('100', 18)

export type ScenarioNode = ApprovedNode

export type Scenario = {
  anvil: Anvil
  time: CoopTestClient
  addresses: CoopAddresses
  creator: CoopClient
  coop: CoopActions
  params: TaskParams
  taskId: bigint
  startTime: bigint
  /** node-1, node-2 (honest), node-3 (the convicted cheater). */
  nodes: [ScenarioNode, ScenarioNode, ScenarioNode]
  /** Funded and approved, not staked. */
  spare: ScenarioNode
  auditId: bigint
  slashed: bigint
  /** Who posted cycle 0's list, and the list. */
  poster: Address
  distribution: ReturnType<typeof buildDistribution>
  names: Record<string, string>
  start(round: bigint): bigint
  stop(): Promise<void>
}

export const root = (label: string): Hex => keccak256(stringToHex(label))

export async function startScenario(): Promise<Scenario> {
  const { anvil, addresses, creator, coop, nodes: accounts } = await startFundedDevnet({ nodes: 4, anvil: { accounts: 6 } })
  try {
    const all: ScenarioNode[] = await approvedNodes(anvil.rpcUrl, addresses, accounts)
    const [n1, n2, n3, spare] = all as [ScenarioNode, ScenarioNode, ScenarioNode, ScenarioNode]
    const nodes: [ScenarioNode, ScenarioNode, ScenarioNode] = [n1, n2, n3]
    const time = createCoopTestClient({ rpcUrl: anvil.rpcUrl })
    const { params, taskId, startTime, start } = await createDefaultTask(coop, addresses)

    for (const [index, node] of nodes.entries()) {
      await node.coop.stake({ taskId, amount: node === n3 ? CHEATER_STAKE : STAKE })
      await node.coop.registerNode({ p2pAddress: `/ip4/127.0.0.1/tcp/${4101 + index}/p2p/12D3KooWScenarioNode${index + 1}` })
    }

    // Cycle 0: everyone submits; node-3's work is forged, node-1 (an assigned auditor) raises it.
    await setChainTime(time, start(1n))
    for (const node of nodes) await node.coop.submit({ taskId, cycle: 0n, root: root(`${node.name} cycle 0`) })
    await setChainTime(time, start(1n) + params.submissionWindow)
    await coop.recordSeed({ taskId, cycle: 0n })
    const raised = await n1.coop.raiseAudit({ taskId, cycle: 0n, accused: n3.address, evidenceCid: root('evidence: forged pages') })
    await n2.coop.vote({ auditId: raised.auditId, side: 'uphold' })
    await setChainTime(time, raised.deadline)
    const resolved = await coop.resolveAudit({ auditId: raised.auditId })
    if (!resolved.upheld || !resolved.slashed) throw new Error('scenario: the audit should be upheld')

    // Cycle 1: the honest nodes submit (which settles their cycle-0 reputation).
    await setChainTime(time, start(2n))
    for (const node of [n1, n2]) await node.coop.submit({ taskId, cycle: 1n, root: root(`${node.name} cycle 1`) })

    // Cycle 0's distribution by whichever node is drawn (a convict's turn can only time out).
    const byAddress = (address: Address) => all.find((n) => n.address.toLowerCase() === address.toLowerCase())!
    let distribution: ReturnType<typeof buildDistribution> | undefined
    let poster: Address | undefined
    for (let guard = 0; guard < Number(params.maxDistributionAttempts) && !distribution; guard++) {
      const attempt = await coop.currentDistributionAttempt({ taskId, cycle: 0n })
      const selected = await coop.selectedDistributor({ taskId, cycle: 0n, attempt })
      if (!selected.node) throw new Error('scenario: no distributor selected')
      if ((await coop.getSubmission({ taskId, cycle: 0n, node: selected.node })).convicted) {
        await setChainTime(time, start(2n) + (attempt + 1n) * params.distributionWindow)
        continue
      }
      const cycle = await coop.getCycle({ taskId, cycle: 0n })
      const passed: Address[] = []
      for (const node of cycle.submitters) {
        if (!(await coop.getSubmission({ taskId, cycle: 0n, node })).convicted) passed.push(getAddress(node))
      }
      const list = buildDistribution({ taskId, cycle: 0n, entries: equalSplit(cycle.budget, cycle.bonus, passed) })
      await byAddress(selected.node).coop.postDistribution({
        taskId,
        cycle: 0n,
        submitterIndex: selected.index,
        merkleRoot: list.root,
        listCid: root('list cycle 0'),
        rewardTotal: list.totalReward,
        bonusTotal: list.totalBonus,
        scaleHead: zeroHash, // a task without SCALE rounds anchors no head
      })
      distribution = list
      poster = selected.node
    }
    if (!distribution || !poster) throw new Error('scenario: cycle 0 was not distributed')
    const posted = await coop.getCycle({ taskId, cycle: 0n })
    await setChainTime(time, posted.postedAt + params.distributionAuditWindow)
    await coop.finalizeDistribution({ taskId, cycle: 0n })
    const leaf = distribution.leaves.find((entry) => entry.node === n1.address)!
    await n1.coop.claimRewards({ taskId, claims: [{ cycle: 0n, reward: leaf.reward, bonus: leaf.bonus, proof: leaf.proof }] })

    return {
      anvil,
      time,
      addresses,
      creator,
      coop,
      params,
      taskId,
      startTime,
      nodes,
      spare,
      auditId: raised.auditId,
      slashed: resolved.slashed.amount,
      poster,
      distribution,
      names: Object.fromEntries(all.map((n) => [n.address, n.name])),
      start,
      stop: () => anvil.stop(),
    }
  } catch (error) {
    await anvil.stop()
    throw error
  }
}
