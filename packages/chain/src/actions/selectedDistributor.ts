import { maxUint256, zeroAddress, type Address, type BlockNumber, type BlockTag } from 'viem'

import { taskLensAbi, taskManagerAbi } from '../generated/contracts.ts'
import { readContract, type AnyClient, type ReadOptions } from '../internal/contract.ts'
import { materializeProofOf, type MaterializeProof } from './buildMaterializeProof.ts'
import { getBatchEntries } from './getBatchEntries.ts'

export type SelectedDistributorParameters = ReadOptions & {
  /** TaskLens address. */
  address: Address
  taskId: bigint
  cycle: bigint
  /** Distribution attempt (TaskManager.currentDistributionAttempt gives the open one). */
  attempt: bigint
  /** Where the cycle's batch events start, for a draw on a batched entry (default block 0). */
  fromBlock?: BlockNumber | BlockTag | undefined
}

export type SelectedDistributorReturnType = {
  /** Selected node; undefined until the cycle seed is fixed or if nobody submitted. */
  node: Address | undefined
  /** Its index in the cycle's selection order (postDistribution's submitterIndex). */
  index: bigint
  /**
   * Set when the draw fell on a batched entry: the poster must materialize it (materializeSubmission
   * with this proof) before posting.
   */
  batched?: MaterializeProof | undefined
}

/**
 * The node selected to post the distribution of `cycle` for `attempt` (TaskLens.selectedDistributor).
 * Note: the draw does not skip convicted submitters; the manager refuses their post, so such an
 * attempt can only time out.
 */
export async function selectedDistributor(
  client: AnyClient,
  parameters: SelectedDistributorParameters,
): Promise<SelectedDistributorReturnType> {
  const { address, taskId, cycle, attempt, fromBlock, ...options } = parameters
  const [node, index] = await readContract(client, {
    abi: taskLensAbi,
    address,
    functionName: 'selectedDistributor',
    args: [taskId, cycle, attempt],
    ...options,
  })
  if (index !== maxUint256) return { node: node === zeroAddress ? undefined : node, index }
  // The draw is on the batched line (TaskLens.BATCHED_SELECTION): find the covering entry.
  const [manager, [point, directTotal]] = await Promise.all([
    readContract(client, { abi: taskLensAbi, address, functionName: 'manager', args: [], ...options }),
    readContract(client, { abi: taskLensAbi, address, functionName: 'selectionPoint', args: [taskId, cycle, attempt], ...options }),
  ])
  const cycleState = await readContract(client, { abi: taskManagerAbi, address: manager, functionName: 'getCycle', args: [taskId, cycle], ...options })
  const batches = await getBatchEntries(client, { address: manager, taskId, cycle, fromBlock, retry: options.retry })
  const onBatched = point - directTotal
  for (const batch of batches) {
    const entry = batch.entries.find((candidate) => candidate.weightStart <= onBatched && onBatched < candidate.weightEnd)
    if (entry) {
      return { node: entry.node, index: BigInt(cycleState.submitters.length) + entry.position, batched: materializeProofOf([batch], entry.node) }
    }
  }
  return { node: undefined, index }
}
