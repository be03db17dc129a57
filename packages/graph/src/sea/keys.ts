import type { webcrypto } from 'node:crypto'
import { GraphError } from '../errors.ts'

type CryptoKey = webcrypto.CryptoKey
type JsonWebKey = webcrypto.JsonWebKey

/** JWK of a P-256 key from SEA's `x.y` public key string (and private scalar `d`). */
export function p256Jwk(pub: string, d?: string): JsonWebKey {
  const [x, y, extra] = pub.split('.')
  if (!x || !y || extra !== undefined) {
    throw new GraphError('INVALID_KEY', 'A SEA public key is two base64url coordinates joined by "."', { details: { pub } })
  }
  const jwk: JsonWebKey = { kty: 'EC', crv: 'P-256', x, y, ext: true }
  if (d !== undefined) jwk.d = d
  return jwk
}

const ECDSA = { name: 'ECDSA', namedCurve: 'P-256' } as const
const ECDH = { name: 'ECDH', namedCurve: 'P-256' } as const

// Importing a key costs more than verifying with it; relays verify the same few keys over and over.
const MAX_CACHED = 4096
const verifyKeys = new Map<string, Promise<CryptoKey>>()
const signKeys = new Map<string, Promise<CryptoKey>>()

function cached(cache: Map<string, Promise<CryptoKey>>, id: string, load: () => Promise<CryptoKey>): Promise<CryptoKey> {
  let key = cache.get(id)
  if (key === undefined) {
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string)
    key = load()
    cache.set(id, key)
    key.catch(() => cache.delete(id))
  }
  return key
}

function invalidKey(what: string, pub: string, cause: unknown): GraphError {
  return new GraphError('INVALID_KEY', `Not a valid P-256 ${what}`, { details: { pub }, cause })
}

export function importVerifyKey(pub: string): Promise<CryptoKey> {
  return cached(verifyKeys, pub, async () => {
    try {
      return await globalThis.crypto.subtle.importKey('jwk', p256Jwk(pub), ECDSA, false, ['verify'])
    } catch (error) {
      throw error instanceof GraphError ? error : invalidKey('public key', pub, error)
    }
  })
}

export function importSignKey(pub: string, priv: string): Promise<CryptoKey> {
  return cached(signKeys, `${pub}:${priv}`, async () => {
    try {
      return await globalThis.crypto.subtle.importKey('jwk', p256Jwk(pub, priv), ECDSA, false, ['sign'])
    } catch (error) {
      throw error instanceof GraphError ? error : invalidKey('signing key pair', pub, error)
    }
  })
}

export async function importEcdhPublic(epub: string): Promise<CryptoKey> {
  try {
    return await globalThis.crypto.subtle.importKey('jwk', p256Jwk(epub), ECDH, true, [])
  } catch (error) {
    throw error instanceof GraphError ? error : invalidKey('ECDH public key', epub, error)
  }
}

export async function importEcdhPrivate(epub: string, epriv: string): Promise<CryptoKey> {
  try {
    return await globalThis.crypto.subtle.importKey('jwk', p256Jwk(epub, epriv), ECDH, false, ['deriveBits'])
  } catch (error) {
    throw error instanceof GraphError ? error : invalidKey('ECDH key pair', epub, error)
  }
}
