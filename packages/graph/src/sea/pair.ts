import type { SeaPair } from './types.ts'

/**
 * A new identity, as gun's `SEA.pair()`: an ECDSA P-256 key pair for signing (`pub`, `priv`) and an
 * ECDH P-256 key pair for encryption (`epub`, `epriv`), as base64url JWK coordinates (`pub` = `x.y`).
 */
export async function pair(): Promise<SeaPair> {
  const subtle = globalThis.crypto.subtle
  const signing = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])
  const ecdh = await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])
  const [signPrivate, signPublic, ecdhPrivate, ecdhPublic] = await Promise.all([
    subtle.exportKey('jwk', signing.privateKey),
    subtle.exportKey('jwk', signing.publicKey),
    subtle.exportKey('jwk', ecdh.privateKey),
    subtle.exportKey('jwk', ecdh.publicKey),
  ])
  return {
    pub: `${signPublic.x}.${signPublic.y}`,
    priv: signPrivate.d as string,
    epub: `${ecdhPublic.x}.${ecdhPublic.y}`,
    epriv: ecdhPrivate.d as string,
  }
}
