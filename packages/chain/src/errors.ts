// Typed errors of @coop/chain, shaped like viem's (shortMessage, details, metaMessages, cause,
// walk()) plus a stable `code`. Contract reverts are decoded against every Coop custom error.
import {
  BaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  HttpRequestError,
  RpcRequestError,
  TimeoutError,
  type Address,
  type ContractErrorArgs,
  type ContractErrorName,
  type Hash,
  type Hex,
  type TransactionReceipt,
} from 'viem'

import { coopErrorsAbi } from './generated/contracts.ts'

export type CoopChainErrorCode =
  | 'CONTRACT_REVERTED'
  | 'TRANSACTION_REVERTED'
  | 'RPC_UNAVAILABLE'
  | 'RPC_ERROR'
  | 'ACCOUNT_MISSING'
  | 'EVENT_NOT_FOUND'
  | 'ANVIL_START_FAILED'
  | 'ANVIL_BINARY_NOT_FOUND'
  | 'UNKNOWN'

export type CoopChainErrorOptions = {
  code: CoopChainErrorCode
  cause?: unknown
  details?: string | undefined
  metaMessages?: string[] | undefined
}

/** Base of every error thrown by @coop/chain. `code` is stable; messages say what to do. */
export class CoopChainError extends Error {
  override name = 'CoopChainError'
  readonly code: CoopChainErrorCode
  readonly shortMessage: string
  readonly details: string
  readonly metaMessages: string[] | undefined
  override readonly cause: unknown

  constructor(shortMessage: string, options: CoopChainErrorOptions) {
    const details =
      options.details ??
      (options.cause instanceof BaseError
        ? options.cause.details
        : options.cause instanceof Error
          ? options.cause.message
          : '')
    const message = [
      shortMessage,
      ...(options.metaMessages?.length ? ['', ...options.metaMessages] : []),
      ...(details ? ['', `Details: ${details}`] : []),
    ].join('\n')
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = options.code
    this.shortMessage = shortMessage
    this.details = details
    this.metaMessages = options.metaMessages
    this.cause = options.cause
  }

  /** Like viem's `BaseError.walk`: the deepest cause, or the first one matching `fn`. */
  walk(fn?: (error: unknown) => boolean): unknown {
    return walkError(this, fn)
  }
}

function walkError(error: unknown, fn?: (error: unknown) => boolean): unknown {
  let current: unknown = error
  for (let depth = 0; depth < 32; depth++) {
    if (fn?.(current)) return current
    const cause = (current as { cause?: unknown } | null)?.cause
    if (cause === undefined || cause === null || cause === current) return fn ? null : current
    current = cause
  }
  return fn ? null : current
}

export type CoopErrorName = ContractErrorName<typeof coopErrorsAbi>
export type CoopErrorArgs<name extends CoopErrorName> = ContractErrorArgs<typeof coopErrorsAbi, name>

/** What to do about the most common reverts (shown in the error message). */
const hints: Partial<Record<CoopErrorName, string>> = {
  OutsideSubmissionWindow: 'Submit cycle c during [roundStart(c+1), roundStart(c+1) + submissionWindow).',
  AlreadySubmitted: 'Each node submits once per cycle.',
  InsufficientStake: 'Stake at least the task\'s minStake (approve the stake token, then stake).',
  NotRegistered: 'Call registerNode with the node\'s p2p multiaddr before submitting.',
  SeedNotYetAvailable: 'The cycle seed is fixed once its submission window closes; wait until availableAt.',
  OutsideAuditWindow: 'Audits of cycle c are raised until roundStart(c+1) + auditWindow.',
  VotingStillOpen: 'Resolve the audit after its deadline.',
  VotingClosed: 'The vote window of this audit has ended; resolve it instead.',
  DistributionNotOpen: 'Distribution of cycle c opens at roundStart(c+2).',
  AuditsPending: 'Resolve every audit and challenge of the cycle before posting its distribution.',
  NotSelectedDistributor: 'Only TaskLens.selectedDistributor(taskId, cycle, currentDistributionAttempt) may post.',
  DistributionNotFinal: 'A posted list becomes final after distributionAuditWindow with no open challenge.',
  StakeLocked: 'Unbonding stake unlocks at unbondedAtRound(taskId, node) once no case is open.',
  InvalidProof: 'The claim (cycle, reward, bonus, proof) does not match the posted Merkle root.',
  ERC20InsufficientAllowance: 'Approve the TaskManager to spend the token first.',
  ERC20InsufficientBalance: 'The account does not hold enough of the token.',
}

function formatValue(value: unknown): string {
  if (typeof value === 'bigint') return value.toString()
  if (Array.isArray(value)) return `[${value.map(formatValue).join(', ')}]`
  return String(value)
}

function namedArgs(errorName: string, args: readonly unknown[]): Record<string, unknown> {
  const item = coopErrorsAbi.find((entry) => entry.name === errorName)
  const named: Record<string, unknown> = {}
  args.forEach((value, index) => {
    const input = item?.inputs[index] as { name?: string } | undefined
    named[input?.name || `arg${index}`] = value
  })
  return named
}

export type ContractRevertedErrorParameters = {
  errorName: string
  args: readonly unknown[]
  data?: Hex | undefined
  reason?: string | undefined
  functionName?: string | undefined
  contractAddress?: Address | undefined
  sender?: Address | undefined
  cause?: unknown
}

/**
 * A call reverted. `errorName`/`args` are the decoded custom error (or `Error` with `reason`,
 * `Panic`, or `Unknown` with the raw `data`). Narrow with {@link isContractError}.
 */
export class ContractRevertedError<name extends string = string> extends CoopChainError {
  override name = 'ContractRevertedError'
  readonly errorName: name
  readonly args: name extends CoopErrorName ? CoopErrorArgs<name> : readonly unknown[]
  /** The same arguments keyed by their Solidity names. */
  readonly params: Record<string, unknown>
  readonly data: Hex | undefined
  readonly reason: string | undefined
  readonly functionName: string | undefined
  readonly contractAddress: Address | undefined
  readonly sender: Address | undefined

  constructor(parameters: ContractRevertedErrorParameters & { errorName: name }) {
    const params = namedArgs(parameters.errorName, parameters.args)
    const rendered =
      parameters.errorName === 'Error'
        ? `Error(${JSON.stringify(parameters.reason ?? '')})`
        : `${parameters.errorName}(${Object.entries(params)
            .map(([key, value]) => `${key}=${formatValue(value)}`)
            .join(', ')})`
    const where = parameters.functionName ? `${parameters.functionName} reverted` : 'Call reverted'
    const hint = hints[parameters.errorName as CoopErrorName]
    super(`${where}: ${rendered}`, {
      code: 'CONTRACT_REVERTED',
      cause: parameters.cause,
      details: parameters.data ? `revert data ${parameters.data}` : '',
      metaMessages: [
        ...(parameters.contractAddress ? [`Contract: ${parameters.contractAddress}`] : []),
        ...(parameters.sender ? [`Sender:   ${parameters.sender}`] : []),
        ...(hint ? [`Hint:     ${hint}`] : []),
      ],
    })
    this.errorName = parameters.errorName
    this.args = parameters.args as this['args']
    this.params = params
    this.data = parameters.data
    this.reason = parameters.reason
    this.functionName = parameters.functionName
    this.contractAddress = parameters.contractAddress
    this.sender = parameters.sender
  }
}

/** Type guard: `error` is a revert with custom error `errorName` (args typed from the ABI). */
export function isContractError<name extends CoopErrorName>(
  error: unknown,
  errorName: name,
): error is ContractRevertedError<name> {
  return error instanceof ContractRevertedError && error.errorName === errorName
}

/** The transaction was mined but reverted (state changed between simulation and inclusion). */
export class TransactionRevertedError extends CoopChainError {
  override name = 'TransactionRevertedError'
  readonly hash: Hash
  readonly receipt: TransactionReceipt
  readonly functionName: string | undefined

  constructor({ hash, receipt, functionName }: { hash: Hash; receipt: TransactionReceipt; functionName?: string }) {
    super(`Transaction ${functionName ?? ''} ${hash} reverted in block ${receipt.blockNumber}`.replace('  ', ' '), {
      code: 'TRANSACTION_REVERTED',
      details: 'the call succeeded in simulation; state changed before inclusion. Re-read state and retry.',
    })
    this.hash = hash
    this.receipt = receipt
    this.functionName = functionName
  }
}

/** The RPC endpoint could not be reached (or kept failing transiently) after retries. */
export class RpcUnavailableError extends CoopChainError {
  override name = 'RpcUnavailableError'
  readonly url: string | undefined
  readonly attempts: number

  constructor({ url, attempts, cause }: { url?: string | undefined; attempts: number; cause: unknown }) {
    super(`RPC ${url ?? 'endpoint'} unavailable after ${attempts} attempt${attempts === 1 ? '' : 's'}`, {
      code: 'RPC_UNAVAILABLE',
      cause,
      metaMessages: ['Check that the node is running and the RPC URL is right (e.g. `npm run devnet` starts anvil).'],
    })
    this.url = url
    this.attempts = attempts
  }
}

/** The RPC answered with an error that is not a revert (e.g. invalid params, nonce too low). */
export class RpcError extends CoopChainError {
  override name = 'RpcError'
  readonly rpcCode: number | undefined

  constructor({ cause, rpcCode }: { cause: unknown; rpcCode?: number | undefined }) {
    const short = cause instanceof BaseError ? cause.shortMessage : cause instanceof Error ? cause.message : String(cause)
    super(`RPC request failed: ${short}`, { code: 'RPC_ERROR', cause })
    this.rpcCode = rpcCode
  }
}

export class AccountMissingError extends CoopChainError {
  override name = 'AccountMissingError'
  constructor(action: string) {
    super(`${action} needs an account`, {
      code: 'ACCOUNT_MISSING',
      details: 'create the client with an account (createCoopClient({ account })) or pass `account`',
    })
  }
}

export class EventNotFoundError extends CoopChainError {
  override name = 'EventNotFoundError'
  readonly eventName: string
  readonly hash: Hash
  constructor({ eventName, hash }: { eventName: string; hash: Hash }) {
    super(`Event ${eventName} not found in the receipt of ${hash}`, { code: 'EVENT_NOT_FOUND' })
    this.eventName = eventName
    this.hash = hash
  }
}

// ─── conversion ───

const panicReasons: Record<number, string> = {
  0x01: 'assert(false)',
  0x11: 'arithmetic overflow or underflow',
  0x12: 'division or modulo by zero',
  0x21: 'invalid enum value',
  0x31: 'pop on an empty array',
  0x32: 'array index out of bounds',
  0x41: 'out of memory',
  0x51: 'call to an uninitialised function',
}

function findRevertData(error: unknown): Hex | undefined {
  let found: Hex | undefined
  walkError(error, (e) => {
    const candidate = (e as { raw?: unknown; data?: unknown } | null) ?? {}
    for (const value of [candidate.raw, candidate.data, (candidate.data as { data?: unknown } | undefined)?.data]) {
      if (typeof value === 'string' && /^0x[0-9a-fA-F]{8,}$/.test(value)) {
        found = value as Hex
        return true
      }
    }
    return false
  })
  return found
}

/** Decodes raw revert data against every Coop error (plus Error(string) and Panic(uint256)). */
export function decodeRevert(data: Hex | undefined): Pick<ContractRevertedErrorParameters, 'errorName' | 'args' | 'reason'> {
  if (!data || data === '0x') return { errorName: 'Unknown', args: [] }
  try {
    const decoded = decodeErrorResult({ abi: coopErrorsAbi, data })
    const args = (decoded.args ?? []) as readonly unknown[]
    const errorName: string = decoded.errorName
    if (errorName === 'Error') return { errorName: 'Error', args, reason: String(args[0]) }
    if (errorName === 'Panic') {
      const code = Number(args[0])
      return { errorName: 'Panic', args, reason: panicReasons[code] ?? `panic 0x${code.toString(16)}` }
    }
    return { errorName, args }
  } catch {
    return { errorName: 'Unknown', args: [] }
  }
}

const transientRpcCodes = new Set([-32005, -32603, 429])

/** Errors worth retrying: the endpoint did not answer, timed out, or asked us to slow down. */
export function isTransientError(error: unknown): boolean {
  if (error instanceof CoopChainError) return error.code === 'RPC_UNAVAILABLE'
  return (
    walkError(error, (e) => {
      if (e instanceof ContractFunctionRevertedError) return false
      if (e instanceof TimeoutError) return true
      if (e instanceof HttpRequestError) return e.status === undefined || e.status === 429 || e.status >= 500
      if (e instanceof RpcRequestError) return transientRpcCodes.has(e.code)
      const code = (e as { code?: unknown } | null)?.code
      return typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_SOCKET'].includes(code)
    }) !== null && walkError(error, (e) => e instanceof ContractFunctionRevertedError) === null
  )
}

export type ErrorContext = {
  functionName?: string | undefined
  contractAddress?: Address | undefined
  sender?: Address | undefined
}

/** Converts anything thrown by viem (or the RPC) into a {@link CoopChainError}. */
export function toCoopChainError(error: unknown, context: ErrorContext = {}): CoopChainError {
  if (error instanceof CoopChainError) return error
  const reverted = walkError(error, (e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null
  const execution = walkError(error, (e) => e instanceof BaseError && 'functionName' in e && 'abi' in e) as
    | { functionName?: string; contractAddress?: Address; sender?: Address }
    | null
  const data = reverted?.raw ?? findRevertData(error)
  const looksLikeRevert =
    reverted !== null ||
    (data !== undefined &&
      walkError(error, (e) => e instanceof BaseError && /revert/i.test(e.shortMessage + (e.details ?? ''))) !== null)
  if (looksLikeRevert) {
    let decoded: Pick<ContractRevertedErrorParameters, 'errorName' | 'args' | 'reason'>
    if (reverted?.data?.errorName) {
      decoded = { errorName: reverted.data.errorName, args: (reverted.data.args ?? []) as readonly unknown[] }
      if (decoded.errorName === 'Error') decoded.reason = String(decoded.args[0])
    } else if (data) decoded = decodeRevert(data)
    else decoded = { errorName: reverted?.reason ? 'Error' : 'Unknown', args: [], reason: reverted?.reason }
    return new ContractRevertedError({
      ...decoded,
      data,
      functionName: context.functionName ?? execution?.functionName,
      contractAddress: context.contractAddress ?? execution?.contractAddress,
      sender: context.sender ?? execution?.sender,
      cause: error,
    })
  }
  if (isTransientError(error)) {
    const http = walkError(error, (e) => e instanceof HttpRequestError || e instanceof TimeoutError) as { url?: string } | null
    return new RpcUnavailableError({ url: http?.url, attempts: 1, cause: error })
  }
  const rpc = walkError(error, (e) => e instanceof RpcRequestError) as RpcRequestError | null
  if (rpc || error instanceof BaseError) return new RpcError({ cause: error, rpcCode: rpc?.code })
  const message = error instanceof Error ? error.message : String(error)
  return new CoopChainError(message, { code: 'UNKNOWN', cause: error })
}
