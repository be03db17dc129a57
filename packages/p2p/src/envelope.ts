// The signed envelope every Coop p2p message travels in.
//
//   unsigned = dag-cbor { v: 1, type, from: 20-byte address, sentAt: ms, nonce: 16 bytes, body }
//   sig      = EIP-191 personal_sign over keccak256(unsigned)   (65 bytes r ‖ s ‖ v, v ∈ {27, 28}, low s)
//   wire     = dag-cbor { unsigned: bytes, sig: bytes }
//
// Signing covers the exact `unsigned` bytes, so verification never re-encodes anything and the
// wire bytes are usable as evidence by anyone holding them. `verifyEnvelope` is pure (the clock
// is an input) and bounded: the size check runs before any decoding.
import * as dagCbor from '@ipld/dag-cbor'
import {
  bytesToHex,
  getAddress,
  hexToBytes,
  isHex,
  keccak256,
  recoverMessageAddress,
  type Address,
  type Hex,
  type LocalAccount,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'

import { P2pError } from './errors.ts'

export const ENVELOPE_VERSION = 1
/** Largest envelope (wire bytes) accepted or produced unless configured otherwise: 4 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
/** Envelopes whose `sentAt` is further than this from the receiver's clock are STALE: 5 minutes. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 5 * 60 * 1000
/** Longest `type` string (UTF-16 code units): protocol ids and topic names are short. */
export const MAX_TYPE_LENGTH = 256
export const NONCE_BYTES = 16
const SIGNATURE_BYTES = 65
const ADDRESS_BYTES = 20
/** secp256k1 group order / 2: signatures with a larger s are malleated copies and are refused. */
const SECP256K1_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n

/** An envelope that passed every check. */
export type VerifiedMessage = {
  /** What the envelope is for: the full protocol id (`/coop/<name>`, plus `#response` / `#error`
   * for answers) or the gossip topic. Signed, so a message cannot be replayed in another context. */
  type: string
  /** The recovered signer (checksummed), equal to the envelope's `from`. */
  from: Address
  /** Sender's clock when signing, ms since epoch (signed). */
  sentAt: number
  /** dag-cbor decoded: plain objects, arrays, strings, numbers, bigint, Uint8Array, null, CID. */
  body: unknown
  /** The exact wire bytes of the signed envelope: verifiable again later, usable as audit evidence. */
  signed: Uint8Array
  /** libp2p peer id the message came from (set by the host, not part of the signed data). */
  peerId?: string
}

export type VerifyEnvelopeOptions = {
  /** Reject larger input before decoding (MESSAGE_TOO_LARGE). Default 4 MiB. */
  maxBytes?: number
  /** |now − sentAt| above this is STALE. Default 5 min; `Infinity` disables the check (evidence). */
  maxClockSkewMs?: number
  /** The receiver's clock, ms since epoch. Default `Date.now()`. */
  now?: number
  /** If set, the envelope's `type` must equal it (MALFORMED otherwise). */
  type?: string
}

/** Anything that can sign like a viem local account. */
export type EnvelopeAccount = Pick<LocalAccount, 'address' | 'signMessage'>

export type SignEnvelopeParameters = {
  type: string
  /** Any dag-cbor encodable value; `undefined` is sent as `null`. */
  body: unknown
  /** Default `Date.now()`. */
  sentAt?: number
  /** Default 16 random bytes. */
  nonce?: Uint8Array
  /** Refuse to produce an envelope larger than this (MESSAGE_TOO_LARGE). Default 4 MiB. */
  maxBytes?: number
}

/** Signs `{ v: 1, type, from, sentAt, nonce, body }` and returns the wire bytes. */
export async function signEnvelope(signer: Hex | EnvelopeAccount, parameters: SignEnvelopeParameters): Promise<Uint8Array> {
  const account = typeof signer === 'string' ? privateKeyToAccount(signer) : signer
  const { type, body } = parameters
  const sentAt = parameters.sentAt ?? Date.now()
  const nonce = parameters.nonce ?? crypto.getRandomValues(new Uint8Array(NONCE_BYTES))
  const maxBytes = parameters.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES
  checkType(type)
  if (!Number.isSafeInteger(sentAt) || sentAt < 0) {
    throw new P2pError('MALFORMED', 'sentAt must be a non-negative safe integer (ms since epoch)', { details: { sentAt } })
  }
  if (!(nonce instanceof Uint8Array) || nonce.byteLength !== NONCE_BYTES) {
    throw new P2pError('MALFORMED', `nonce must be ${NONCE_BYTES} bytes`)
  }
  let unsigned: Uint8Array
  try {
    unsigned = dagCbor.encode({
      v: ENVELOPE_VERSION,
      type,
      from: hexToBytes(account.address),
      sentAt,
      nonce,
      body: body === undefined ? null : body,
    })
  } catch (cause) {
    throw new P2pError('MALFORMED', 'body is not encodable as dag-cbor', { details: { type }, cause })
  }
  // Fail fast on the unsigned part alone: the signature and framing add under 100 bytes.
  if (unsigned.byteLength > maxBytes) {
    throw new P2pError('MESSAGE_TOO_LARGE', 'envelope exceeds the size limit', {
      details: { type, bytes: unsigned.byteLength, maxBytes },
    })
  }
  const signature = await account.signMessage({ message: { raw: keccak256(unsigned) } })
  const wire = dagCbor.encode({ unsigned, sig: hexToBytes(signature) })
  if (wire.byteLength > maxBytes) {
    throw new P2pError('MESSAGE_TOO_LARGE', 'envelope exceeds the size limit', {
      details: { type, bytes: wire.byteLength, maxBytes },
    })
  }
  return wire
}

/**
 * Checks, in order: size (before decoding) → outer shape → unsigned shape (every field's type,
 * v = 1, 20-byte from, 16-byte nonce, expected type) → signature (canonical, signer = from) →
 * clock skew. Throws `P2pError` (MESSAGE_TOO_LARGE | MALFORMED | BAD_SIGNATURE | STALE) and
 * nothing else. Async only because viem's signer recovery is.
 */
export async function verifyEnvelope(bytes: Uint8Array, options: VerifyEnvelopeOptions = {}): Promise<VerifiedMessage> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES
  const maxClockSkewMs = options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS
  if (!(bytes instanceof Uint8Array)) throw new P2pError('MALFORMED', 'envelope must be a Uint8Array')
  if (bytes.byteLength > maxBytes) {
    throw new P2pError('MESSAGE_TOO_LARGE', 'envelope exceeds the size limit', { details: { bytes: bytes.byteLength, maxBytes } })
  }

  const outer = decodeStrict(bytes, 'envelope')
  if (!isPlainRecord(outer) || !hasExactKeys(outer, ['sig', 'unsigned'])) {
    throw new P2pError('MALFORMED', 'envelope must be a map with exactly `unsigned` and `sig`')
  }
  const { unsigned: unsignedBytes, sig } = outer
  if (!(unsignedBytes instanceof Uint8Array)) throw new P2pError('MALFORMED', '`unsigned` must be bytes')
  if (!(sig instanceof Uint8Array) || sig.byteLength !== SIGNATURE_BYTES) {
    throw new P2pError('MALFORMED', `\`sig\` must be ${SIGNATURE_BYTES} bytes`)
  }

  const unsigned = decodeStrict(unsignedBytes, 'unsigned envelope')
  if (!isPlainRecord(unsigned) || !hasExactKeys(unsigned, ['body', 'from', 'nonce', 'sentAt', 'type', 'v'])) {
    throw new P2pError('MALFORMED', 'unsigned envelope must be a map with exactly v, type, from, sentAt, nonce, body')
  }
  const { v, type, from, sentAt, nonce, body } = unsigned
  if (v !== ENVELOPE_VERSION) throw new P2pError('MALFORMED', 'unsupported envelope version', { details: { v: String(v) } })
  if (typeof type !== 'string' || type.length === 0 || type.length > MAX_TYPE_LENGTH) {
    throw new P2pError('MALFORMED', `type must be a non-empty string of at most ${MAX_TYPE_LENGTH} characters`)
  }
  if (!(from instanceof Uint8Array) || from.byteLength !== ADDRESS_BYTES) {
    throw new P2pError('MALFORMED', `from must be a ${ADDRESS_BYTES}-byte address`, { details: { type } })
  }
  if (typeof sentAt !== 'number' || !Number.isSafeInteger(sentAt) || sentAt < 0) {
    throw new P2pError('MALFORMED', 'sentAt must be a non-negative safe integer', { details: { type } })
  }
  if (!(nonce instanceof Uint8Array) || nonce.byteLength !== NONCE_BYTES) {
    throw new P2pError('MALFORMED', `nonce must be ${NONCE_BYTES} bytes`, { details: { type } })
  }
  if (options.type !== undefined && type !== options.type) {
    throw new P2pError('MALFORMED', 'envelope type does not match its context', { details: { type, expected: options.type } })
  }

  const claimed = getAddress(bytesToHex(from))
  const recoveryId = sig[64]
  if ((recoveryId !== 27 && recoveryId !== 28) || bytesToBigInt(sig.subarray(32, 64)) > SECP256K1_HALF_N) {
    throw new P2pError('BAD_SIGNATURE', 'signature is not in canonical form (v ∈ {27, 28}, low s)', { details: { type, from: claimed } })
  }
  let signer: Address
  try {
    signer = await recoverMessageAddress({ message: { raw: keccak256(unsignedBytes) }, signature: sig })
  } catch (cause) {
    throw new P2pError('BAD_SIGNATURE', 'signature does not recover to any signer', { details: { type, from: claimed }, cause })
  }
  if (signer.toLowerCase() !== claimed.toLowerCase()) {
    throw new P2pError('BAD_SIGNATURE', 'signer is not the claimed sender', { details: { type, from: claimed, signer } })
  }

  const now = options.now ?? Date.now()
  if (Math.abs(now - sentAt) > maxClockSkewMs) {
    throw new P2pError('STALE', sentAt < now ? 'envelope is too old' : 'envelope is from the future', {
      details: { type, from: claimed, sentAt, now, maxClockSkewMs },
    })
  }

  const signed = bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice()
  return { type, from: claimed, sentAt, body, signed }
}

/** MALFORMED for a type string that verifyEnvelope would refuse, so bad input fails at the sender. */
function checkType(type: unknown): asserts type is string {
  if (typeof type !== 'string' || type.length === 0 || type.length > MAX_TYPE_LENGTH) {
    throw new P2pError('MALFORMED', `type must be a non-empty string of at most ${MAX_TYPE_LENGTH} characters`)
  }
}

function decodeStrict(bytes: Uint8Array, what: string): unknown {
  try {
    return dagCbor.decode(bytes)
  } catch (cause) {
    // cborg throws Error for bad input and RangeError for pathological nesting: both are MALFORMED.
    throw new P2pError('MALFORMED', `${what} is not valid dag-cbor`, { cause })
  }
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) return false
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

function hasExactKeys(record: Record<string, unknown>, sortedKeys: readonly string[]): boolean {
  const keys = Object.keys(record)
  if (keys.length !== sortedKeys.length) return false
  keys.sort()
  return keys.every((key, index) => key === sortedKeys[index])
}

function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.byteLength === 0 ? 0n : BigInt(bytesToHex(bytes))
}

/** True for a 0x-prefixed 32-byte hex private key. */
export function isPrivateKey(value: unknown): value is Hex {
  return typeof value === 'string' && isHex(value, { strict: true }) && value.length === 66
}
