import { ed25519 } from '@noble/curves/ed25519'
import { secp256k1 } from '@noble/curves/secp256k1'
import { type Address, type Hex, bytesToHex, getAddress, hexToBytes, isAddress, recoverMessageAddress } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { CID, DAG_CBOR_CODE, bytesEqual, cidOf, dagCbor, isSupportedCid, sha256 } from './cid.ts'
import { scaleError } from './errors.ts'
import { MAX_DAG_LEAVES } from './round-dag.ts'

// Devices without wallets (IoT, DESIGN.md §2) post signed payloads to a node. The wire form of a
// payload is its dag-cbor encoding (canonical: the bytes are checked to re-encode identically, so a
// payload has exactly one CID). The device signs sha2-256 of the dag-cbor encoding of the payload
// without `sig`: ed25519 (32-byte public key) or secp256k1 (33-byte compressed public key, compact
// 64-byte low-s signature). The node answers with a receipt it signs with its Ethereum key
// (EIP-191 personal message), which the device keeps to check inclusion later.

export type DeviceScheme = 'ed25519' | 'secp256k1'

export interface DevicePayload {
  readonly v: 1
  /** The device's public key, 0x lowercase hex (32 bytes ed25519, 33 bytes compressed secp256k1). */
  readonly device: Hex
  readonly scheme: DeviceScheme
  readonly taskId: string
  readonly round: number
  /** Strictly increasing per device; a payload with seq ≤ the last one seen is a replay. */
  readonly seq: number
  readonly body: Uint8Array | unknown
  /** 64-byte signature, 0x lowercase hex. */
  readonly sig: Hex
}

export type UnsignedDevicePayload = Omit<DevicePayload, 'sig'>

/** Hard cap on a payload's wire size, whatever `maxBytes` a caller passes. */
export const MAX_DEVICE_PAYLOAD_BYTES = 1 << 20
/** taskId: 1–128 printable ASCII characters without spaces (it is also a line of the receipt text). */
const TASK_ID = /^[\x21-\x7e]{1,128}$/
const ED25519_KEY = /^0x[0-9a-f]{64}$/
const SECP256K1_KEY = /^0x0[23][0-9a-f]{64}$/
const SIG = /^0x[0-9a-f]{128}$/
const PAYLOAD_KEYS = 'body,device,round,scheme,seq,sig,taskId,v'

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0

/** The 32 bytes a device signs: sha2-256 of the dag-cbor encoding of the payload without `sig`. */
export function devicePayloadSigningHash(unsigned: UnsignedDevicePayload): Uint8Array {
  const { v, device, scheme, taskId, round, seq, body } = unsigned
  try {
    return sha256(dagCbor.encode({ v, device, scheme, taskId, round, seq, body }))
  } catch (cause) {
    throw scaleError('MALFORMED', 'payload cannot be encoded as dag-cbor', {}, cause)
  }
}

function checkShape(value: unknown): DevicePayload {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array || CID.asCID(value) !== null) {
    throw scaleError('MALFORMED', 'payload is not a map')
  }
  const keys = Object.keys(value).sort().join(',')
  if (keys !== PAYLOAD_KEYS) throw scaleError('MALFORMED', 'payload does not have exactly the fields of DevicePayload v1', { keys })
  const p = value as Record<string, unknown>
  if (p.v !== 1) throw scaleError('MALFORMED', 'unknown payload version', { v: p.v })
  if (p.scheme !== 'ed25519' && p.scheme !== 'secp256k1') throw scaleError('MALFORMED', 'unknown signature scheme', { scheme: p.scheme })
  const keyPattern = p.scheme === 'ed25519' ? ED25519_KEY : SECP256K1_KEY
  if (typeof p.device !== 'string' || !keyPattern.test(p.device)) {
    throw scaleError('MALFORMED', `device is not a ${p.scheme} public key in lowercase 0x hex`, { device: p.device })
  }
  if (typeof p.taskId !== 'string' || !TASK_ID.test(p.taskId)) throw scaleError('MALFORMED', 'taskId is not 1-128 printable ASCII characters', { taskId: p.taskId })
  if (!isCount(p.round)) throw scaleError('MALFORMED', 'round is not a non-negative safe integer', { round: p.round })
  if (!isCount(p.seq)) throw scaleError('MALFORMED', 'seq is not a non-negative safe integer', { seq: p.seq })
  if (p.body === undefined) throw scaleError('MALFORMED', 'body is missing')
  if (typeof p.sig !== 'string' || !SIG.test(p.sig)) throw scaleError('MALFORMED', 'sig is not 64 bytes of lowercase 0x hex', { sig: p.sig })
  return p as unknown as DevicePayload
}

function toKeyBytes(key: Hex | Uint8Array): Uint8Array {
  const bytes = typeof key === 'string' ? (/^0x[0-9a-fA-F]{64}$/.test(key) ? hexToBytes(key) : undefined) : key
  if (!(bytes instanceof Uint8Array) || bytes.length !== 32) throw scaleError('MALFORMED', 'private key is not 32 bytes')
  return bytes
}

/**
 * Signs a payload as a device would (tests, the device CLI). Returns the payload, its wire bytes
 * (dag-cbor) and its CID.
 */
export function signDevicePayload(
  privateKey: Hex | Uint8Array,
  scheme: DeviceScheme,
  fields: { taskId: string; round: number; seq: number; body: Uint8Array | unknown },
): { payload: DevicePayload; bytes: Uint8Array; cid: string } {
  const secret = toKeyBytes(privateKey)
  let device: Hex
  if (scheme === 'ed25519') device = bytesToHex(ed25519.getPublicKey(secret))
  else if (scheme === 'secp256k1') {
    try {
      device = bytesToHex(secp256k1.getPublicKey(secret, true))
    } catch (cause) {
      throw scaleError('MALFORMED', 'not a secp256k1 private key', {}, cause)
    }
  } else throw scaleError('MALFORMED', 'unknown signature scheme', { scheme })
  const unsigned: UnsignedDevicePayload = { v: 1, device, scheme, taskId: fields.taskId, round: fields.round, seq: fields.seq, body: fields.body }
  checkShape({ ...unsigned, sig: `0x${'00'.repeat(64)}` })
  const hash = devicePayloadSigningHash(unsigned)
  const sig = bytesToHex(scheme === 'ed25519' ? ed25519.sign(hash, secret) : secp256k1.sign(hash, secret, { lowS: true }).toCompactRawBytes())
  const payload: DevicePayload = { ...unsigned, sig }
  const bytes = dagCbor.encode(payload)
  if (bytes.length > MAX_DEVICE_PAYLOAD_BYTES) throw scaleError('TOO_LARGE', 'payload exceeds MAX_DEVICE_PAYLOAD_BYTES', { bytes: bytes.length })
  return { payload, bytes, cid: cidOf(DAG_CBOR_CODE, bytes).toString() }
}

function signatureValid(payload: DevicePayload): boolean {
  const hash = devicePayloadSigningHash(payload)
  const sig = hexToBytes(payload.sig)
  const key = hexToBytes(payload.device)
  try {
    if (payload.scheme === 'ed25519') return ed25519.verify(sig, hash, key, { zip215: false })
    const signature = secp256k1.Signature.fromCompact(sig)
    if (signature.hasHighS()) return false // one signature per payload, so one CID per payload
    return secp256k1.verify(signature, hash, key, { lowS: true })
  } catch {
    return false // a public key that is not a curve point, an out-of-range r or s
  }
}

export interface VerifyDevicePayloadOptions {
  /** Reject larger inputs before decoding (capped at MAX_DEVICE_PAYLOAD_BYTES). */
  readonly maxBytes: number
  readonly expectedTaskId: string
  /** Accept rounds in [current + accept[0], current + accept[1]], e.g. accept: [-1, 0]. */
  readonly round: { readonly current: number; readonly accept: readonly [number, number] }
  /** The highest seq already accepted from this device, if any. */
  readonly lastSeq?: (device: Hex) => number | undefined
}

/**
 * Checks a payload's wire bytes, cheapest first: size (TOO_LARGE, before decoding), dag-cbor and
 * shape (MALFORMED), task (WRONG_TASK), round window (WRONG_ROUND), signature (BAD_SIGNATURE),
 * then replay (REPLAY: seq ≤ lastSeq(device); checked after the signature so a forger cannot probe
 * it). Throws only ScaleError (a ProtocolError); returns the payload and its CID.
 */
export function verifyDevicePayload(bytes: Uint8Array, options: VerifyDevicePayloadOptions): { payload: DevicePayload; cid: string } {
  if (!(bytes instanceof Uint8Array)) throw scaleError('MALFORMED', 'payload is not bytes')
  const { maxBytes, expectedTaskId, round, lastSeq } = options
  if (!isCount(maxBytes)) throw scaleError('MALFORMED', 'maxBytes is not a non-negative integer', { maxBytes })
  const limit = Math.min(maxBytes, MAX_DEVICE_PAYLOAD_BYTES)
  if (bytes.length > limit) throw scaleError('TOO_LARGE', 'payload exceeds maxBytes', { bytes: bytes.length, maxBytes: limit })
  let decoded: unknown
  try {
    decoded = dagCbor.decode(bytes)
  } catch (cause) {
    throw scaleError('MALFORMED', 'payload is not dag-cbor', {}, cause)
  }
  const payload = checkShape(decoded)
  let canonical: Uint8Array
  try {
    canonical = dagCbor.encode(payload)
  } catch (cause) {
    throw scaleError('MALFORMED', 'payload does not re-encode', {}, cause)
  }
  if (!bytesEqual(canonical, bytes)) throw scaleError('MALFORMED', 'payload is not canonical dag-cbor')
  if (payload.taskId !== expectedTaskId) throw scaleError('WRONG_TASK', 'payload is for another task', { taskId: payload.taskId, expectedTaskId })
  const [min, max] = round.accept
  if (!(payload.round >= round.current + min && payload.round <= round.current + max)) {
    throw scaleError('WRONG_ROUND', 'payload round is outside the accepted window', { round: payload.round, current: round.current, accept: [min, max] })
  }
  if (!signatureValid(payload)) throw scaleError('BAD_SIGNATURE', 'device signature does not verify', { device: payload.device, scheme: payload.scheme })
  const last = lastSeq?.(payload.device)
  if (last !== undefined && payload.seq <= last) throw scaleError('REPLAY', 'seq is not above the last accepted seq', { seq: payload.seq, lastSeq: last })
  return { payload, cid: cidOf(DAG_CBOR_CODE, bytes).toString() }
}

// ---- Receipts ---------------------------------------------------------------------------------

export interface ReceiptFields {
  /** CID of the payload's wire bytes (CIDv1 dag-cbor sha2-256, base32). */
  readonly payloadCid: string
  readonly taskId: string
  readonly round: number
  /** The payload's leaf index in the node's round DAG. */
  readonly position: number
}

export interface DeviceReceipt extends ReceiptFields {
  readonly v: 1
  /** The signing node's address (checksummed). */
  readonly node: Address
  /** EIP-191 personal-message signature over `receiptMessage(fields)`. */
  readonly sig: Hex
}

function checkReceiptFields(fields: ReceiptFields): void {
  if (typeof fields !== 'object' || fields === null) throw scaleError('MALFORMED', 'receipt is not an object')
  const { payloadCid, taskId, round, position } = fields
  let cid: CID | undefined
  try {
    cid = typeof payloadCid === 'string' ? CID.parse(payloadCid) : undefined
  } catch {
    cid = undefined
  }
  if (cid === undefined || !isSupportedCid(cid, [DAG_CBOR_CODE]) || cid.toString() !== payloadCid) {
    throw scaleError('MALFORMED', 'payloadCid is not a base32 CIDv1 dag-cbor sha2-256 CID', { payloadCid })
  }
  if (typeof taskId !== 'string' || !TASK_ID.test(taskId)) throw scaleError('MALFORMED', 'taskId is not 1-128 printable ASCII characters', { taskId })
  if (!isCount(round)) throw scaleError('MALFORMED', 'round is not a non-negative safe integer', { round })
  if (!isCount(position) || position >= MAX_DAG_LEAVES) throw scaleError('MALFORMED', 'position is not a leaf index', { position })
}

/** The text a node signs (EIP-191) for a receipt; one field per line, nothing free-form. */
export function receiptMessage(fields: ReceiptFields): string {
  checkReceiptFields(fields)
  return `Coop device receipt v1\npayload ${fields.payloadCid}\ntask ${fields.taskId}\nround ${fields.round}\nposition ${fields.position}`
}

export async function signReceipt(nodeKey: Hex, fields: ReceiptFields): Promise<DeviceReceipt> {
  const message = receiptMessage(fields)
  if (typeof nodeKey !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(nodeKey)) throw scaleError('MALFORMED', 'node key is not 32 bytes of hex')
  let account: ReturnType<typeof privateKeyToAccount>
  try {
    account = privateKeyToAccount(nodeKey)
  } catch (cause) {
    throw scaleError('MALFORMED', 'not a secp256k1 private key', {}, cause)
  }
  const { payloadCid, taskId, round, position } = fields
  return { v: 1, payloadCid, taskId, round, position, node: account.address, sig: await account.signMessage({ message }) }
}

/** Recovers the signer of a receipt; it must be `receipt.node`. Returns the node's address. */
export async function verifyReceipt(receipt: DeviceReceipt): Promise<Address> {
  const message = receiptMessage(receipt)
  if (receipt.v !== 1) throw scaleError('MALFORMED', 'unknown receipt version', { v: receipt.v })
  if (typeof receipt.node !== 'string' || !isAddress(receipt.node, { strict: false })) throw scaleError('MALFORMED', 'node is not an address', { node: receipt.node })
  if (typeof receipt.sig !== 'string' || !/^0x[0-9a-fA-F]{130}$/.test(receipt.sig)) throw scaleError('MALFORMED', 'sig is not 65 bytes of hex')
  let signer: Address
  try {
    signer = await recoverMessageAddress({ message, signature: receipt.sig })
  } catch (cause) {
    throw scaleError('BAD_SIGNATURE', 'receipt signature does not recover', {}, cause)
  }
  if (signer !== getAddress(receipt.node)) throw scaleError('BAD_SIGNATURE', 'receipt is not signed by its node', { node: receipt.node, signer })
  return signer
}
