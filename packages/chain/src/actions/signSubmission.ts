import { parseSignature, signatureToCompactSignature, type Account, type Address, type Hex } from 'viem'
import { getChainId, signTypedData } from 'viem/actions'

import { submissionTypedData, type SignedSubmission } from '../batch/entries.ts'
import { resolveAccount, type AnyClient } from '../internal/contract.ts'
import { withRetry, type RetryOptions } from '../utils/retry.ts'

export type SignSubmissionParameters = {
  /** TaskManager address (the EIP-712 verifyingContract). */
  address: Address
  taskId: bigint
  cycle: bigint
  /** 32-byte root of the node's work DAG for the cycle. */
  root: Hex
  /** Signer; defaults to the client's account. */
  account?: Account | Address | undefined
  /** Defaults to the client's chain, else asked of the RPC. */
  chainId?: number | undefined
  retry?: RetryOptions | undefined
}

/**
 * Signs the node's EIP-712 Submission(taskId, cycle, root) for a batcher to post with submitBatch
 * (domain "Coop TaskManager", "1", chainId, TaskManager). Returns the entry in EIP-2098 compact form.
 */
export async function signSubmission(client: AnyClient, parameters: SignSubmissionParameters): Promise<SignedSubmission> {
  const { address, taskId, cycle, root, retry } = parameters
  const account = resolveAccount(client, parameters.account, 'signSubmission')
  const chainId = parameters.chainId ?? client.chain?.id ?? (await withRetry(() => getChainId(client), retry))
  const signature = await signTypedData(client, { account, ...submissionTypedData({ taskManager: address, chainId, taskId, cycle, root }) })
  const { r, yParityAndS } = signatureToCompactSignature(parseSignature(signature))
  return { node: account.address, root, r, vs: yParityAndS }
}
