/** What went wrong, as a stable string callers can switch on (and `stats().dropped` is keyed by). */
export type P2pErrorCode =
  | 'MESSAGE_TOO_LARGE'
  | 'MALFORMED'
  | 'BAD_SIGNATURE'
  | 'STALE'
  | 'TIMEOUT'
  | 'NO_HANDLER'
  | 'REMOTE_ERROR'
  | 'DIAL_FAILED'

export const P2P_ERROR_CODES: readonly P2pErrorCode[] = Object.freeze([
  'MESSAGE_TOO_LARGE',
  'MALFORMED',
  'BAD_SIGNATURE',
  'STALE',
  'TIMEOUT',
  'NO_HANDLER',
  'REMOTE_ERROR',
  'DIAL_FAILED',
])

export type P2pErrorDetails = Readonly<Record<string, unknown>>

/**
 * The only error type @coop/p2p throws for bad input, bad peers and network failures.
 * Shaped like viem's errors: `shortMessage` is one human sentence, `details` the structured facts,
 * `message` = shortMessage plus the details, `cause` the underlying error if any.
 */
export class P2pError extends Error {
  override readonly name = 'P2pError'
  readonly code: P2pErrorCode
  readonly shortMessage: string
  readonly details: P2pErrorDetails
  override readonly cause: unknown

  constructor(code: P2pErrorCode, shortMessage: string, options: { details?: P2pErrorDetails; cause?: unknown } = {}) {
    const details = options.details ?? {}
    super(formatMessage(code, shortMessage, details), options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.shortMessage = shortMessage
    this.details = details
    this.cause = options.cause
  }
}

export function isP2pError(error: unknown, code?: P2pErrorCode): error is P2pError {
  return error instanceof P2pError && (code === undefined || error.code === code)
}

function formatMessage(code: P2pErrorCode, shortMessage: string, details: P2pErrorDetails): string {
  const parts = Object.entries(details).map(([key, value]) => `${key}=${formatValue(value)}`)
  return `${code}: ${shortMessage}${parts.length === 0 ? '' : ` (${parts.join(', ')})`}`
}

function formatValue(value: unknown): string {
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'string') return value.length > 200 ? `${value.slice(0, 200)}…` : value
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`
  if (Array.isArray(value)) return `[${value.map(formatValue).join(', ')}]`
  return String(value)
}
