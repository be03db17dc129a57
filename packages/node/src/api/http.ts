// HTTP plumbing of the API: typed errors, JSON encoding (bigint → decimal string, bytes → hex),
// bounded body reading, parameter parsing.
import type { IncomingMessage, ServerResponse } from 'node:http'

import { bytesToHex, maxUint256 } from 'viem'

export type ApiErrorCode =
  | 'BAD_URL'
  | 'BAD_TASK_ID'
  | 'BAD_PARAM'
  | 'BAD_JSON'
  | 'BODY_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'NOT_FOUND'
  | 'TASK_NOT_FOUND'
  | 'NO_NODE'
  | 'TASK_NOT_RUN'
  | 'METHOD_NOT_ALLOWED'
  | 'NOT_IMPLEMENTED'
  | 'ROUTE_FAILED'
  | 'UNAVAILABLE'
  | 'UPGRADE_REQUIRED'
  | 'INTERNAL'

/** An error answered as `status { error: { code, message } }`. */
export class ApiError extends Error {
  override name = 'ApiError'
  readonly status: number
  readonly code: ApiErrorCode
  readonly headers: Record<string, string>
  constructor(status: number, code: ApiErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message)
    this.status = status
    this.code = code
    this.headers = headers
  }
}

/** JSON with bigints as decimal strings and byte arrays as 0x-hex. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString()
    if (v instanceof Uint8Array) return bytesToHex(v)
    if (v instanceof Map) return Object.fromEntries(v)
    if (v instanceof Set) return [...v]
    return v
  })
}

export const baseHeaders = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const

export function sendJson(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return
  const body = Buffer.from(toJson(value), 'utf8')
  res.writeHead(status, {
    ...baseHeaders,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(body.length),
    ...headers,
  })
  res.end(req.method === 'HEAD' ? undefined : body)
}

export function sendError(req: IncomingMessage, res: ServerResponse, error: ApiError): void {
  sendJson(req, res, error.status, { error: { code: error.code, message: error.message } }, error.headers)
}

/**
 * Reads a request body of at most `limit` bytes without ever holding more: a declared
 * content-length over the limit fails before reading, a stream that grows past it fails at
 * that chunk (and the rest is discarded, never buffered).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    const finish = (error?: unknown) => {
      if (done) return
      done = true
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('close', onClose)
      if (error) reject(error)
      else resolve(Buffer.concat(chunks, size))
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        chunks.length = 0
        finish(tooLarge(limit))
        req.resume() // discard the rest
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => finish()
    const onError = (error: unknown) => finish(error)
    const onClose = () => finish(new ApiError(400, 'BAD_PARAM', 'the request was aborted before its body ended'))
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('close', onClose)
  })
}

function tooLarge(limit: number): ApiError {
  return new ApiError(413, 'BODY_TOO_LARGE', `request body exceeds ${limit} bytes`, { connection: 'close' })
}

/** Parses a JSON body; empty → undefined. Non-empty bodies must be application/json. */
export function parseJsonBody(req: IncomingMessage, body: Buffer): unknown {
  if (body.length === 0) return undefined
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/json' && !type.endsWith('+json')) {
    throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'request bodies must be JSON (content-type: application/json)')
  }
  try {
    return JSON.parse(body.toString('utf8'))
  } catch (error) {
    throw new ApiError(400, 'BAD_JSON', `malformed JSON body: ${(error as Error).message}`)
  }
}

const taskIdPattern = /^(0|[1-9][0-9]{0,77})$/

/** A task id path segment: a decimal uint256. */
export function parseTaskId(segment: string): bigint {
  if (!taskIdPattern.test(segment)) {
    throw new ApiError(400, 'BAD_TASK_ID', `task id must be a decimal integer, got ${JSON.stringify(segment.slice(0, 80))}`)
  }
  const id = BigInt(segment)
  if (id > maxUint256) throw new ApiError(400, 'BAD_TASK_ID', 'task id exceeds uint256')
  return id
}

/** An optional integer query parameter within [min, max]. */
export function parseIntParam(url: URL, name: string, fallback: number, min: number, max: number): number {
  const raw = url.searchParams.get(name)
  if (raw === null || raw === '') return fallback
  if (!/^[0-9]{1,9}$/.test(raw)) throw new ApiError(400, 'BAD_PARAM', `${name} must be an integer in [${min}, ${max}]`)
  const value = Number(raw)
  if (value < min || value > max) throw new ApiError(400, 'BAD_PARAM', `${name} must be an integer in [${min}, ${max}]`)
  return value
}
