// Pieces shared by the services: logging, counters, names, and one-frame stream I/O (libp2p 3).
import type { Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'
import type { Uint8ArrayList } from 'uint8arraylist'

import { P2P_ERROR_CODES, P2pError, isP2pError, type P2pErrorCode } from './errors.ts'
import { MAX_TYPE_LENGTH } from './envelope.ts'

/** pino-compatible: structured data first, then the message. `console` fits too. */
export type P2pLogger = {
  debug(data: Record<string, unknown>, message: string): void
  info(data: Record<string, unknown>, message: string): void
  warn(data: Record<string, unknown>, message: string): void
  error(data: Record<string, unknown>, message: string): void
}

export const silentLogger: P2pLogger = { debug() {}, info() {}, warn() {}, error() {} }

export type P2pStats = { received: number; sent: number; dropped: Record<P2pErrorCode, number> }

/** Message counters: `received` = verified inbound envelopes (requests, responses, gossip),
 * `sent` = envelopes written (requests, responses, publishes), `dropped` = inbound rejects by code. */
export class Counters {
  received = 0
  sent = 0
  readonly dropped: Record<P2pErrorCode, number> = Object.fromEntries(P2P_ERROR_CODES.map((code) => [code, 0])) as Record<
    P2pErrorCode,
    number
  >

  snapshot(): P2pStats {
    return { received: this.received, sent: this.sent, dropped: { ...this.dropped } }
  }
}

/** Counts one rejected inbound message and logs it at warn. Returns the P2pError. */
export function recordDrop(
  counters: Counters,
  logger: P2pLogger,
  error: unknown,
  context: Record<string, unknown>,
  fallback: P2pErrorCode = 'MALFORMED',
): P2pError {
  const p2pError = isP2pError(error) ? error : new P2pError(fallback, 'inbound message rejected', { cause: error })
  counters.dropped[p2pError.code] += 1
  logger.warn({ ...context, code: p2pError.code, reason: p2pError.shortMessage }, 'p2p message dropped')
  return p2pError
}

export const PROTOCOL_PREFIX = '/coop/'
const PROTOCOL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9._-]+)*$/

/** `submission/1.0.0` (or `/coop/submission/1.0.0`) → `/coop/submission/1.0.0`. */
export function toProtocolId(protocol: string): string {
  const name = typeof protocol === 'string' && protocol.startsWith(PROTOCOL_PREFIX) ? protocol.slice(PROTOCOL_PREFIX.length) : protocol
  if (typeof name !== 'string' || !PROTOCOL_NAME.test(name) || PROTOCOL_PREFIX.length + name.length + '#response'.length > MAX_TYPE_LENGTH) {
    throw new TypeError(`invalid protocol name ${JSON.stringify(protocol)}: expected segments like "submission/1.0.0"`)
  }
  return PROTOCOL_PREFIX + name
}

/** Gossip topics are envelope types too; they may not start with `/` so they never collide with protocol ids. */
export function checkTopic(topic: string): void {
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > MAX_TYPE_LENGTH || topic.startsWith('/')) {
    throw new TypeError(`invalid topic ${JSON.stringify(topic)}: a non-empty string of at most ${MAX_TYPE_LENGTH} characters not starting with "/"`)
  }
}

/**
 * Reads exactly one length-prefixed frame from a libp2p 3 stream.
 *
 * libp2p 3 streams are event-based message streams ('message', 'remoteCloseWrite', 'end', 'close'
 * events; `send()`/`close()`/`abort()`; bytes that arrive while nobody listens to 'message' are
 * buffered). `streamChunks` turns the events into an async source that also notices a remote close
 * that happened before we started listening (the stream's built-in async iterator then waits
 * forever: a response can arrive, FIN included, while we are still flushing the request), and
 * it-length-prefixed decodes one frame off it, rejecting a declared length above `maxBytes` as soon
 * as the varint arrives — before any payload is buffered. After one frame the source is returned, which detaches the listeners; anything else the
 * peer sends is ignored. Aborting `signal` aborts the stream, which ends the pending read.
 *
 * Returns `undefined` if the remote closed its side without sending anything. Throws P2pError
 * MESSAGE_TOO_LARGE / MALFORMED for bad framing, or the raw stream error (reset, abort).
 */
export async function readOneFrame(stream: Stream, maxBytes: number, signal: AbortSignal): Promise<Uint8Array | undefined> {
  signal.throwIfAborted()
  const frames = lp.decode(streamChunks(stream), { maxDataLength: maxBytes })
  const onAbort = (): void => stream.abort(toError(signal.reason))
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    const next = await frames.next()
    if (next.done === true) return undefined
    return next.value.subarray()
  } catch (error) {
    throw framingError(error) ?? error
  } finally {
    signal.removeEventListener('abort', onAbort)
    await frames.return(undefined).catch(() => {})
  }
}

/** The stream's incoming bytes as an async source that ends when the remote closes its writable end. */
async function* streamChunks(stream: Stream): AsyncGenerator<Uint8Array | Uint8ArrayList, void, undefined> {
  const queue: Array<Uint8Array | Uint8ArrayList> = []
  let ended = false
  let failure: Error | undefined
  let wake: (() => void) | undefined
  const notify = (): void => {
    wake?.()
    wake = undefined
  }
  const onMessage = (event: StreamMessageEvent): void => {
    queue.push(event.data)
    notify()
  }
  const onEnd = (): void => {
    ended = true
    notify()
  }
  const onClose = (event: StreamCloseEvent): void => {
    if (event.error !== undefined) failure = event.error
    ended = true
    notify()
  }
  stream.addEventListener('message', onMessage)
  stream.addEventListener('remoteCloseWrite', onEnd)
  stream.addEventListener('end', onEnd)
  stream.addEventListener('close', onClose)
  try {
    // Events that fired before we listened are gone ('remoteCloseWrite' and 'end' fire once, and 'end'
    // can precede the delivery of buffered bytes), so the stream's state decides too: once the
    // remote closed its writable end and the read buffer has been handed to us, nothing more comes.
    if ((stream.status === 'reset' || stream.status === 'aborted') && stream.readBufferLength === 0) {
      failure = new Error(`stream ${stream.status}`)
    }
    while (true) {
      const chunk = queue.shift()
      if (chunk !== undefined) {
        yield chunk
        continue
      }
      if (failure !== undefined) throw failure
      if (ended || (stream.remoteWriteStatus === 'closed' && stream.readBufferLength === 0)) return
      await new Promise<void>((resolve) => {
        wake = resolve
      })
    }
  } finally {
    stream.removeEventListener('message', onMessage)
    stream.removeEventListener('remoteCloseWrite', onEnd)
    stream.removeEventListener('end', onEnd)
    stream.removeEventListener('close', onClose)
  }
}

/** Writes one length-prefixed frame and closes the writable end (flushing it). */
export async function writeOneFrame(stream: Stream, payload: Uint8Array, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted()
  if (!stream.send(lp.encode.single(payload))) await stream.onDrain({ signal })
  await stream.close({ signal })
}

function framingError(error: unknown): P2pError | undefined {
  const name = (error as { name?: unknown } | null)?.name
  switch (name) {
    case 'InvalidDataLengthError':
      return new P2pError('MESSAGE_TOO_LARGE', 'frame length exceeds the size limit', { cause: error })
    case 'InvalidDataLengthLengthError':
    case 'InvalidMessageLengthError':
      return new P2pError('MALFORMED', 'invalid frame length prefix', { cause: error })
    case 'UnexpectedEOFError':
      return new P2pError('MALFORMED', 'stream ended inside a frame', { cause: error })
    default:
      return undefined
  }
}

export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value))
}

/** A short, safe description of an error for logs and remote error bodies. */
export function describeError(error: unknown): { code: string; message: string } {
  const record = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; shortMessage?: unknown; message?: unknown }
  const code = typeof record.code === 'string' && record.code.length <= 64 ? record.code : 'HANDLER_ERROR'
  const raw = typeof record.shortMessage === 'string' ? record.shortMessage : typeof record.message === 'string' ? record.message : String(error)
  return { code, message: raw.length > 1000 ? `${raw.slice(0, 1000)}…` : raw }
}
