/**
 * The shape the SCALE services' errors share: a stable `code`, one-sentence `shortMessage`, the
 * structured `details` (also appended to `message`) and the `cause`. Each service subclasses it
 * with its own name and codes, so callers still tell them apart with `instanceof`.
 */
export abstract class CodedError<Code extends string> extends Error {
  readonly code: Code
  readonly shortMessage: string
  readonly details: Record<string, unknown>

  constructor(code: Code, shortMessage: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super(`${shortMessage}${Object.keys(details).length ? ` (${JSON.stringify(details)})` : ''}`, cause === undefined ? undefined : { cause })
    this.code = code
    this.shortMessage = shortMessage
    this.details = details
  }
}
