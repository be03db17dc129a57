import type { Address, BlockNumber, BlockTag, Hash } from 'viem'
import { getContractEvents, getTransaction } from 'viem/actions'

import { decodeSubmitBatchInput } from '../batch/calldata.ts'
import { BatchDecodeError, batchEntries, type BatchedEntry } from '../batch/entries.ts'
import { taskManagerAbi } from '../generated/contracts.ts'
import type { AnyClient } from '../internal/contract.ts'
import { withRetry, type RetryOptions } from '../utils/retry.ts'

export type GetBatchEntriesParameters = {
  /** TaskManager address. */
  address: Address
  taskId: bigint
  cycle: bigint
  /** Where to look for the cycle's SubmissionsBatched events (default: from block 0). */
  fromBlock?: BlockNumber | BlockTag | undefined
  toBlock?: BlockNumber | BlockTag | undefined
  retry?: RetryOptions | undefined
}

export type CycleBatch = {
  batchIndex: bigint
  entriesRoot: Hash
  transactionHash: Hash
  blockNumber: bigint
  entries: BatchedEntry[]
}

export type GetBatchEntriesReturnType = CycleBatch[]

/**
 * The decoded entries of every batch of `cycle`, in batch order: nodes and roots from each
 * batch transaction's submitBatch calldata, weights and scores from its SubmissionsBatched event,
 * each batch checked against its on-chain entries root. Batches must be posted by calling the
 * TaskManager directly (a batch sent through another contract cannot be decoded from calldata).
 */
export async function getBatchEntries(client: AnyClient, parameters: GetBatchEntriesParameters): Promise<GetBatchEntriesReturnType> {
  const { address, taskId, cycle, fromBlock = 0n, toBlock, retry } = parameters
  const logs = await withRetry(
    () =>
      getContractEvents(client, {
        address,
        abi: taskManagerAbi,
        eventName: 'SubmissionsBatched',
        args: { taskId, cycle },
        fromBlock,
        ...(toBlock === undefined ? {} : { toBlock }),
        strict: true,
      }),
    retry,
  )
  const sorted = [...logs].sort((a, b) => (a.args.batchIndex < b.args.batchIndex ? -1 : 1))
  const batches: CycleBatch[] = []
  let position = 0n
  for (const [i, log] of sorted.entries()) {
    const { batchIndex, entriesRoot, count, weightStart, weights } = log.args
    if (batchIndex !== BigInt(i)) {
      throw new BatchDecodeError(`batch ${i} of task ${taskId} cycle ${cycle} is missing from the logs (give fromBlock early enough)`, { found: batchIndex })
    }
    const { transactionHash, blockNumber } = log
    if (transactionHash === null || blockNumber === null) throw new BatchDecodeError(`batch ${batchIndex} is in a pending block; read it once mined`)
    const transaction = await withRetry(() => getTransaction(client, { hash: transactionHash }), retry)
    const signed = decodeSubmitBatchInput(transaction.input, { taskId, cycle, transactionHash })
    if (BigInt(signed.length) !== count) throw new BatchDecodeError(`batch ${batchIndex} calldata has ${signed.length} entries, the event says ${count}`)
    const entries = batchEntries({ signed, firstPosition: position, weightStart, weights, entriesRoot })
    position += count
    batches.push({ batchIndex, entriesRoot, transactionHash, blockNumber, entries })
  }
  return batches
}
