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
  /**
   * 32-byte sha2-256 digest of the cycle's SCALE head (docs/scale.md), anchored with the list.
   * Pass `zeroHash` only for a task without SCALE rounds.
   */
  scaleHead: Hex
}

export type PostDistributionReturnType = WriteResult<typeof taskManagerAbi> & {
  attempt: number
}

/** The selected node posts a cycle's distribution Merkle root and SCALE head digest (TaskManager.postDistribution). */
export async function postDistribution(
  client: AnyClient,
  parameters: PostDistributionParameters,
): Promise<PostDistributionReturnType> {
  const { address, taskId, cycle, submitterIndex, merkleRoot, listCid, rewardTotal, bonusTotal, scaleHead, ...options } = parameters
  const result = await writeContract(client, {
    abi: taskManagerAbi,
    address,
    functionName: 'postDistribution',
    args: [taskId, cycle, submitterIndex, merkleRoot, listCid, rewardTotal, bonusTotal, scaleHead],
    ...options,
  })
  return { ...result, attempt: findEvent(result, 'DistributionPosted').args.attempt }
}
