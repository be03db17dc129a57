// Just enough CID handling for the CLI (no extra dependency): CIDv1 base32 strings ↔ the 32-byte
// sha2-256 digest the contracts store as programCid.
import { createHash } from 'node:crypto'

import { bytesToHex, hexToBytes, isHex, type Hex } from 'viem'

import { CliError } from './errors.ts'

const alphabet = 'abcdefghijklmnopqrstuvwxyz234567'

function base32Encode(bytes: Uint8Array): string {
  let bits = 0
  let value = 0
  let out = ''
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31]
  return out
}

function base32Decode(text: string): Uint8Array {
  const out: number[] = []
  let bits = 0
  let value = 0
  for (const char of text) {
    const index = alphabet.indexOf(char)
    if (index < 0) throw new Error(`invalid base32 character '${char}'`)
    value = (value << 5) | index
    bits += 5
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255)
      bits -= 8
    }
  }
  return new Uint8Array(out)
}

/** CIDv1 (raw codec 0x55, sha2-256) of `bytes`, base32 ("bafkrei…"), as IPFS computes it. */
export function rawCid(bytes: Uint8Array): string {
  const digest = createHash('sha256').update(bytes).digest()
  return `b${base32Encode(new Uint8Array([0x01, 0x55, 0x12, 0x20, ...digest]))}`
}

/** The sha2-256 digest inside a CIDv1 base32 string (raw or dag-cbor), or a 0x digest as is. */
export function cidDigest(cid: string): Hex {
  if (isHex(cid) && cid.length === 66) return cid.toLowerCase() as Hex
  try {
    if (!cid.startsWith('b')) throw new Error('only base32 CIDv1 strings (b…) are supported')
    const bytes = base32Decode(cid.slice(1))
    // version 1, one-byte codec (0x55 raw, 0x71 dag-cbor), sha2-256 (0x12) of 32 bytes (0x20)
    if (bytes[0] !== 0x01 || bytes[2] !== 0x12 || bytes[3] !== 0x20 || bytes.length !== 36) {
      throw new Error('not a CIDv1 with a sha2-256 digest')
    }
    return bytesToHex(bytes.slice(4))
  } catch (error) {
    throw new CliError(`'${cid}' is not a CIDv1 (sha2-256) nor a 32-byte 0x digest: ${(error as Error).message}`, {
      code: 'INVALID_OPTION',
      hint: 'pass the program CID (bafk…) printed by `coop task create --program <file>`, or its 0x sha2-256 digest',
    })
  }
}

/** The raw CIDv1 whose digest is `digest` (for showing an on-chain programCid as a CID). */
export function rawCidFromDigest(digest: Hex): string {
  return `b${base32Encode(new Uint8Array([0x01, 0x55, 0x12, 0x20, ...hexToBytes(digest)]))}`
}
