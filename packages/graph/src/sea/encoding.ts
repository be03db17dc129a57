// Byte/string conversions exactly as GUN's SEA does them (sea/array.js, sea/buffer.js), so that the bytes
// hashed, signed and encrypted are the same bytes gun's SEA uses.

const encoder = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8')

export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text)
}

export function fromUtf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes)
}

/** Standard base64 with padding (what SEA uses for signatures, work, ct, iv and s). */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

/** Decodes base64 (standard or url-safe alphabet, as Node's and gun's atob-based decoders accept). */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const buffer = Buffer.from(text, 'base64')
  return new Uint8Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength))
}

/** base64url without padding (JWK coordinates: pub, priv, epub, epriv, and SEA.secret's output). */
export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  const buffer = Buffer.from(text, 'base64url')
  return new Uint8Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength))
}

/**
 * SEA's `Buffer#toString('utf8')` is not UTF-8 decoding: it maps every byte to the char code of the same
 * number (sea/array.js). SEA's AES key derivation hashes `key + salt.toString('utf8')` re-encoded as
 * UTF-8, so a salt byte ≥ 0x80 contributes two bytes to the hash. Reproduced here on purpose.
 */
export function seaByteString(bytes: Uint8Array): string {
  let text = ''
  for (const byte of bytes) text += String.fromCharCode(byte)
  return text
}

export function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  return globalThis.crypto.getRandomValues(new Uint8Array(length))
}

const ALPHANUMERIC = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXZabcdefghijklmnopqrstuvwxyz'

/**
 * A random string over GUN's `String.random` alphabet (gun.js; note it has no 'Y'), from the CSPRNG
 * (gun uses Math.random). Used for the account salt, as gun's user.create does.
 */
export function randomString(length: number, alphabet = ALPHANUMERIC): string {
  // Rejection sampling: no modulo bias.
  const limit = 256 - (256 % alphabet.length)
  let text = ''
  while (text.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte >= limit) continue
      text += alphabet[byte % alphabet.length]
      if (text.length === length) break
    }
  }
  return text
}

export async function sha256(data: string | Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const bytes = typeof data === 'string' ? utf8(data) : data
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes))
}
