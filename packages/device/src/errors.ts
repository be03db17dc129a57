/** Codes of the errors @coop/device throws. */
export type DeviceErrorCode =
  | 'INVALID_OPTIONS' // a bad argument (key, scheme, URL, receipt shape)
  | 'NODE_UNREACHABLE' // the node did not answer (connection refused, timeout)
  | 'NODE_REFUSED' // the node answered with a typed error (details.code: TOO_LARGE, WRONG_ROUND, REPLAY, …)
  | 'BAD_RESPONSE' // the node answered something that is not what the API promises
  | 'CHAIN_UNREACHABLE' // the RPC endpoint did not answer

export class DeviceError extends Error {
  override name = 'DeviceError'
  readonly code: DeviceErrorCode
  readonly shortMessage: string
  readonly details: Record<string, unknown>

  constructor(code: DeviceErrorCode, shortMessage: string, details: Record<string, unknown> = {}, cause?: unknown) {
    const extra = Object.keys(details).length ? ` (${JSON.stringify(details, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))})` : ''
    super(`${shortMessage}${extra}`, cause === undefined ? undefined : { cause })
    this.code = code
    this.shortMessage = shortMessage
    this.details = details
  }
}

export function isDeviceError(error: unknown, code?: DeviceErrorCode): error is DeviceError {
  return error instanceof DeviceError && (code === undefined || error.code === code)
}
