/** Codes of errors thrown by the SDK outside the sandbox (definitions, values, CIDs, store, bundle, harness). */
export type SdkErrorCode =
  | 'INVALID_TASK'
  | 'INVALID_VALUE'
  | 'INVALID_CID'
  | 'UNSUPPORTED_CID'
  | 'HASH_MISMATCH'
  | 'CORRUPT_BLOCK'
  | 'STORE_IO'
  | 'STORE_FULL'
  | 'BUNDLE_FAILED'
  | 'INVALID_OPTIONS'
  | 'UNKNOWN_NODE'
  | 'NO_ROUTE'

/** Codes of errors thrown by a sandboxed task runtime (`startSandbox`). */
export type SandboxErrorCode =
  | 'START_FAILED' // the child could not be spawned or did not come up
  | 'LOAD_FAILED' // the program failed to import or is not a task definition
  | 'TIMEOUT' // a call exceeded callTimeoutMs; the child was killed (the next call restarts it)
  | 'CRASHED' // the child exited (crash, out of memory, killed) while calls were pending
  | 'STOPPED' // the runtime was stopped
  | 'TASK_ERROR' // the task's own function threw
  | 'PERMISSION_DENIED' // the task's function threw ERR_ACCESS_DENIED (Node permission model)
  | 'NO_ROUTE' // route call for a path the task does not serve
  | 'BAD_RESULT' // the task returned something of the wrong shape (verdict, distribution, non-encodable submission)
  | 'UNSERIALIZABLE' // a value could not cross the IPC channel
  | 'MALFORMED_MESSAGE' // the child sent an IPC message that is not part of the protocol
  | 'INVALID_CALL' // the caller passed an unknown method or bad arguments

export type ErrorDetails = Readonly<Record<string, unknown>>

abstract class CoopError<Code extends string> extends Error {
  readonly code: Code
  readonly shortMessage: string
  readonly details: ErrorDetails

  constructor(code: Code, shortMessage: string, options: { details?: ErrorDetails; cause?: unknown } = {}) {
    const details = options.details ?? {}
    super(formatMessage(shortMessage, details), options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.shortMessage = shortMessage
    this.details = details
  }
}

/** A typed SDK error: switch on `code`; `details` holds structured context; `cause` the underlying error. */
export class SdkError extends CoopError<SdkErrorCode> {
  override readonly name = 'SdkError'
}

/** A typed sandbox error (timeouts, crashes, task errors, protocol violations by the child). */
export class SandboxError extends CoopError<SandboxErrorCode> {
  override readonly name = 'SandboxError'
}

export function isSdkError(error: unknown, code?: SdkErrorCode): error is SdkError {
  return error instanceof SdkError && (code === undefined || error.code === code)
}

export function isSandboxError(error: unknown, code?: SandboxErrorCode): error is SandboxError {
  return error instanceof SandboxError && (code === undefined || error.code === code)
}

function formatMessage(shortMessage: string, details: ErrorDetails): string {
  const parts = Object.entries(details)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${formatValue(value)}`)
  return parts.length === 0 ? shortMessage : `${shortMessage} (${parts.join(', ')})`
}

function formatValue(value: unknown): string {
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'string') return value.length > 300 ? `${value.slice(0, 300)}…` : value
  if (Array.isArray(value)) return `[${value.map(formatValue).join(', ')}]`
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`
  if (value !== null && typeof value === 'object') {
    try {
      const json = JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v))
      return json.length > 300 ? `${json.slice(0, 300)}…` : json
    } catch {
      return '[object]'
    }
  }
  return String(value)
}
