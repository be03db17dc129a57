// A device without a wallet (DESIGN.md §2, seed 000 §VI): a key pair (ed25519 or secp256k1) that
// signs payloads for a task's round, posts them to a node and keeps the node's signed receipt.
import { ed25519 } from '@noble/curves/ed25519'
import { secp256k1 } from '@noble/curves/secp256k1'
import { type DevicePayload, type DeviceReceipt, type DeviceScheme, signDevicePayload, verifyReceipt } from '@coop/protocol'
import { type Hex, bytesToHex, hexToBytes } from 'viem'

import { DeviceError } from './errors.ts'
import { baseUrl, refused, requestJson } from './http.ts'

export type DeviceOptions = {
  scheme: DeviceScheme
  /** 32 bytes (0x hex or bytes). */
  privateKey: Hex | Uint8Array
  /**
   * The last seq this device used (a device that persists it passes it back after a restart).
   * Default: none; seqs then start at the wall clock in microseconds, which also keeps them
   * increasing across restarts of a device that keeps nothing.
   */
  lastSeq?: number
}

export type SendOptions = {
  /** The payload's round; default: the task's current round as the node reports it (GET /api/tasks/:id). */
  round?: number
  /** Per request. Default 10 000 ms. */
  timeoutMs?: number
  /**
   * A payload refused as WRONG_ROUND (the round turned, or the node already sealed it) is signed
   * again for the node's current round once. Default true (false when `round` is given).
   */
  retryWrongRound?: boolean
}

export type SendResult = {
  receipt: DeviceReceipt
  payload: DevicePayload
  /** The signed payload's wire bytes (dag-cbor) and CID. */
  bytes: Uint8Array
  payloadCid: string
}

export interface Device {
  readonly scheme: DeviceScheme
  /** 0x hex: 32 bytes (ed25519) or 33 bytes compressed (secp256k1): the `device` field of its payloads. */
  readonly publicKey: Hex
  /** The last seq used. */
  readonly lastSeq: number | undefined
  /** Signs a payload (next seq unless given). */
  sign(fields: { taskId: string; round: number; body: unknown; seq?: number }): { payload: DevicePayload; bytes: Uint8Array; cid: string }
  /** Signs `body` for the task's round, posts it to the node, checks the receipt's signature and fields. */
  send(nodeUrl: string, taskId: string, body: unknown, options?: SendOptions): Promise<SendResult>
}

/** A fresh 32-byte private key for `scheme`. */
export function generateDeviceKey(scheme: DeviceScheme): Hex {
  if (scheme === 'ed25519') return bytesToHex(ed25519.utils.randomPrivateKey())
  if (scheme === 'secp256k1') return bytesToHex(secp256k1.utils.randomPrivateKey())
  throw new DeviceError('INVALID_OPTIONS', 'scheme must be ed25519 or secp256k1', { scheme })
}

/** The device public key (0x hex) of a private key. */
export function devicePublicKey(scheme: DeviceScheme, privateKey: Hex | Uint8Array): Hex {
  const secret = keyBytes(privateKey)
  try {
    if (scheme === 'ed25519') return bytesToHex(ed25519.getPublicKey(secret))
    if (scheme === 'secp256k1') return bytesToHex(secp256k1.getPublicKey(secret, true))
  } catch (cause) {
    throw new DeviceError('INVALID_OPTIONS', `not a ${scheme} private key`, {}, cause)
  }
  throw new DeviceError('INVALID_OPTIONS', 'scheme must be ed25519 or secp256k1', { scheme })
}

function keyBytes(privateKey: Hex | Uint8Array): Uint8Array {
  const bytes = typeof privateKey === 'string' && /^0x[0-9a-fA-F]{64}$/.test(privateKey) ? hexToBytes(privateKey) : privateKey
  if (!(bytes instanceof Uint8Array) || bytes.length !== 32) throw new DeviceError('INVALID_OPTIONS', 'private key must be 32 bytes (0x + 64 hex digits)')
  return bytes
}

/** The task's current round as the node's API reports it. */
export async function currentRound(nodeUrl: string, taskId: string, timeoutMs = 10_000): Promise<number> {
  const url = `${baseUrl(nodeUrl)}/api/tasks/${encodeURIComponent(taskId)}`
  const { status, body } = await requestJson(url, { timeoutMs })
  if (status !== 200) throw refused(url, status, body)
  const round = Number((body as { currentRound?: unknown } | null)?.currentRound)
  if (!Number.isSafeInteger(round) || round < 0) throw new DeviceError('BAD_RESPONSE', 'the node did not report the task\'s current round', { url })
  return round
}

export function createDevice(options: DeviceOptions): Device {
  const { scheme } = options
  const secret = keyBytes(options.privateKey)
  const publicKey = devicePublicKey(scheme, secret)
  let lastSeq = options.lastSeq
  if (lastSeq !== undefined && !(Number.isSafeInteger(lastSeq) && lastSeq >= 0)) throw new DeviceError('INVALID_OPTIONS', 'lastSeq must be a non-negative integer', { lastSeq })

  const nextSeq = () => Math.max((lastSeq ?? -1) + 1, Date.now() * 1000)

  function sign(fields: { taskId: string; round: number; body: unknown; seq?: number }) {
    const seq = fields.seq ?? nextSeq()
    let signed: ReturnType<typeof signDevicePayload>
    try {
      signed = signDevicePayload(secret, scheme, { taskId: fields.taskId, round: fields.round, seq, body: fields.body })
    } catch (cause) {
      throw new DeviceError('INVALID_OPTIONS', `cannot sign the payload: ${(cause as Error).message}`, {}, cause)
    }
    lastSeq = Math.max(lastSeq ?? -1, seq)
    return signed
  }

  async function post(nodeUrl: string, taskId: string, bytes: Uint8Array, timeoutMs: number): Promise<{ status: number; body: unknown; url: string }> {
    const url = `${baseUrl(nodeUrl)}/api/tasks/${encodeURIComponent(taskId)}/payloads`
    const { status, body } = await requestJson(url, { method: 'POST', headers: { 'content-type': 'application/cbor' }, body: bytes, timeoutMs })
    return { status, body, url }
  }

  async function send(nodeUrl: string, taskId: string, body: unknown, sendOptions: SendOptions = {}): Promise<SendResult> {
    const timeoutMs = sendOptions.timeoutMs ?? 10_000
    const retry = sendOptions.retryWrongRound ?? sendOptions.round === undefined
    let round = sendOptions.round ?? (await currentRound(nodeUrl, taskId, timeoutMs))
    for (let attempt = 0; ; attempt++) {
      const signed = sign({ taskId, round, body })
      const answer = await post(nodeUrl, taskId, signed.bytes, timeoutMs)
      if (answer.status === 200) {
        const receipt = answer.body as DeviceReceipt
        try {
          await verifyReceipt(receipt)
        } catch (cause) {
          throw new DeviceError('BAD_RESPONSE', 'the receipt does not verify', { url: answer.url }, cause)
        }
        if (receipt.payloadCid !== signed.cid || receipt.taskId !== taskId || receipt.round !== round) {
          throw new DeviceError('BAD_RESPONSE', 'the receipt is for another payload', { url: answer.url, receipt, payloadCid: signed.cid, round })
        }
        return { receipt, payload: signed.payload, bytes: signed.bytes, payloadCid: signed.cid }
      }
      const error = refused(answer.url, answer.status, answer.body)
      if (retry && attempt === 0 && error.details.code === 'WRONG_ROUND') {
        const current = Number((error.details.remote as { current?: unknown } | undefined)?.current)
        round = Number.isSafeInteger(current) && current > round ? current : await currentRound(nodeUrl, taskId, timeoutMs)
        continue
      }
      throw error
    }
  }

  return {
    scheme,
    publicKey,
    get lastSeq() {
      return lastSeq
    },
    sign,
    send,
  }
}
