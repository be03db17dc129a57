// The nodes and roots of a posted batch live only in its transaction's calldata (the contract
// stores one Merkle root per batch). Pure: decodes a submitBatch call and checks it is the call
// that produced the batch in question.
import { decodeFunctionData, type Address, type Hash, type Hex } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { BatchDecodeError } from './entries.ts'

/**
 * The signed entries of a submitBatch(taskId, cycle, entries) call from its transaction input.
 * Throws BatchDecodeError if the input is not such a call (a batch posted through another
 * contract cannot be read from calldata) or names another task or cycle.
 */
export function decodeSubmitBatchInput(input: Hex, expected: { taskId: bigint; cycle: bigint; transactionHash?: Hash | undefined }): readonly { node: Address; root: Hash }[] {
  const { taskId, cycle, transactionHash } = expected
  let call: ReturnType<typeof decodeFunctionData<typeof taskManagerAbi>>
  try {
    call = decodeFunctionData({ abi: taskManagerAbi, data: input })
  } catch (cause) {
    throw new BatchDecodeError(`the batch of task ${taskId} cycle ${cycle} was not posted by a direct submitBatch call; its entries are not in the calldata`, { transaction: transactionHash }, cause)
  }
  if (call.functionName !== 'submitBatch') {
    throw new BatchDecodeError(`the batch of task ${taskId} cycle ${cycle} was posted by a ${call.functionName} call, not submitBatch; its entries are not in the calldata`, { transaction: transactionHash })
  }
  const [callTask, callCycle, entries] = call.args
  if (callTask !== taskId || callCycle !== cycle) {
    throw new BatchDecodeError(`the submitBatch call is for task ${callTask} cycle ${callCycle}, not task ${taskId} cycle ${cycle}`, { transaction: transactionHash })
  }
  return entries
}
