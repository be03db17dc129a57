// What the chain says about a task's finalized cycles, in the shape @coop/protocol verifyHeadChain
// takes (docs/scale.md): the anchored head digest, the final list (merkleRoot, listCid), the
// accepted (not convicted) submitters' roots — direct and batched — and the two times the prev
// rule compares: when the cycle's list was finalized (its DistributionFinalized block's timestamp)
// and when its distribution opened (roundStart(cycle + 2)). Read with nothing but an RPC endpoint:
// the verifier of a node's history trusts the chain alone.
import { getCycle, getCycleSubmitters, getSubmission, roundStart, taskManagerAbi, type Cycle } from '@coop/chain'
import type { ChainCycleFacts } from '@coop/protocol'
import type { Address, Hex, PublicClient } from 'viem'

export type HeadChainReader = Pick<PublicClient, 'getContractEvents' | 'readContract' | 'getBlock'>

/** The chain reads acceptedSubmissions needs (a node's decorated `chain.coop` has them). */
export type SubmissionReader = {
  getCycleSubmitters(parameters: { taskId: bigint; cycle: bigint }): Promise<{ submitters: { node: Address; batch: { entry: { root: Hex } } | undefined }[] }>
  getSubmission(parameters: { taskId: bigint; cycle: bigint; node: Address }): Promise<{ root: Hex; convicted: boolean }>
}

/**
 * The accepted (not convicted) submissions of a cycle as the chain states them, direct and batched
 * (a batched entry's root comes from its batch; only a materialized entry can be convicted).
 */
export async function acceptedSubmissions(coop: SubmissionReader, taskId: bigint, cycle: bigint, state: Pick<Cycle, 'submitters' | 'batchCount'>): Promise<{ node: Address; root: Hex }[]> {
  const submitters =
    state.batchCount === 0 ? state.submitters.map((node) => ({ node, batch: undefined })) : (await coop.getCycleSubmitters({ taskId, cycle })).submitters
  const all = await Promise.all(
    submitters.map(async ({ node, batch }) => {
      const submission = await coop.getSubmission({ taskId, cycle, node })
      return { node, root: batch ? batch.entry.root : submission.root, convicted: submission.convicted }
    }),
  )
  return all.filter((entry) => !entry.convicted).map(({ node, root }) => ({ node, root }))
}

/** When `cycle`'s list was finalized: the timestamp of the block holding its DistributionFinalized (undefined: not finalized). */
export async function finalizedTime(client: Pick<PublicClient, 'getContractEvents' | 'getBlock'>, taskManager: Address, taskId: bigint, cycle: bigint): Promise<bigint | undefined> {
  const logs = await client.getContractEvents({ address: taskManager, abi: taskManagerAbi, eventName: 'DistributionFinalized', args: { taskId, cycle }, fromBlock: 0n, toBlock: 'latest' })
  const blockNumber = logs[0]?.blockNumber
  return blockNumber == null ? undefined : (await client.getBlock({ blockNumber })).timestamp
}

/** The facts of every cycle of `taskId` that has a DistributionFinalized event (ascending cycle). */
export async function readHeadChainFacts(client: HeadChainReader, taskManager: Address, taskId: bigint, options: { fromBlock?: bigint } = {}): Promise<ChainCycleFacts[]> {
  const fromBlock = options.fromBlock ?? 0n
  const finalized = await client.getContractEvents({ address: taskManager, abi: taskManagerAbi, eventName: 'DistributionFinalized', args: { taskId }, fromBlock, toBlock: 'latest' })
  const coop: SubmissionReader = {
    getCycleSubmitters: (parameters) => getCycleSubmitters(client as never, { address: taskManager, ...parameters }),
    getSubmission: (parameters) => getSubmission(client as never, { address: taskManager, ...parameters }),
  }
  const blockTimes = new Map<bigint, Promise<bigint>>()
  const blockTime = (blockNumber: bigint) => {
    let time = blockTimes.get(blockNumber)
    if (!time) blockTimes.set(blockNumber, (time = client.getBlock({ blockNumber }).then((block) => block.timestamp)))
    return time
  }
  const facts: ChainCycleFacts[] = []
  for (const log of finalized) {
    const cycle = log.args.cycle as bigint
    const state = await getCycle(client as never, { address: taskManager, taskId, cycle })
    const [submissions, finalizedAt, opensAt] = await Promise.all([
      acceptedSubmissions(coop, taskId, cycle, state),
      log.blockNumber == null ? undefined : blockTime(log.blockNumber),
      roundStart(client as never, { address: taskManager, taskId, round: cycle + 2n }),
    ])
    facts.push({
      cycle,
      final: state.status === 2,
      scaleHead: state.scaleHead as Hex,
      submissions,
      merkleRoot: state.merkleRoot as Hex,
      listCid: state.listCid as Hex,
      distributionOpensAt: opensAt,
      ...(finalizedAt === undefined ? {} : { finalizedTime: finalizedAt }),
    })
  }
  return facts.sort((a, b) => (BigInt(a.cycle) < BigInt(b.cycle) ? -1 : 1))
}
