import { zeroAddress, type Address } from 'viem'

import { taskLensAbi } from '../generated/contracts.ts'
import { readContract, type AnyClient, type ReadOptions } from '../internal/contract.ts'

export type SelectedDistributorParameters = ReadOptions & {
  /** TaskLens address. */
  address: Address
  taskId: bigint
  cycle: bigint
  /** Distribution attempt (TaskManager.currentDistributionAttempt gives the open one). */
  attempt: bigint
}

export type SelectedDistributorReturnType = {
  /** Selected node; undefined until the cycle seed is fixed or if nobody submitted. */
  node: Address | undefined
  /** Its index in the cycle's submitter list (postDistribution's submitterIndex). */
  index: bigint
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
  const { address, taskId, cycle, attempt, ...options } = parameters
  const [node, index] = await readContract(client, {
    abi: taskLensAbi,
    address,
    functionName: 'selectedDistributor',
    args: [taskId, cycle, attempt],
    ...options,
  })
  return { node: node === zeroAddress ? undefined : node, index }
}
