import type { Address, Hex } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { findEvent, writeContract, type AnyClient, type WriteOptions, type WriteResult } from '../internal/contract.ts'

export type PostDistributionParameters = WriteOptions & {
  /** TaskManager address. */
  address: Address
  taskId: bigint
  cycle: bigint
  /** The poster's index in the cycle's submitter list (TaskLens.selectedDistributor returns it). */
  submitterIndex: bigint
  merkleRoot: Hex
  /** 32-byte digest of the full list's CID. */
  listCid: Hex
  rewardTotal: bigint
  bonusTotal: bigint
}

export type PostDistributionReturnType = WriteResult<typeof taskManagerAbi> & {
  attempt: number
}

/** The selected node posts a cycle's distribution Merkle root (TaskManager.postDistribution). */
export async function postDistribution(
  client: AnyClient,
  parameters: PostDistributionParameters,
): Promise<PostDistributionReturnType> {
  const { address, taskId, cycle, submitterIndex, merkleRoot, listCid, rewardTotal, bonusTotal, ...options } = parameters
  const result = await writeContract(client, {
    abi: taskManagerAbi,
    address,
    functionName: 'postDistribution',
    args: [taskId, cycle, submitterIndex, merkleRoot, listCid, rewardTotal, bonusTotal],
    ...options,
  })
  return { ...result, attempt: findEvent(result, 'DistributionPosted').args.attempt }
}
