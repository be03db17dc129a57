// What the chain says about a task's finalized cycles, in the shape @coop/protocol verifyHeadChain
// takes (docs/scale.md): the anchored head digest, the final list (merkleRoot, listCid), the
// accepted (not convicted) submitters' roots, and where the final DistributionPosted and the
// DistributionFinalized sit on the chain. Read with nothing but an RPC endpoint: the verifier of a
// node's history trusts the chain alone.
import { getCycle, getSubmission, taskManagerAbi } from '@coop/chain'
import type { ChainCycleFacts, ChainPosition } from '@coop/protocol'
import type { Address, Hex, PublicClient } from 'viem'

export type HeadChainReader = Pick<PublicClient, 'getContractEvents' | 'readContract'>

const position = (log: { blockNumber: bigint | null; logIndex: number | null }): ChainPosition => ({ block: log.blockNumber ?? 0n, logIndex: log.logIndex ?? 0 })
const before = (a: ChainPosition, b: ChainPosition) => a.block < b.block || (a.block === b.block && a.logIndex < b.logIndex)

/** The facts of every cycle of `taskId` that has a DistributionFinalized event (ascending cycle). */
export async function readHeadChainFacts(client: HeadChainReader, taskManager: Address, taskId: bigint, options: { fromBlock?: bigint } = {}): Promise<ChainCycleFacts[]> {
  const fromBlock = options.fromBlock ?? 0n
  const [posted, finalized] = await Promise.all([
    client.getContractEvents({ address: taskManager, abi: taskManagerAbi, eventName: 'DistributionPosted', args: { taskId }, fromBlock, toBlock: 'latest' }),
    client.getContractEvents({ address: taskManager, abi: taskManagerAbi, eventName: 'DistributionFinalized', args: { taskId }, fromBlock, toBlock: 'latest' }),
  ])
  const facts: ChainCycleFacts[] = []
  for (const log of finalized) {
    const cycle = log.args.cycle as bigint
    const finalizedAt = position(log)
    // The list that became final is the last one posted for the cycle before it was finalized.
    let postedAt: ChainPosition | undefined
    for (const entry of posted) {
      if ((entry.args.cycle as bigint) !== cycle) continue
      const at = position(entry)
      if (before(at, finalizedAt) && (postedAt === undefined || before(postedAt, at))) postedAt = at
    }
    const state = await getCycle(client as never, { address: taskManager, taskId, cycle })
    const submissions = await Promise.all(state.submitters.map(async (node) => ({ node, submission: await getSubmission(client as never, { address: taskManager, taskId, cycle, node }) })))
    facts.push({
      cycle,
      final: state.status === 2,
      scaleHead: state.scaleHead as Hex,
      submissions: submissions.filter((entry) => !entry.submission.convicted).map((entry) => ({ node: entry.node, root: entry.submission.root as Hex })),
      merkleRoot: state.merkleRoot as Hex,
      listCid: state.listCid as Hex,
      finalizedAt,
      ...(postedAt ? { postedAt } : {}),
    })
  }
  return facts.sort((a, b) => (BigInt(a.cycle) < BigInt(b.cycle) ? -1 : 1))
}
