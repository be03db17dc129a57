// EIP-191 personal_sign with @noble/curves directly (the library viem signs with): keccak256 of
// "\x19Ethereum Signed Message:\n" + byte length + message, secp256k1 RFC 6979 (deterministic),
// low s, 65 bytes r ‖ s ‖ v (27/28) as 0x hex — byte for byte what viem's signMessage returns, with
// fewer conversions (receipts are signed once per device payload). Plain JS: the receipt worker
// thread imports it without a TypeScript loader.
import { secp256k1 } from '@noble/curves/secp256k1'
import { keccak_256 } from '@noble/hashes/sha3'

const encoder = new TextEncoder()
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** @param {Uint8Array} privateKey 32 bytes @param {string} message @returns {`0x${string}`} */
export function personalSign(privateKey, message) {
  const body = encoder.encode(message)
  const prefix = encoder.encode(`\x19Ethereum Signed Message:\n${body.length}`)
  const data = new Uint8Array(prefix.length + body.length)
  data.set(prefix)
  data.set(body, prefix.length)
  const signature = secp256k1.sign(keccak_256(data), privateKey, { lowS: true, extraEntropy: false })
  const bytes = new Uint8Array(65)
  bytes.set(signature.toCompactRawBytes())
  bytes[64] = signature.recovery ? 28 : 27
  let hex = '0x'
  for (const byte of bytes) hex += HEX[byte]
  return /** @type {`0x${string}`} */ (hex)
}
