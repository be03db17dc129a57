import { DeviceError } from './errors.ts'

/** fetch with a timeout; network failures → NODE_UNREACHABLE, non-JSON → BAD_RESPONSE. */
export async function requestJson(
  url: string,
  init: RequestInit & { timeoutMs?: number } = {},
): Promise<{ status: number; body: unknown }> {
  const { timeoutMs = 10_000, ...rest } = init
  let response: Response
  try {
    response = await fetch(url, { ...rest, signal: AbortSignal.timeout(timeoutMs) })
  } catch (cause) {
    throw new DeviceError('NODE_UNREACHABLE', `no answer from ${new URL(url).origin}; is the node running and is the URL right?`, { url }, cause)
  }
  const text = await response.text()
  let body: unknown
  try {
    body = text.length === 0 ? null : JSON.parse(text)
  } catch (cause) {
    throw new DeviceError('BAD_RESPONSE', 'the node answered something that is not JSON', { url, status: response.status }, cause)
  }
  return { status: response.status, body }
}

/** A node's typed error `{ error: { code, message, details? } }` → DeviceError NODE_REFUSED. */
export function refused(url: string, status: number, body: unknown): DeviceError {
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error
  const code = typeof error?.code === 'string' ? error.code : `HTTP_${status}`
  const message = typeof error?.message === 'string' ? error.message : 'the node refused the request'
  return new DeviceError('NODE_REFUSED', `${code}: ${message}`, { url, status, code, ...(error?.details !== undefined ? { remote: error.details } : {}) })
}

export function baseUrl(nodeUrl: string): string {
  let url: URL
  try {
    url = new URL(nodeUrl)
  } catch (cause) {
    throw new DeviceError('INVALID_OPTIONS', 'node URL is not a URL', { nodeUrl }, cause)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new DeviceError('INVALID_OPTIONS', 'node URL must be http(s)', { nodeUrl })
  return url.origin + url.pathname.replace(/\/+$/, '')
}
