// Shared plumbing of the actions: read with retry, and write = simulate → sign → send → receipt.
// Local accounts sign here so the raw transaction (and its hash) is fixed before sending: a send
// that fails transiently is retried with the same bytes and can never go out twice.
import {
  encodeFunctionData,
  keccak256,
  parseEventLogs,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Client,
  type ContractEventName,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type ContractFunctionReturnType,
  type Hash,
  type Hex,
  type ParseEventLogsReturnType,
  type TransactionReceipt,
  type Transport,
} from 'viem'
import {
  getTransaction,
  prepareTransactionRequest,
  readContract as viemReadContract,
  sendRawTransaction,
  sendTransaction,
  simulateContract,
  waitForTransactionReceipt,
  writeContract as viemWriteContract,
} from 'viem/actions'
import { parseAccount } from 'viem/accounts'

import { AccountMissingError, EventNotFoundError, TransactionRevertedError } from '../errors.ts'
import { withRetry, type RetryOptions } from '../utils/retry.ts'

export type AnyClient = Client<Transport, Chain | undefined, Account | undefined>

/** Options every write action accepts. */
export type WriteOptions = {
  /** Signer; defaults to the client's account. */
  account?: Account | Address | undefined
  /** Retry policy for transient RPC failures. */
  retry?: RetryOptions | undefined
  /** Receipt timeout (ms, default 60 000). */
  receiptTimeout?: number | undefined
}

/** Options every read action accepts. */
export type ReadOptions = {
  retry?: RetryOptions | undefined
  blockNumber?: bigint | undefined
}

/** What every write action returns (plus its own decoded fields). */
export type WriteResult<abi extends Abi = Abi> = {
  hash: Hash
  receipt: TransactionReceipt
  gasUsed: bigint
  /** Every log of the receipt decodable with the contract's ABI. */
  events: ParseEventLogsReturnType<abi, undefined, true>
}

type WriteFunctionName<abi extends Abi> = ContractFunctionName<abi, 'nonpayable' | 'payable'>
type ReadFunctionName<abi extends Abi> = ContractFunctionName<abi, 'pure' | 'view'>

export function resolveAccount(client: AnyClient, account: Account | Address | undefined, action: string): Account {
  const resolved = account ?? client.account
  if (!resolved) throw new AccountMissingError(action)
  return parseAccount(resolved)
}

export async function readContract<
  const abi extends Abi,
  functionName extends ReadFunctionName<abi>,
  const args extends ContractFunctionArgs<abi, 'pure' | 'view', functionName>,
>(
  client: AnyClient,
  parameters: { abi: abi; address: Address; functionName: functionName; args: args } & ReadOptions,
): Promise<ContractFunctionReturnType<abi, 'pure' | 'view', functionName, args>> {
  const { retry, blockNumber, ...call } = parameters
  return withRetry(
    () => viemReadContract(client, { ...call, ...(blockNumber === undefined ? {} : { blockNumber }) } as never),
    { ...retry, context: { functionName: call.functionName, contractAddress: call.address, ...retry?.context } },
  ) as Promise<ContractFunctionReturnType<abi, 'pure' | 'view', functionName, args>>
}

export async function writeContract<
  const abi extends Abi,
  functionName extends WriteFunctionName<abi>,
  const args extends ContractFunctionArgs<abi, 'nonpayable' | 'payable', functionName>,
>(
  client: AnyClient,
  parameters: { abi: abi; address: Address; functionName: functionName; args: args; value?: bigint } & WriteOptions,
): Promise<WriteResult<abi>> {
  const { abi, address, functionName, args, value, retry, receiptTimeout } = parameters
  const account = resolveAccount(client, parameters.account, functionName)
  const retryOptions: RetryOptions = {
    ...retry,
    context: { functionName, contractAddress: address, sender: account.address, ...retry?.context },
  }

  // 1. Simulate: a revert surfaces here as a typed ContractRevertedError, before anything is sent.
  const { request } = await withRetry(
    () => simulateContract(client, { abi, address, functionName, args, account, value } as never),
    retryOptions,
  )

  // 2. Send and wait.
  const { hash, receipt } = await sendTransactionAndWait(client, {
    account,
    to: address,
    data: encodeFunctionData({ abi, functionName, args } as never),
    value,
    request,
    retry: retryOptions,
    receiptTimeout,
    functionName,
  })
  const events = parseEventLogs({
    abi,
    logs: receipt.logs.filter((log) => log.address.toLowerCase() === address.toLowerCase()),
  }) as ParseEventLogsReturnType<abi, undefined, true>
  return { hash, receipt, gasUsed: receipt.gasUsed, events }
}

export type SendParameters = {
  account: Account
  /** Undefined for a contract creation. */
  to?: Address | undefined
  data: Hex
  value?: bigint | undefined
  /** For JSON-RPC accounts: viem's simulated write request, sent by the node's own signer. */
  request?: unknown
  retry: RetryOptions
  receiptTimeout?: number | undefined
  functionName?: string | undefined
}

/**
 * Signs (local accounts) and sends a transaction, retrying transient failures with the same
 * signed bytes, then waits for a successful receipt.
 */
export async function sendTransactionAndWait(
  client: AnyClient,
  parameters: SendParameters,
): Promise<{ hash: Hash; receipt: TransactionReceipt }> {
  const { account, to, data, value, request, retry, receiptTimeout, functionName } = parameters
  let hash: Hash
  if (account.type === 'local' && account.signTransaction) {
    const prepared = await withRetry(
      () => prepareTransactionRequest(client, { account, chain: client.chain, to, data, value } as never),
      retry,
    )
    const serialized: Hex = await account.signTransaction(prepared as never)
    hash = keccak256(serialized)
    await withRetry(async (attempt) => {
      try {
        await sendRawTransaction(client, { serializedTransaction: serialized })
      } catch (error) {
        // A retry of a send that did reach the node: same bytes, same hash, already known.
        if (attempt > 1 && (await getTransaction(client, { hash }).catch(() => undefined))) return
        throw error
      }
    }, retry)
  } else if (request) {
    // JSON-RPC account (e.g. anvil's unlocked accounts): the node signs. Not retried, since a
    // lost answer could mean the transaction went out.
    hash = await withRetry(() => viemWriteContract(client, request as never), { ...retry, retries: 0 })
  } else {
    hash = await withRetry(
      () => sendTransaction(client, { account, chain: client.chain, to, data, value } as never),
      { ...retry, retries: 0 },
    )
  }
  const receipt = await withRetry(
    () => waitForTransactionReceipt(client, { hash, timeout: receiptTimeout ?? 60_000 }),
    retry,
  )
  if (receipt.status !== 'success') throw new TransactionRevertedError({ hash, receipt, functionName })
  return { hash, receipt }
}

/** The first decoded event named `eventName`, or a typed error naming the transaction. */
export function findEvent<const abi extends Abi, eventName extends ContractEventName<abi>>(
  result: WriteResult<abi>,
  eventName: eventName,
): Extract<WriteResult<abi>['events'][number], { eventName: eventName }> {
  const event = result.events.find((log) => (log.eventName as string) === eventName)
  if (!event) throw new EventNotFoundError({ eventName, hash: result.hash })
  return event as Extract<WriteResult<abi>['events'][number], { eventName: eventName }>
}

/** Every decoded event named `eventName`. */
export function filterEvents<const abi extends Abi, eventName extends ContractEventName<abi>>(
  result: WriteResult<abi>,
  eventName: eventName,
): Extract<WriteResult<abi>['events'][number], { eventName: eventName }>[] {
  return result.events.filter((log) => (log.eventName as string) === eventName) as Extract<
    WriteResult<abi>['events'][number],
    { eventName: eventName }
  >[]
}
