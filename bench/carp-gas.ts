// Gas of one node's submission, one audit vote and one claim on TaskManager, as real transactions
// on anvil (receipt gasUsed: 21 000 base + calldata + execution), each against a lower bound
// measured in the same run: the least a contract can do for the same on-chain effect (a bare
// root/vote record, a bare ERC-20 transfer). Writes bench/results/carp.gas.{submit,vote,claim}.json
// and the forge gas report per external function to bench/results/carp.gas-report.txt.
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RESULTS_DIR, machineFacts, writeBenchResult } from './results-file.ts'

import { buildDistribution, equalSplit, proofOf } from '@coop/protocol'
import {
  approveErc20,
  coopActions,
  createCoopClient,
  createCoopTestClient,
  setChainTime,
  startFundedDevnet,
  taskParams,
  testErc20Abi,
  type CoopActions,
  type CoopClient,
} from '@coop/chain'
import { encodeDeployData, encodeFunctionData, getAddress, keccak256, maxUint256, parseUnits, stringToHex, zeroHash, type Abi, type Address, type Hex } from 'viem'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const NODES = 8

type Node = { address: Address; client: CoopClient; coop: CoopActions }

const median = (values: bigint[]) => {
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  return sorted[Math.floor(sorted.length / 2)]!
}

function baselineArtifact(): { abi: Abi; bytecode: Hex } {
  const artifact = JSON.parse(readFileSync(join(root, 'contracts/out/GasBaselines.sol/GasBaselines.json'), 'utf8'))
  return { abi: artifact.abi, bytecode: artifact.bytecode.object }
}

async function main() {
  const { anvil, addresses, creator, coop, nodes: accounts } = await startFundedDevnet({ nodes: NODES })
  try {
    const time = createCoopTestClient({ rpcUrl: anvil.rpcUrl })

    const params = taskParams({ stakeToken: addresses.coopToken, rewardToken: addresses.rewardToken })
    const { taskId, startTime } = await coop.createTask({ params, bounty: parseUnits('100000', 18) })
    const start = (round: bigint) => startTime + round * params.roundLength

    const nodes: Node[] = []
    for (const key of accounts) {
      const client = createCoopClient({ rpcUrl: anvil.rpcUrl, account: key.privateKey })
      await approveErc20(client, { address: addresses.coopToken, spender: addresses.taskManager, amount: maxUint256 })
      const node = { address: key.address, client, coop: client.extend(coopActions(addresses)) }
      await node.coop.stake({ taskId, amount: parseUnits('1000', 18) })
      await node.coop.registerNode({ p2pAddress: `/ip4/127.0.0.1/tcp/4001/p2p/bench-${key.address}` })
      nodes.push(node)
    }
    const work = (node: Node, cycle: bigint) => keccak256(stringToHex(`${node.address}:${cycle}`))

    // Cycle 0: everyone submits (the first one also opens the cycle and reserves its bounty).
    await setChainTime(time, start(1n))
    const firstSubmissions: bigint[] = []
    for (const node of nodes) firstSubmissions.push((await node.coop.submit({ taskId, cycle: 0n, root: work(node, 0n) })).gasUsed)

    // One audit on cycle 0; every other node votes.
    await setChainTime(time, start(1n) + params.submissionWindow)
    const [accuser, accused, ...voters] = nodes
    const { auditId } = await accuser!.coop.raiseAudit({ taskId, cycle: 0n, accused: accused!.address, evidenceCid: work(accuser!, 99n) })
    const votes: bigint[] = []
    for (const [i, node] of voters.entries()) votes.push((await node.coop.vote({ auditId, side: i % 2 === 0 ? 1 : 2 })).gasUsed)
    await setChainTime(time, (await coop.getAudit({ auditId })).deadline)
    await coop.resolveAudit({ auditId })

    // Cycle 1: steady-state submissions (each also settles the node's cycle-0 reputation).
    await setChainTime(time, start(2n))
    const steadySubmissions: bigint[] = []
    for (const node of nodes) steadySubmissions.push((await node.coop.submit({ taskId, cycle: 1n, root: work(node, 1n) })).gasUsed)

    // Distribution of cycle 0, then one claim per node.
    const cycle0 = await coop.getCycle({ taskId, cycle: 0n })
    const passed: Address[] = []
    for (const node of cycle0.submitters) if (!(await coop.getSubmission({ taskId, cycle: 0n, node })).convicted) passed.push(getAddress(node))
    const list = buildDistribution({ taskId, cycle: 0n, entries: equalSplit(cycle0.budget, cycle0.bonus, passed) })
    await coop.recordSeed({ taskId, cycle: 0n })
    const selected = await coop.selectedDistributor({ taskId, cycle: 0n, attempt: 0n })
    const poster = nodes.find((n) => n.address === selected.node)!
    await poster.coop.postDistribution({
      taskId, cycle: 0n, submitterIndex: selected.index, merkleRoot: list.root, listCid: list.root,
      rewardTotal: list.totalReward, bonusTotal: list.totalBonus,
      scaleHead: zeroHash, // a task without SCALE rounds anchors no head
    })
    await setChainTime(time, start(2n) + params.distributionAuditWindow + 1n)
    await coop.finalizeDistribution({ taskId, cycle: 0n })
    const claims: bigint[] = []
    for (const node of nodes) {
      const entry = list.leaves.find((leaf) => leaf.node === node.address)
      const proof = proofOf(list, node.address)
      if (!entry || !proof) continue
      const result = await node.coop.claimRewards({
        taskId, claims: [{ cycle: 0n, reward: entry.reward, bonus: entry.bonus, proof }],
      })
      claims.push(result.gasUsed)
    }

    // Baselines, same chain, same accounts.
    const baseline = baselineArtifact()
    const gasOf = async (client: CoopClient, hash: Hex) => (await client.waitForTransactionReceipt({ hash })).gasUsed
    const deployHash = await creator.sendTransaction({ data: encodeDeployData({ abi: baseline.abi, bytecode: baseline.bytecode }) })
    const baselineAddress = getAddress((await creator.waitForTransactionReceipt({ hash: deployHash })).contractAddress!)
    const call = async (node: Node, functionName: string, args: unknown[]) =>
      gasOf(node.client, await node.client.sendTransaction({
        to: baselineAddress, data: encodeFunctionData({ abi: baseline.abi, functionName, args } as never),
      }))
    const bareAnchors: bigint[] = []
    for (const node of nodes) bareAnchors.push(await call(node, 'anchor', [taskId, 1n, work(node, 1n)]))
    const bareVotes: bigint[] = []
    for (const [i, node] of voters.entries()) bareVotes.push(await call(node, 'vote', [auditId, i % 2 === 0 ? 1 : 2]))
    const bareTransfers: bigint[] = []
    for (let i = 0; i < claims.length; i++) {
      const fresh = getAddress(keccak256(stringToHex(`fresh recipient ${i}`)).slice(0, 42))
      bareTransfers.push(await gasOf(creator, await creator.sendTransaction({
        to: addresses.rewardToken, data: encodeFunctionData({ abi: testErc20Abi, functionName: 'transfer', args: [fresh, 1000n] }),
      })))
    }

    const machine = machineFacts()
    const results = [
      {
        id: 'carp.gas.submit', metric: 'gas per submission (steady state, median)', ours: median(steadySubmissions.slice(1)),
        baseline: median(bareAnchors.slice(1)), baselineName: 'bare root record (one SSTORE + event) on the same chain',
        params: {
          nodes: NODES, firstOfCycle: String(firstSubmissions[0]), firstCycleMedian: String(median(firstSubmissions.slice(1))),
          steadyAll: steadySubmissions.map(String),
          note: 'steady state = not the cycle opener, and settling the node\'s previous cycle (reputation)',
          reference: 'Arbius engine: submitSolution ~202k, signalCommitment ~65k (published, not measured here)',
        },
      },
      {
        id: 'carp.gas.vote', metric: 'gas per audit vote (median)', ours: median(votes.slice(1)),
        baseline: median(bareVotes.slice(1)), baselineName: 'bare vote record (one SSTORE + tally + event) on the same chain',
        params: { voters: voters.length, all: votes.map(String) },
      },
      {
        id: 'carp.gas.claim', metric: 'gas per one-cycle Merkle claim (median)', ours: median(claims.slice(1)),
        baseline: median(bareTransfers), baselineName: 'bare ERC-20 transfer of the reward token to a fresh address',
        params: { claims: claims.length, all: claims.map(String), listSize: list.leaves.length, paysTwoTokens: 'reward token + slash bonus in the stake token', reference: 'Arbius engine: claimSolution ~101k (published, not measured here)' },
      },
    ]
    const measuredAt = new Date().toISOString()
    for (const r of results) {
      const ratio = Number(r.baseline) / Number(r.ours)
      const file = {
        id: r.id, metric: r.metric, unit: 'gas', ours: Number(r.ours), baseline: Number(r.baseline), baselineName: r.baselineName,
        ratio: Math.round(ratio * 1000) / 1000, better: 'lower',
        params: { ...r.params, chain: 'anvil (npm @foundry-rs/anvil)', machine },
        measuredAt,
      }
      writeBenchResult(file)
      console.log(`${r.id.padEnd(16)} ours ${String(r.ours).padStart(7)} gas   baseline ${String(r.baseline).padStart(7)} gas (${r.baselineName})   ratio ${file.ratio} (baseline/ours; lower bound, so < 1)`)
    }
  } finally {
    await anvil.stop()
  }

  // forge's gas report per external function, over the unit and fuzz tests.
  const report = spawnSync('npm', ['run', '-s', 'gas', '-w', 'contracts', '--', '--match-path', 'test/TaskManager.*.t.sol'], {
    cwd: root, encoding: 'utf8', maxBuffer: 1 << 26,
  })
  if (report.status !== 0) throw new Error(`forge gas report failed:\n${report.stderr}`)
  const tables = report.stdout.split('\n').filter((line) => /^[|╭╰]/.test(line)).join('\n')
  writeFileSync(join(RESULTS_DIR, 'carp.gas-report.txt'), `# forge test --gas-report (test/TaskManager.*.t.sol), ${new Date().toISOString()}\n${tables}\n`)
  console.log(`forge gas report → bench/results/carp.gas-report.txt`)
}

await main()
