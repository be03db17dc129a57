/** What went wrong, as a stable string callers can switch on. Other modules add their codes here. */
export type GraphErrorCode =
  | 'MALFORMED' // not a graph: wrong shape, missing meta or state, soul mismatch
  | 'TOO_LARGE' // over a limit (value length, keys per put, message size)
  | 'INVALID_SOUL' // empty, not a string, or too long
  | 'INVALID_VALUE' // not null/string/boolean/finite number/link; arrays; NaN; Infinity
  | 'INVALID_STATE' // a HAM state that is not a finite number
  | 'FUTURE_STATE' // a state further ahead of the clock than maxDeferMs
  | 'BAD_SIGNATURE'
  | 'UNTRUSTED'
  | 'INVALID_KEY' | 'DECRYPT_FAILED' | 'AUTH_FAILED' | 'USER_EXISTS' | 'NOT_A_MEMBER' // SEA keys, envelopes, users, group keys (src/sea)
  | 'CLOSED' // the store was closed
  | 'STORAGE' // the durable store failed (the put was not acknowledged)
  | 'TIMEOUT' | 'UNREACHABLE' // wire: no answer from a peer in time / could not connect to it

export type GraphErrorDetails = Readonly<Record<string, unknown>>

export class GraphError extends Error {
  override readonly name = 'GraphError'
  readonly code: GraphErrorCode
  readonly shortMessage: string
  readonly details: GraphErrorDetails

  constructor(code: GraphErrorCode, shortMessage: string, options: { details?: GraphErrorDetails; cause?: unknown } = {}) {
    const details = options.details ?? {}
    super(formatMessage(shortMessage, details), options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.shortMessage = shortMessage
    this.details = details
  }
}

export function isGraphError(error: unknown, code?: GraphErrorCode): error is GraphError {
  return error instanceof GraphError && (code === undefined || error.code === code)
}

function formatMessage(shortMessage: string, details: GraphErrorDetails): string {
  const parts = Object.entries(details).map(([key, value]) => `${key}=${clip(value)}`)
  return parts.length === 0 ? shortMessage : `${shortMessage} (${parts.join(', ')})`
}

function clip(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value)
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}
