import { GraphError } from '../errors.ts'
import { seaAesKey } from './aes-key.ts'
import { fromBase64, fromUtf8 } from './encoding.ts'
import { keyText, type SeaKey } from './encrypt.ts'
import { isObject, seaParse } from './parse.ts'

/**
 * gun's `SEA.decrypt(data, key)`: the value back (parsed as SEA parses: JSON text becomes a value).
 * Throws GraphError DECRYPT_FAILED on a wrong key or tampered ciphertext (gun returns undefined),
 * MALFORMED when `data` is not a `{ ct, iv, s }` envelope.
 */
export async function decrypt(data: unknown, key: SeaKey): Promise<unknown> {
  const text = keyText(key)
  const envelope = seaParse(data)
  if (!isObject(envelope) || typeof envelope.ct !== 'string' || typeof envelope.iv !== 'string' || typeof envelope.s !== 'string') {
    throw new GraphError('MALFORMED', 'Not a SEA encrypted message', { details: { expected: '{ ct, iv, s } or SEA{…}' } })
  }
  const iv = fromBase64(envelope.iv)
  if (iv.length === 0) throw new GraphError('MALFORMED', 'Empty iv in a SEA encrypted message')
  const aes = await seaAesKey(text, fromBase64(envelope.s))
  let plain: ArrayBuffer
  try {
    plain = await globalThis.crypto.subtle.decrypt({ name: 'AES-GCM', iv, tagLength: 128 }, aes, fromBase64(envelope.ct))
  } catch (cause) {
    throw new GraphError('DECRYPT_FAILED', 'Could not decrypt: wrong key or tampered data', { cause })
  }
  return seaParse(fromUtf8(new Uint8Array(plain)))
}
