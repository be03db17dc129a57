import type { Address } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { writeContract, type AnyClient, type WriteOptions, type WriteResult } from '../internal/contract.ts'

export type SettleReputationParameters = WriteOptions & {
  /** TaskManager address. */
  address: Address
  taskId: bigint
  cycle: bigint
  node: Address
}

export type SettleReputationReturnType = WriteResult<typeof taskManagerAbi> & {
  /** The node's reputation after settling; undefined if there was nothing to settle. */
  reputation: { passed: number; failed: number; score: number } | undefined
}

/**
 * Counts a submission as passed once its audit window is over and no audit is open
 * (TaskManager.settleReputation). A node's next submission does this implicitly.
 */
export async function settleReputation(
  client: AnyClient,
  parameters: SettleReputationParameters,
): Promise<SettleReputationReturnType> {
  const { address, taskId, cycle, node, ...options } = parameters
  const result = await writeContract(client, {
    abi: taskManagerAbi,
    address,
    functionName: 'settleReputation',
    args: [taskId, cycle, node],
    ...options,
  })
  const updated = result.events.find((log) => log.eventName === 'ReputationUpdated')
  return {
    ...result,
    reputation:
      updated?.eventName === 'ReputationUpdated'
        ? { passed: updated.args.passed, failed: updated.args.failed, score: updated.args.score }
        : undefined,
  }
}
