// Signed request/response over `/coop/<name>` libp2p protocols: one stream per request, one
// length-prefixed signed envelope each way.
//
//   requester                                    responder
//   openStream(/coop/x) ─ frame(envelope type=/coop/x) + close ─▶ read ≤ maxBytes, verify, handler
//                       ◀─ frame(envelope type=/coop/x#response | /coop/x#error) + close
//
// Every inbound failure is caught, counted in `dropped`, logged, and ends in stream.abort(); a
// handler that throws is answered with a signed `{ error: { code, message } }`.
import type { AbortOptions, Connection, Startable, Stream, StreamHandler, StreamHandlerOptions } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'

import { signEnvelope, verifyEnvelope, type EnvelopeAccount, type VerifiedMessage } from '../envelope.ts'
import { P2pError, isP2pError } from '../errors.ts'
import {
  describeError,
  readOneFrame,
  recordDrop,
  toProtocolId,
  writeOneFrame,
  type Counters,
  type P2pLogger,
} from '../internal.ts'

export const RESPONSE_SUFFIX = '#response'
export const ERROR_SUFFIX = '#error'

export type RequestHandler = (request: VerifiedMessage) => Promise<unknown>
export type RequestOptions = { timeoutMs?: number; signal?: AbortSignal }

/** What the service needs from libp2p (a subset of its Components). */
export interface RequestResponseComponents {
  registrar: {
    handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>
    unhandle(protocol: string, options?: AbortOptions): Promise<void>
  }
  connectionManager: {
    openStream(peer: Multiaddr, protocol: string, options?: AbortOptions): Promise<Stream>
  }
}

export interface RequestResponseInit {
  account: EnvelopeAccount
  maxMessageBytes: number
  maxClockSkewMs: number
  /** Default request timeout; also how long a responder waits for the request frame. */
  timeoutMs: number
  counters: Counters
  logger: P2pLogger
}

export class RequestResponseService implements Startable {
  readonly [Symbol.toStringTag] = '@coop/p2p/request-response'
  private readonly components: RequestResponseComponents
  private readonly init: RequestResponseInit
  private readonly handlers = new Map<string, RequestHandler>()
  private readonly registered = new Set<string>()
  private readonly streams = new Set<Stream>()
  private started = false

  constructor(components: RequestResponseComponents, init: RequestResponseInit) {
    this.components = components
    this.init = init
  }

  async start(): Promise<void> {
    this.started = true
    await Promise.all([...this.handlers.keys()].map((protocolId) => this.register(protocolId)))
  }

  async stop(): Promise<void> {
    this.started = false
    for (const stream of this.streams) stream.abort(new Error('host stopping'))
    this.streams.clear()
    const protocols = [...this.registered]
    this.registered.clear()
    await Promise.all(protocols.map((protocolId) => this.components.registrar.unhandle(protocolId).catch(() => {})))
  }

  /** Registers (or replaces) the handler of `/coop/<protocol>`. */
  handle(protocol: string, handler: RequestHandler): void {
    if (typeof handler !== 'function') throw new TypeError('handler must be a function')
    const protocolId = toProtocolId(protocol)
    this.handlers.set(protocolId, handler)
    if (this.started) {
      this.register(protocolId).catch((error: unknown) =>
        this.init.logger.error({ protocol: protocolId, error: describeError(error).message }, 'p2p handler registration failed'),
      )
    }
  }

  /** Sends one signed request and returns the verified signed response. */
  async request(target: string | Multiaddr, protocol: string, body: unknown, options: RequestOptions = {}): Promise<VerifiedMessage> {
    const protocolId = toProtocolId(protocol)
    const timeoutMs = options.timeoutMs ?? this.init.timeoutMs
    let address: Multiaddr
    try {
      address = typeof target === 'string' ? multiaddr(target) : target
    } catch (cause) {
      throw new P2pError('DIAL_FAILED', 'invalid multiaddr', { details: { target: String(target) }, cause })
    }
    const payload = await signEnvelope(this.init.account, { type: protocolId, body, maxBytes: this.init.maxMessageBytes })

    const timeout = new AbortController()
    const timer = setTimeout(() => timeout.abort(new P2pError('TIMEOUT', 'request timed out', { details: { protocol: protocolId, timeoutMs } })), timeoutMs)
    const signal = options.signal === undefined ? timeout.signal : AbortSignal.any([timeout.signal, options.signal])
    const context = { protocol: protocolId, peer: address.toString() }
    const fail = (error: unknown, fallback: P2pError): P2pError => {
      if (signal.aborted) {
        return timeout.signal.aborted
          ? (timeout.signal.reason as P2pError)
          : new P2pError('TIMEOUT', 'request aborted by the caller', { details: { protocol: protocolId }, cause: signal.reason })
      }
      return isP2pError(error) ? error : fallback
    }

    let stream: Stream | undefined
    try {
      try {
        stream = await this.components.connectionManager.openStream(address, protocolId, { signal })
      } catch (cause) {
        const name = (cause as { name?: unknown } | null)?.name
        throw fail(
          cause,
          name === 'UnsupportedProtocolError'
            ? new P2pError('NO_HANDLER', 'peer does not handle this protocol', { details: context, cause })
            : new P2pError('DIAL_FAILED', 'could not open a stream to the peer', { details: context, cause }),
        )
      }
      this.streams.add(stream)
      let frame: Uint8Array | undefined
      try {
        await writeOneFrame(stream, payload, signal)
        this.init.counters.sent += 1
        frame = await readOneFrame(stream, this.init.maxMessageBytes, signal)
      } catch (cause) {
        const error = fail(cause, new P2pError('REMOTE_ERROR', 'peer reset the stream', { details: context, cause }))
        // an oversize or badly framed response is a bad inbound message like any other
        if (!signal.aborted && (error.code === 'MESSAGE_TOO_LARGE' || error.code === 'MALFORMED')) recordDrop(this.init.counters, this.init.logger, error, context)
        throw error
      }
      if (frame === undefined) throw new P2pError('REMOTE_ERROR', 'peer closed the stream without answering', { details: context })

      let response: VerifiedMessage
      try {
        response = await verifyEnvelope(frame, { maxBytes: this.init.maxMessageBytes, maxClockSkewMs: this.init.maxClockSkewMs })
        if (response.type !== protocolId + RESPONSE_SUFFIX && response.type !== protocolId + ERROR_SUFFIX) {
          throw new P2pError('MALFORMED', 'response type does not match the request', { details: { type: response.type, expected: protocolId + RESPONSE_SUFFIX } })
        }
      } catch (cause) {
        throw recordDrop(this.init.counters, this.init.logger, cause, context)
      }
      this.init.counters.received += 1
      const peerId = remotePeerOf(address)
      const verified: VerifiedMessage = peerId === undefined ? response : { ...response, peerId }
      if (response.type.endsWith(ERROR_SUFFIX)) {
        const remote = readRemoteError(response.body)
        // `signed` is the peer's signed refusal: evidence that it would not serve the request
        throw new P2pError('REMOTE_ERROR', 'peer handler failed', {
          details: { ...context, from: response.from, remoteCode: remote.code, remoteMessage: remote.message, signed: verified.signed },
        })
      }
      return verified
    } finally {
      clearTimeout(timer)
      if (stream !== undefined) {
        this.streams.delete(stream)
        if (stream.status === 'open' && stream.writeStatus !== 'closed') stream.abort(new Error('request finished'))
      }
    }
  }

  private async register(protocolId: string): Promise<void> {
    if (this.registered.has(protocolId)) return
    this.registered.add(protocolId)
    await this.components.registrar.handle(protocolId, (stream, connection) => this.onStream(stream, connection), { force: true })
  }

  /** Never throws: every failure is counted/logged and ends the stream. */
  private async onStream(stream: Stream, connection: Connection): Promise<void> {
    const protocolId = stream.protocol
    const peerId = connection.remotePeer.toString()
    const context = { protocol: protocolId, peer: peerId }
    const { counters, logger, maxMessageBytes, maxClockSkewMs } = this.init
    const deadline = new AbortController()
    const timer = setTimeout(() => deadline.abort(new P2pError('TIMEOUT', 'no complete request before the deadline')), this.init.timeoutMs)
    this.streams.add(stream)
    try {
      let request: VerifiedMessage
      try {
        const frame = await readOneFrame(stream, maxMessageBytes, deadline.signal)
        if (frame === undefined) throw new P2pError('MALFORMED', 'stream ended before a request')
        request = await verifyEnvelope(frame, { maxBytes: maxMessageBytes, maxClockSkewMs, type: protocolId })
      } catch (error) {
        recordDrop(counters, logger, deadline.signal.aborted ? deadline.signal.reason : error, context)
        stream.abort(error instanceof Error ? error : new Error('bad request'))
        return
      }
      clearTimeout(timer) // the handler may take as long as the requester is willing to wait
      counters.received += 1

      const handler = this.handlers.get(protocolId)
      let type = protocolId + RESPONSE_SUFFIX
      let body: unknown
      try {
        if (handler === undefined) throw new P2pError('NO_HANDLER', 'no handler for this protocol')
        body = await handler({ ...request, peerId })
      } catch (error) {
        type = protocolId + ERROR_SUFFIX
        body = { error: describeError(error) }
        logger.warn({ ...context, from: request.from, error: body }, 'p2p handler failed; answering with an error')
      }
      let response: Uint8Array
      try {
        response = await signEnvelope(this.init.account, { type, body, maxBytes: maxMessageBytes })
      } catch (error) {
        // the handler's result cannot be sent (not dag-cbor, too large): tell the requester why
        logger.warn({ ...context, error: describeError(error) }, 'p2p response not encodable; answering with an error')
        response = await signEnvelope(this.init.account, { type: protocolId + ERROR_SUFFIX, body: { error: describeError(error) }, maxBytes: maxMessageBytes })
      }
      if (stream.status !== 'open') return // requester gave up meanwhile
      await writeOneFrame(stream, response, AbortSignal.timeout(this.init.timeoutMs))
      counters.sent += 1
    } catch (error) {
      logger.debug({ ...context, error: describeError(error).message }, 'p2p stream failed')
      stream.abort(error instanceof Error ? error : new Error(String(error)))
    } finally {
      clearTimeout(timer)
      this.streams.delete(stream)
    }
  }
}

/** libp2p service factory: `services: { requests: requestResponse(init) }`. */
export function requestResponse(init: RequestResponseInit): (components: RequestResponseComponents) => RequestResponseService {
  return (components) => new RequestResponseService(components, init)
}

function readRemoteError(body: unknown): { code: string; message: string } {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error
  return {
    code: typeof error?.code === 'string' ? error.code : 'UNKNOWN',
    message: typeof error?.message === 'string' ? error.message : 'remote error without a message',
  }
}

function remotePeerOf(address: Multiaddr): string | undefined {
  return address.getComponents().findLast((component) => component.name === 'p2p')?.value
}
