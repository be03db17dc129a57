import { GraphError } from '../errors.ts'
import { randomString, sha256, utf8 } from './encoding.ts'
import { seaText } from './parse.ts'

/** SEA's defaults (sea/settings.js): PBKDF2-SHA256, 100,000 iterations, 64 bytes. The issue asks for the same. */
export const WORK_ITERATIONS = 100_000
export const WORK_BYTES = 64

export type WorkOptions = {
  /** 'PBKDF2' (default) or 'SHA-256' (a plain hash, as `SEA.work(data, null, cb, { name: 'SHA-256' })`). */
  name?: 'PBKDF2' | 'SHA-256'
  iterations?: number
  /** Output length in bits (default 512). */
  length?: number
  encode?: 'base64' | 'base64url' | 'hex'
}

/**
 * gun's `SEA.work(data, salt)`: PBKDF2-HMAC-SHA256 of the data (strings as they are, other values as
 * JSON) with the UTF-8 salt, `iterations` (100,000), 64 bytes, base64. With a pair as salt, its `epub`
 * is the salt (gun's behaviour). Without a salt a random one is used (then the output cannot be
 * reproduced — pass one).
 */
export async function work(data: unknown, salt?: string | { epub: string } | null, options: WorkOptions = {}): Promise<string> {
  if (data === undefined) throw new GraphError('MALFORMED', 'Cannot work on undefined')
  const text = seaText(data)
  const encode = options.encode ?? 'base64'
  if ((options.name ?? 'PBKDF2') === 'SHA-256') return Buffer.from(await sha256(text)).toString(encode)
  const iterations = options.iterations ?? WORK_ITERATIONS
  if (!Number.isSafeInteger(iterations) || iterations < 1) throw new GraphError('MALFORMED', 'iterations must be a positive integer', { details: { iterations } })
  const saltText = typeof salt === 'string' ? salt : salt?.epub ?? randomString(12)
  const key = await globalThis.crypto.subtle.importKey('raw', utf8(text), 'PBKDF2', false, ['deriveBits'])
  const bits = await globalThis.crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', iterations, salt: utf8(saltText) },
    key,
    options.length ?? WORK_BYTES * 8,
  )
  return Buffer.from(bits).toString(encode)
}
