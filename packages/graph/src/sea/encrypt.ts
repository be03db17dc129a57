import { GraphError } from '../errors.ts'
import { seaAesKey } from './aes-key.ts'
import { randomBytes, toBase64, utf8 } from './encoding.ts'
import { seaStringify, seaText } from './parse.ts'
import type { EncryptedMessage } from './types.ts'

/** What SEA encrypts with: a passphrase / shared secret string, or a pair (its `epriv`), as gun. */
export type SeaKey = string | { epriv: string }

export function keyText(key: SeaKey): string {
  const text = typeof key === 'string' ? key : key?.epriv
  if (typeof text !== 'string' || text.length === 0) throw new GraphError('INVALID_KEY', 'Encryption needs a key string or a pair with epriv')
  return text
}

/**
 * gun's `SEA.encrypt(data, key, cb, { raw: 1 })`: AES-256-GCM (128-bit tag) of the data (strings as
 * they are, other values as JSON) under SHA-256(key + salt), random 9-byte salt `s` and 15-byte `iv`,
 * all base64.
 */
export async function encryptRaw(data: unknown, key: SeaKey): Promise<EncryptedMessage> {
  if (data === undefined) throw new GraphError('MALFORMED', 'Cannot encrypt undefined')
  const text = keyText(key)
  const salt = randomBytes(9)
  const iv = randomBytes(15)
  const aes = await seaAesKey(text, salt)
  const ct = await globalThis.crypto.subtle.encrypt({ name: 'AES-GCM', iv }, aes, utf8(seaText(data)))
  return { ct: toBase64(new Uint8Array(ct)), iv: toBase64(iv), s: toBase64(salt) }
}

/** gun's `SEA.encrypt(data, key)`: the `SEA{"ct":…,"iv":…,"s":…}` string. */
export async function encrypt(data: unknown, key: SeaKey): Promise<string> {
  return `SEA${seaStringify(await encryptRaw(data, key))}`
}
