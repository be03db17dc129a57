/** What went wrong, as a stable string callers can switch on. */
export type ProtocolErrorCode =
  | 'INVALID_UINT256'
  | 'UINT256_OVERFLOW'
  | 'UINT256_UNDERFLOW'
  | 'DIVISION_BY_ZERO'
  | 'INVALID_BYTES32'
  | 'INVALID_ADDRESS'
  | 'INVALID_BPS'
  | 'INVALID_VOTER_WEIGHT'
  | 'EMPTY_CUMULATIVE_WEIGHTS'
  | 'NON_MONOTONE_CUMULATIVE_WEIGHTS'
  | 'ZERO_TOTAL_WEIGHT'
  | 'INDEX_OUT_OF_RANGE'
  | 'EMPTY_DISTRIBUTION'
  | 'DUPLICATE_NODE'
  | 'INVALID_ROUND_PARAMS'
  | 'TIME_BEFORE_START'
  // batched submissions (batch-commitment.ts)
  | 'EMPTY_BATCH'
  | 'WEIGHT_OVERFLOW'
  // SCALE modules (round DAGs, device payloads)
  | 'EMPTY_DAG'
  | 'TOO_LARGE'
  | 'MALFORMED'
  | 'BAD_SIGNATURE'
  | 'WRONG_ROUND'
  | 'REPLAY'
  | 'WRONG_TASK'

export type ProtocolErrorDetails = Readonly<Record<string, unknown>>

/**
 * Thrown for inputs the Solidity twin would revert on (overflow, division by zero, out-of-range
 * index) or that the contract can never produce (bps above 100%, decreasing cumulative weights).
 * Returning a value there would let off-chain code agree with itself and disagree with the chain.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError'
  readonly code: ProtocolErrorCode
  readonly shortMessage: string
  readonly details: ProtocolErrorDetails

  constructor(
    code: ProtocolErrorCode,
    shortMessage: string,
    options: { details?: ProtocolErrorDetails; cause?: unknown } = {},
  ) {
    const details = options.details ?? {}
    super(formatMessage(shortMessage, details), options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.shortMessage = shortMessage
    this.details = details
  }
}

export function isProtocolError(error: unknown, code?: ProtocolErrorCode): error is ProtocolError {
  return error instanceof ProtocolError && (code === undefined || error.code === code)
}

function formatMessage(shortMessage: string, details: ProtocolErrorDetails): string {
  const parts = Object.entries(details).map(([key, value]) => `${key}=${formatValue(value)}`)
  return parts.length === 0 ? shortMessage : `${shortMessage} (${parts.join(', ')})`
}

function formatValue(value: unknown): string {
  if (typeof value === 'bigint') return value.toString()
  if (Array.isArray(value)) return `[${value.map(formatValue).join(', ')}]`
  return String(value)
}
