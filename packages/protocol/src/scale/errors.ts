import { ProtocolError, type ProtocolErrorCode, type ProtocolErrorDetails } from '../errors.ts'

/** The ProtocolError codes the SCALE modules (round DAGs, device payloads) throw. */
export type ScaleErrorCode = Extract<
  ProtocolErrorCode,
  'INDEX_OUT_OF_RANGE' | 'EMPTY_DAG' | 'TOO_LARGE' | 'MALFORMED' | 'BAD_SIGNATURE' | 'WRONG_ROUND' | 'REPLAY' | 'WRONG_TASK'
>

/** SCALE errors are plain ProtocolErrors; the alias keeps the modules' names readable. */
export const ScaleError = ProtocolError
export type ScaleError = ProtocolError

export function isScaleError(error: unknown, code?: ScaleErrorCode): error is ProtocolError {
  return error instanceof ProtocolError && (code === undefined || error.code === code)
}

export function scaleError(code: ScaleErrorCode, shortMessage: string, details: ProtocolErrorDetails = {}, cause?: unknown): ProtocolError {
  return new ProtocolError(code, shortMessage, cause === undefined ? { details } : { details, cause })
}
