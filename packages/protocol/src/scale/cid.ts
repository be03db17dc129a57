import * as dagCbor from '@ipld/dag-cbor'
import { sha256 } from '@noble/hashes/sha2'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'

// Synchronous CIDv1 helpers: sha2-256 from @noble/hashes (pure JS, no WebCrypto, no IO), wrapped
// in a multihash (0x12, 32 bytes) exactly as multiformats' own sha256 hasher would.

export const SHA2_256 = 0x12
export const RAW_CODE = 0x55
export const DAG_CBOR_CODE = dagCbor.code // 0x71

export function cidOf(code: number, bytes: Uint8Array): CID {
  return CID.createV1(code, Digest.create(SHA2_256, sha256(bytes)))
}

/** True when `cid` is a CIDv1 with a sha2-256 multihash of 32 bytes and one of the given codecs. */
export function isSupportedCid(cid: CID, codes: readonly number[]): boolean {
  return cid.version === 1 && cid.multihash.code === SHA2_256 && cid.multihash.size === 32 && codes.includes(cid.code)
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

export { CID, dagCbor, sha256 }
