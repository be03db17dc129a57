import { GraphError } from '../errors.ts'
import { toBase64Url } from './encoding.ts'
import { importEcdhPrivate, importEcdhPublic } from './keys.ts'
import type { SeaPair } from './types.ts'

/**
 * gun's `SEA.secret(theirEpub, myPair)`: the ECDH P-256 shared secret (the 32-byte x coordinate),
 * base64url — the same string on both sides, used as an encryption key.
 */
export async function secret(their: string | { epub: string }, mine: Pick<SeaPair, 'epub' | 'epriv'>): Promise<string> {
  const epub = typeof their === 'string' ? their : their?.epub
  if (typeof epub !== 'string') throw new GraphError('INVALID_KEY', "secret() needs the other party's epub")
  if (!mine || typeof mine.epub !== 'string' || typeof mine.epriv !== 'string') throw new GraphError('INVALID_KEY', 'secret() needs a pair with epub and epriv')
  const [publicKey, privateKey] = await Promise.all([importEcdhPublic(epub), importEcdhPrivate(mine.epub, mine.epriv)])
  const bits = await globalThis.crypto.subtle.deriveBits({ name: 'ECDH', public: publicKey }, privateKey, 256)
  return toBase64Url(new Uint8Array(bits))
}
