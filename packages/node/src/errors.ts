// Typed errors of @coop/node, shaped like @coop/chain's (code, shortMessage, details, cause).
export type NodeErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_NOT_FOUND'
  | 'STATE_OPEN_FAILED'
  | 'STATE_MIGRATION_FAILED'
  | 'INTENT_CONFLICT'
  | 'TASK_NOT_FOUND'
  | 'PROGRAM_MISMATCH'
  | 'PROGRAM_UNAVAILABLE'
  | 'STAKE_FAILED'
  | 'TX_FAILED'
  | 'SUBMISSION_UNAVAILABLE'
  | 'LIST_UNAVAILABLE'
  | 'NODE_STOPPED'
  // SCALE heads and replication (packages/node/src/scale: heads.ts, replication.ts)
  | 'SCALE_BAD_REQUEST'
  | 'SCALE_NOT_FOUND'
  | 'SCALE_HEAD_TOO_EARLY'
  | 'REPLICA_REJECTED'
  | 'REPLICA_BUSY'

export type NodeErrorOptions = { details?: string | Record<string, unknown>; cause?: unknown }

/** Base of every error @coop/node throws. `code` is stable; `shortMessage` says what was wrong and what to do. */
export class NodeError extends Error {
  override name = 'NodeError'
  readonly code: NodeErrorCode
  readonly shortMessage: string
  readonly details: string
  override readonly cause: unknown

  constructor(code: NodeErrorCode, shortMessage: string, options: NodeErrorOptions = {}) {
    const details =
      typeof options.details === 'string'
        ? options.details
        : options.details
          ? JSON.stringify(options.details, (_key, value) => (typeof value === 'bigint' ? value.toString() : value))
          : options.cause instanceof Error
            ? options.cause.message
            : ''
    super(details ? `${shortMessage}\n\nDetails: ${details}` : shortMessage, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.shortMessage = shortMessage
    this.details = details
    this.cause = options.cause
  }
}

/** One problem found in a node config, with the JSON path of the offending field. */
export type ConfigIssue = { path: string; message: string }

export class ConfigError extends NodeError {
  override name = 'ConfigError'
  readonly issues: ConfigIssue[]
  constructor(issues: ConfigIssue[], cause?: unknown) {
    super('CONFIG_INVALID', `invalid node config: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`, {
      details: { issues },
      cause,
    })
    this.issues = issues
  }
}

export function errorMessage(error: unknown): string {
  if (error && typeof error === 'object' && 'shortMessage' in error && typeof error.shortMessage === 'string') return error.shortMessage
  return error instanceof Error ? error.message : String(error)
}
