import { ProtocolError, type ProtocolErrorCode, type ProtocolErrorDetails } from '../errors.ts'

/**
 * Codes thrown by the SCALE modules. They are not (yet) members of `ProtocolErrorCode`, because this
 * change may not touch `src/errors.ts`; the thrown objects are real `ProtocolError`s at runtime
 * (`instanceof ProtocolError`, `isProtocolError(e)` is true) whose `.code` is one of these strings.
 * Switch on them with `isScaleError(e, 'REPLAY')`.
 */
export type ScaleErrorCode =
  | 'INDEX_OUT_OF_RANGE'
  | 'EMPTY_DAG'
  | 'TOO_LARGE'
  | 'MALFORMED'
  | 'BAD_SIGNATURE'
  | 'WRONG_ROUND'
  | 'REPLAY'
  | 'WRONG_TASK'

type ScaleErrorInstance = Omit<ProtocolError, 'code'> & { readonly code: ScaleErrorCode }

// The base class typed with the wider code set; same constructor and prototype chain at runtime.
const ScaleErrorBase = ProtocolError as unknown as new (
  code: ScaleErrorCode,
  shortMessage: string,
  options?: { details?: ProtocolErrorDetails; cause?: unknown },
) => ScaleErrorInstance

export class ScaleError extends ScaleErrorBase {}

export function isScaleError(error: unknown, code?: ScaleErrorCode): error is ScaleError {
  return error instanceof ProtocolError && (code === undefined || (error.code as ProtocolErrorCode | ScaleErrorCode) === code)
}

export function scaleError(code: ScaleErrorCode, shortMessage: string, details: ProtocolErrorDetails = {}, cause?: unknown): ScaleError {
  return new ScaleError(code, shortMessage, cause === undefined ? { details } : { details, cause })
}
