import type { webcrypto } from 'node:crypto'
import { seaByteString, sha256, utf8 } from './encoding.ts'

type CryptoKey = webcrypto.CryptoKey
/**
 * SEA's AES key (sea/aeskey.js): AES-256-GCM key = SHA-256 of the UTF-8 bytes of
 * `key + salt-as-SEA-byte-string` (each salt byte one char code, see seaByteString).
 */
export async function seaAesKey(key: string, salt: Uint8Array): Promise<CryptoKey> {
  const hash = await sha256(utf8(key + seaByteString(salt)))
  return globalThis.crypto.subtle.importKey('raw', hash, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt'])
}
