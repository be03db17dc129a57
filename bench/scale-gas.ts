// Gas per node-round of a cycle's submissions, direct vs batched (issue 4, DESIGN.md "Benchmark
// definitions"): every transaction a round's submissions need — 21 000 base, calldata and
// execution, i.e. receipt gasUsed — divided by the number of nodes that submitted. Direct = each
// node's own TaskManager.submit; batched = EIP-712 signatures collected by one batcher and posted
// with TaskManager.submitBatch (one transaction of up to MAX_BATCH entries). Same contracts, same
// nodes, same run, on anvil, for N = 10, 100, 1 000 funded, staked, registered nodes.
//
// Cycles, so both paths are measured at steady state and the one-time costs are visible:
//   c0 batched  first submission of every node (member index assigned, registration read) and the
//               cycle opener (bounty reserved)
//   c1 direct   nodes already have member indices; nothing to settle yet (c0 was batched)
//   c2 batched  steady state               → ours
//   c3 direct   steady state: settles the node's c1 reputation, as every direct round does → baseline
// Setup is fast: anvil_setBalance for gas, and every setup transaction signed locally and sent
// without waiting (automine off), then mined in a few large blocks.
// Writes bench/results/scale.gas.n{10,100,1000}.json.
import { machineFacts, writeBenchResult } from './results-file.ts'

import {
  coopTokenAbi,
  createCoopTestClient,
  deployCoop,
  createCoopClient,
  coopActions,
  approveErc20,
  mintTestErc20,
  setChainTime,
  startAnvil,
  submissionTypedData,
  taskManagerAbi,
  taskParams,
  type Anvil,
  type CoopTestClient,
  type SignedSubmission,
} from '@coop/chain'
import {
  encodeFunctionData,
  keccak256,
  maxUint256,
  parseEther,
  parseGwei,
  parseSignature,
  parseUnits,
  signatureToCompactSignature,
  stringToHex,
  type Address,
  type Hash,
  type Hex,
} from 'viem'
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts'

const SIZES = (process.env.SCALE_GAS_SIZES ?? '10,100,1000').split(',').map(Number)
const MAX_BATCH = 1_000
const BLOCK_GAS_LIMIT = 300_000_000n
const SEED = 'coop-scale-gas-v1'

type Node = { account: PrivateKeyAccount; nonce: number }

const fees = { maxFeePerGas: parseGwei('20'), maxPriorityFeePerGas: parseGwei('1') }

/** Signs a transaction locally (fixed gas and fees: no per-transaction RPC round trips). */
async function signCall(node: Node, chainId: number, to: Address, data: Hex, gas: bigint): Promise<Hex> {
  const serialized = await node.account.signTransaction({ type: 'eip1559', chainId, nonce: node.nonce++, to, data, gas, ...fees })
  return serialized
}

async function sendAll(test: CoopTestClient, raw: Hex[]): Promise<Hash[]> {
  const hashes: Hash[] = []
  for (let i = 0; i < raw.length; i += 200) {
    hashes.push(...(await Promise.all(raw.slice(i, i + 200).map((serializedTransaction) => test.sendRawTransaction({ serializedTransaction })))))
  }
  return hashes
}

/** Mines until every transaction is in a block, then returns the receipts (all must succeed). */
async function mineAll(test: CoopTestClient, hashes: Hash[], what: string) {
  for (let blocks = 0; ; blocks++) {
    const pending = Number(await test.request({ method: 'eth_getBlockTransactionCountByNumber' as never, params: ['pending'] as never }))
    if (pending === 0 || blocks > 50) break
    await test.request({ method: 'evm_mine' as never, params: [] as never })
  }
  const receipts = []
  for (let i = 0; i < hashes.length; i += 200) {
    receipts.push(...(await Promise.all(hashes.slice(i, i + 200).map((hash) => test.getTransactionReceipt({ hash })))))
  }
  const failed = receipts.filter((receipt) => receipt.status !== 'success')
  if (failed.length > 0) throw new Error(`${what}: ${failed.length} of ${receipts.length} transactions reverted (first ${failed[0]!.transactionHash})`)
  return receipts
}

type Measured = { cycle: number; path: 'batched' | 'direct'; transactions: number; gas: bigint; perNode: number }

async function measure(n: number): Promise<{ cycles: Measured[]; setupSeconds: number; seconds: number }> {
  const started = performance.now()
  const anvil: Anvil = await startAnvil({ accounts: 2, args: ['--gas-limit', String(BLOCK_GAS_LIMIT)] })
  try {
    const [creatorKey, batcherKey] = anvil.accounts
    const creator = createCoopClient({ rpcUrl: anvil.rpcUrl, account: creatorKey!.privateKey })
    const test = createCoopTestClient({ rpcUrl: anvil.rpcUrl })
    const chainId = await creator.getChainId()
    const { addresses } = await deployCoop(creator)
    const coop = creator.extend(coopActions(addresses))
    await mintTestErc20(creator, { address: addresses.rewardToken, to: creator.account.address, amount: parseUnits('1000000', 18) })
    await approveErc20(creator, { address: addresses.rewardToken, spender: addresses.taskManager, amount: maxUint256 })
    const params = taskParams({ stakeToken: addresses.coopToken, rewardToken: addresses.rewardToken })
    const { taskId, startTime } = await coop.createTask({ params, bounty: parseUnits('100000', 18) })
    const start = (round: bigint) => startTime + round * params.roundLength

    // N node accounts from fixed keys; gas money by anvil_setBalance; COOP from the creator.
    const nodes: Node[] = Array.from({ length: n }, (_, i) => ({ account: privateKeyToAccount(keccak256(stringToHex(`${SEED}:${i}`))), nonce: 0 }))
    await Promise.all(nodes.map((node) => test.setBalance({ address: node.account.address, value: parseEther('10') })))
    await test.setAutomine(false)
    const creatorNode: Node = { account: creator.account as PrivateKeyAccount, nonce: await creator.getTransactionCount({ address: creator.account.address }) }
    const stakeAmount = parseUnits('1000', 18)
    const funding: Hex[] = []
    for (const node of nodes) {
      funding.push(await signCall(creatorNode, chainId, addresses.coopToken, encodeFunctionData({ abi: coopTokenAbi, functionName: 'transfer', args: [node.account.address, stakeAmount] }), 100_000n))
    }
    await mineAll(test, await sendAll(test, funding), 'fund nodes')
    const joining: Hex[] = []
    for (const node of nodes) {
      joining.push(await signCall(node, chainId, addresses.coopToken, encodeFunctionData({ abi: coopTokenAbi, functionName: 'approve', args: [addresses.taskManager, maxUint256] }), 100_000n))
      joining.push(await signCall(node, chainId, addresses.taskManager, encodeFunctionData({ abi: taskManagerAbi, functionName: 'registerNode', args: [`/ip4/127.0.0.1/tcp/4001/p2p/bench-${node.account.address}`] }), 200_000n))
      joining.push(await signCall(node, chainId, addresses.taskManager, encodeFunctionData({ abi: taskManagerAbi, functionName: 'stake', args: [taskId, stakeAmount] }), 200_000n))
    }
    await mineAll(test, await sendAll(test, joining), 'approve, register, stake')
    const setupSeconds = (performance.now() - started) / 1000

    const work = (node: Node, cycle: bigint) => keccak256(stringToHex(`${node.account.address}:${cycle}`))
    const batcher: Node = { account: privateKeyToAccount(batcherKey!.privateKey), nonce: 0 }

    const direct = async (cycle: bigint): Promise<Measured> => {
      await setChainTime(test, start(cycle + 1n))
      const raw: Hex[] = []
      for (const node of nodes) {
        raw.push(await signCall(node, chainId, addresses.taskManager, encodeFunctionData({ abi: taskManagerAbi, functionName: 'submit', args: [taskId, cycle, work(node, cycle)] }), 400_000n))
      }
      const receipts = await mineAll(test, await sendAll(test, raw), `direct submissions of cycle ${cycle}`)
      const gas = receipts.reduce((sum, receipt) => sum + receipt.gasUsed, 0n)
      return { cycle: Number(cycle), path: 'direct', transactions: receipts.length, gas, perNode: Number(gas) / n }
    }

    const batched = async (cycle: bigint): Promise<Measured> => {
      await setChainTime(test, start(cycle + 1n))
      // Each node signs its submission (what signSubmission does), the batcher collects them.
      const signed: SignedSubmission[] = []
      for (const node of nodes) {
        const root = work(node, cycle)
        const signature = await node.account.signTypedData(submissionTypedData({ taskManager: addresses.taskManager, chainId, taskId, cycle, root }))
        const { r, yParityAndS } = signatureToCompactSignature(parseSignature(signature))
        signed.push({ node: node.account.address, root, r, vs: yParityAndS })
      }
      batcher.nonce = await test.getTransactionCount({ address: batcher.account.address, blockTag: 'pending' })
      const raw: Hex[] = []
      for (let i = 0; i < signed.length; i += MAX_BATCH) {
        const chunk = signed.slice(i, i + MAX_BATCH)
        const data = encodeFunctionData({ abi: taskManagerAbi, functionName: 'submitBatch', args: [taskId, cycle, chunk] })
        raw.push(await signCall(batcher, chainId, addresses.taskManager, data, 200_000n + BigInt(chunk.length) * 30_000n))
      }
      const receipts = await mineAll(test, await sendAll(test, raw), `batched submissions of cycle ${cycle}`)
      const gas = receipts.reduce((sum, receipt) => sum + receipt.gasUsed, 0n)
      const recorded = await coop.getCycle({ taskId, cycle })
      if (recorded.batchedCount !== n) throw new Error(`cycle ${cycle}: ${recorded.batchedCount} batched entries recorded, expected ${n}`)
      return { cycle: Number(cycle), path: 'batched', transactions: receipts.length, gas, perNode: Number(gas) / n }
    }

    const cycles = [await batched(0n), await direct(1n), await batched(2n), await direct(3n)]
    return { cycles, setupSeconds, seconds: (performance.now() - started) / 1000 }
  } finally {
    await anvil.stop()
  }
}

async function main() {
  const machine = machineFacts()
  for (const n of SIZES) {
    const { cycles, setupSeconds, seconds } = await measure(n)
    const [batchedFirst, directNoSettle, batchedSteady, directSteady] = cycles as [Measured, Measured, Measured, Measured]
    const ours = Math.round(batchedSteady.perNode)
    const baseline = Math.round(directSteady.perNode)
    const ratio = Math.round((baseline / ours) * 1000) / 1000
    const file = {
      id: `scale.gas.n${n}`,
      metric: `gas per node-round of a cycle's submissions at N = ${n} (all submission transactions' receipt gasUsed incl. 21k base + calldata, ÷ N), steady state`,
      unit: 'gas',
      ours,
      baseline,
      baselineName: 'direct submit',
      ratio,
      better: 'lower',
      params: {
        nodes: n,
        maxBatch: MAX_BATCH,
        batchTransactions: batchedSteady.transactions,
        batchedSteadyPerNode: batchedSteady.perNode,
        directSteadyPerNode: directSteady.perNode,
        batchedFirstSubmissionPerNode: batchedFirst.perNode,
        directWithoutSettlementPerNode: directNoSettle.perNode,
        cycles: cycles.map((c) => ({ ...c, gas: c.gas.toString() })),
        note:
          'c0 batched: every node\'s first submission (member index + registration read) and the cycle opener; c1 direct: no previous cycle to settle; c2 batched = ours (steady); c3 direct = baseline (steady: settles the previous direct cycle, as every direct round does). Each cycle includes its opener (bounty reservation by the first submission).',
        target: 'batched <= 10000 gas per node-round at N = 1000 and >= 5x below direct (issue 4)',
        chain: 'anvil (npm @foundry-rs/anvil), block gas limit ' + BLOCK_GAS_LIMIT.toString(),
        seed: SEED,
        setupSeconds: Math.round(setupSeconds * 10) / 10,
        seconds: Math.round(seconds * 10) / 10,
        machine,
      },
      measuredAt: new Date().toISOString(),
    }
    writeBenchResult(file)
    console.log(
      `${file.id.padEnd(17)} batched ${String(ours).padStart(6)} gas/node-round   direct ${String(baseline).padStart(6)}   ratio ${ratio}` +
        `   (first batched ${Math.round(batchedFirst.perNode)}, direct w/o settlement ${Math.round(directNoSettle.perNode)}; ${file.params.seconds} s)`,
    )
  }
}

await main()
