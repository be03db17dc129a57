import { createHash } from 'node:crypto'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { SdkError } from './errors.ts'
import type { Hex } from './types.ts'

// Content addressing is IPFS's: CIDv1, sha2-256, raw (0x55) for bytes and dag-cbor (0x71) for
// values. A CID computed here equals what any IPFS implementation computes for the same bytes.

export const RAW_CODE = 0x55
export const DAG_CBOR_CODE = 0x71
export const SHA2_256_CODE = 0x12

export type BlockCodec = typeof RAW_CODE | typeof DAG_CBOR_CODE

export function sha256(bytes: Uint8Array | string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

export function toHex(bytes: Uint8Array): Hex {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`
}

/**
 * dag-cbor encoding of a plain value (objects, arrays, strings, numbers, booleans, null, bigint,
 * Uint8Array, CIDs). `undefined`, functions, NaN/Infinity and class instances are rejected with
 * SdkError('INVALID_VALUE'). Note: integers decode as numbers when they fit in 2^53.
 */
export function encodeValue(value: unknown): Uint8Array {
  try {
    return dagCbor.encode(value)
  } catch (cause) {
    throw new SdkError('INVALID_VALUE', 'value is not dag-cbor encodable', {
      details: { reason: cause instanceof Error ? cause.message : String(cause) },
      cause,
    })
  }
}

export function decodeValue(bytes: Uint8Array): unknown {
  try {
    return dagCbor.decode(bytes)
  } catch (cause) {
    throw new SdkError('INVALID_VALUE', 'bytes are not valid dag-cbor', {
      details: { reason: cause instanceof Error ? cause.message : String(cause) },
      cause,
    })
  }
}

/** CIDv1 (sha2-256) of a block with the given codec. */
export function blockCid(codec: BlockCodec, bytes: Uint8Array): CID {
  return CID.createV1(codec, Digest.create(SHA2_256_CODE, sha256(bytes)))
}

/** The CIDv1 string whose sha2-256 digest is `digest` (what goes on-chain); codec raw by default, dag-cbor for values. */
export function cidFromDigest(digest: Hex, codec: number = RAW_CODE): string {
  return CID.createV1(codec, Digest.create(SHA2_256_CODE, Buffer.from(digest.slice(2), 'hex'))).toString()
}

/** The 32-byte digest of a CID string (what goes on-chain). */
export function digestOfCid(cid: string): Hex {
  return toHex(CID.parse(cid).multihash.digest)
}

/** Raw CIDv1 string of bytes (what `store.put(bytes)` returns). */
export function rawCid(bytes: Uint8Array): string {
  return blockCid(RAW_CODE, bytes).toString()
}

/** dag-cbor CIDv1 string of a value (what `store.put(value)` returns). */
export function valueCid(value: unknown): string {
  return blockCid(DAG_CBOR_CODE, encodeValue(value)).toString()
}

/**
 * The submission root: dag-cbor CIDv1 sha2-256 of the submission, and its 32-byte sha2-256
 * digest as 0x hex (what the node puts on-chain).
 */
export function submissionRoot(value: unknown): { cid: string; digest: Hex } {
  const cid = blockCid(DAG_CBOR_CODE, encodeValue(value))
  return { cid: cid.toString(), digest: toHex(cid.multihash.digest) }
}

/** Parses a CID string and checks it is one we store: v1, raw or dag-cbor, sha2-256 (32 bytes). */
export function parseCid(cid: unknown): CID {
  if (typeof cid !== 'string' || cid.length === 0 || cid.length > 200) {
    throw new SdkError('INVALID_CID', 'CID must be a non-empty string', { details: { cid: String(cid).slice(0, 200) } })
  }
  let parsed: CID
  try {
    parsed = CID.parse(cid)
  } catch (cause) {
    throw new SdkError('INVALID_CID', 'not a CID', { details: { cid }, cause })
  }
  if (
    parsed.version !== 1 ||
    (parsed.code !== RAW_CODE && parsed.code !== DAG_CBOR_CODE) ||
    parsed.multihash.code !== SHA2_256_CODE ||
    parsed.multihash.size !== 32
  ) {
    throw new SdkError('UNSUPPORTED_CID', 'only CIDv1 raw/dag-cbor with sha2-256 are supported', {
      details: { cid, version: parsed.version, codec: parsed.code, hash: parsed.multihash.code },
    })
  }
  return parsed
}

/** Whether `bytes` hash to `cid`'s digest (the CID must already be parsed/validated). */
export function verifyBlock(cid: CID, bytes: Uint8Array): boolean {
  const digest = sha256(bytes)
  const expected = cid.multihash.digest
  if (digest.byteLength !== expected.byteLength) return false
  for (let i = 0; i < digest.byteLength; i++) if (digest[i] !== expected[i]) return false
  return true
}

/**
 * `count` distinct positions in [0, total), drawn deterministically from `seed` (e.g. the round
 * seed, or a submission digest when no seed is known) and a `label` (e.g. the submitter).
 * All positions when count ≥ total.
 */
export function samplePositions(seed: string | Uint8Array, count: number, total: number, label = ''): number[] {
  if (!Number.isSafeInteger(count) || !Number.isSafeInteger(total) || count < 0 || total < 0) {
    throw new SdkError('INVALID_OPTIONS', 'count and total must be non-negative integers', { details: { count, total } })
  }
  if (count >= total) return Array.from({ length: total }, (_, i) => i)
  const seedText = typeof seed === 'string' ? seed : toHex(seed)
  const picked = new Set<number>()
  const positions: number[] = []
  for (let j = 0; positions.length < count; j++) {
    const draw = BigInt(toHex(sha256(`coop.sample|${seedText}|${label}|${j}`))) % BigInt(total)
    const position = Number(draw)
    if (!picked.has(position)) {
      picked.add(position)
      positions.push(position)
    }
  }
  return positions
}
