// A real devnet with batched submissions, for the chain view / API / dashboard tests: anvil, Coop
// deployed, one task, four staked and registered nodes (stakes 1000, 2000, 3000, 4000 COOP).
// Cycle 0: node-1 submits directly; node-2 and node-3 sign their submissions and a batcher that
// is not a node (the task creator) posts them in one submitBatch, node-4's in a second batch.
// Chain time ends inside cycle 0's submission window; `closeAndSeed()` moves past it and fixes the
// seed, `materializeAll()` materializes every batched entry from its proof.
import {
  createCoopTestClient,
  setChainTime,
  startFundedDevnet,
  type Anvil,
  type CoopActions,
  type CoopAddresses,
  type CoopTestClient,
  type SubmitBatchReturnType,
  type TaskParams,
} from '@coop/chain'
import { keccak256, parseUnits, stringToHex, type Address, type Hex } from 'viem'

import { approvedNodes, createDefaultTask, type ApprovedNode } from './helpers.ts'

export const STAKE = parseUnits('1000', 18)

export type BatchedNode = ApprovedNode & { stake: bigint }

export type BatchedScenario = {
  anvil: Anvil
  time: CoopTestClient
  addresses: CoopAddresses
  coop: CoopActions
  params: TaskParams
  taskId: bigint
  startTime: bigint
  nodes: [BatchedNode, BatchedNode, BatchedNode, BatchedNode]
  /** The two submitBatch results (entries as committed). */
  batches: [SubmitBatchReturnType, SubmitBatchReturnType]
  names: Record<string, string>
  rootOf(node: BatchedNode): Hex
  start(round: bigint): bigint
  closeAndSeed(): Promise<void>
  materializeAll(): Promise<void>
  stop(): Promise<void>
}

export async function startBatchedScenario(): Promise<BatchedScenario> {
  const { anvil, addresses, coop, nodes: accounts } = await startFundedDevnet({ nodes: 4 })
  try {
    const nodes = (await approvedNodes(anvil.rpcUrl, addresses, accounts)).map((node, index) => ({ ...node, stake: STAKE * BigInt(index + 1) })) as BatchedScenario['nodes']
    const time = createCoopTestClient({ rpcUrl: anvil.rpcUrl })
    const { params, taskId, startTime, start } = await createDefaultTask(coop, addresses)
    const rootOf = (node: BatchedNode) => keccak256(stringToHex(`${node.name} cycle 0`))
    for (const [index, node] of nodes.entries()) {
      await node.coop.stake({ taskId, amount: node.stake })
      await node.coop.registerNode({ p2pAddress: `/ip4/127.0.0.1/tcp/${4201 + index}/p2p/12D3KooWBatchedNode${index + 1}` })
    }

    await setChainTime(time, start(1n))
    const [n1, n2, n3, n4] = nodes
    await n1.coop.submit({ taskId, cycle: 0n, root: rootOf(n1) })
    const sign = (node: BatchedNode) => node.coop.signSubmission({ taskId, cycle: 0n, root: rootOf(node) })
    const first = await coop.submitBatch({ taskId, cycle: 0n, entries: [await sign(n2), await sign(n3)] })
    const second = await coop.submitBatch({ taskId, cycle: 0n, entries: [await sign(n4)] })

    return {
      anvil,
      time,
      addresses,
      coop,
      params,
      taskId,
      startTime,
      nodes,
      batches: [first, second],
      names: Object.fromEntries(nodes.map((n) => [n.address, n.name])),
      rootOf,
      start,
      async closeAndSeed() {
        await setChainTime(time, start(1n) + params.submissionWindow)
        await coop.recordSeed({ taskId, cycle: 0n })
      },
      async materializeAll() {
        for (const node of [n2, n3, n4]) {
          const proof = await coop.buildMaterializeProof({ taskId, cycle: 0n, node: node.address })
          if (!proof) throw new Error(`scenario: ${node.name} has no batched entry`)
          await coop.materializeSubmission({ taskId, cycle: 0n, ...proof })
        }
      },
      stop: () => anvil.stop(),
    }
  } catch (error) {
    await anvil.stop()
    throw error
  }
}
