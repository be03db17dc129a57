import type { webcrypto } from 'node:crypto'
import { GraphError } from '../errors.ts'
import { fromBase64, sha256 } from './encoding.ts'
import { importVerifyKey } from './keys.ts'
import { isObject, seaParse, seaText } from './parse.ts'
import type { SignedMessage } from './types.ts'

type CryptoKey = webcrypto.CryptoKey

/**
 * Checks a SEA signature; true only when `s` is a valid ECDSA P-256 signature by `pub` over SHA-256 of
 * `m` (as gun's `SEA.verify` hashes it: sorted-key JSON for objects). Never throws for a bad signature or key: false.
 */
export async function verifySignedMessage(message: SignedMessage, pub: string): Promise<boolean> {
  if (!isObject(message) || typeof message.s !== 'string' || !('m' in message)) return false
  let key: CryptoKey
  try {
    key = await importVerifyKey(pub)
  } catch {
    return false
  }
  const signature = fromBase64(message.s)
  if (await checkHash(key, signature, seaText(message.m))) return true
  // gun without its YSON (e.g. a browser build) hashes JSON.stringify's insertion order: accept that too.
  if (typeof message.m === 'object' && message.m !== null) {
    const insertionOrder = JSON.stringify(message.m)
    if (insertionOrder !== seaText(message.m)) return checkHash(key, signature, insertionOrder)
  }
  return false
}

async function checkHash(key: CryptoKey, signature: Uint8Array<ArrayBuffer>, text: string): Promise<boolean> {
  try {
    return await globalThis.crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, signature, await sha256(text))
  } catch {
    return false
  }
}

/**
 * gun's `SEA.verify(data, pub)`: returns the signed value (parsed as SEA parses it) when `data` —
 * a `SEA{…}` string or a `{ m, s }` object — is signed by `pub`; throws GraphError BAD_SIGNATURE
 * otherwise (gun returns undefined).
 */
export async function verify(data: unknown, signer: string | { pub: string }): Promise<unknown> {
  const pub = typeof signer === 'string' ? signer : signer?.pub
  const message = seaParse(data)
  if (!isObject(message) || typeof message.s !== 'string' || !('m' in message)) {
    throw new GraphError('BAD_SIGNATURE', 'Not a SEA signed message', { details: { expected: '{ m, s } or SEA{…}' } })
  }
  if (typeof pub !== 'string' || !(await verifySignedMessage(message as SignedMessage, pub))) {
    throw new GraphError('BAD_SIGNATURE', 'Signature does not match the public key', { details: { pub: String(pub) } })
  }
  return seaParse(message.m)
}
