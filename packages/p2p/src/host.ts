// createCoopHost: a libp2p node (TCP + noise + yamux + identify + gossipsub, no discovery besides
// the bootstrap list) plus Coop's services: signed request/response, signed gossip, bootstrap.
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { identify, type Identify } from '@libp2p/identify'
import type { Stream, StreamHandler } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import type { Address, Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'

import { DEFAULT_MAX_CLOCK_SKEW_MS, DEFAULT_MAX_MESSAGE_BYTES, isPrivateKey, type VerifiedMessage } from './envelope.ts'
import { P2pError } from './errors.ts'
import { Counters, silentLogger, toProtocolId, type P2pLogger, type P2pStats } from './internal.ts'
import { loadOrCreatePeerKey } from './peer-key.ts'
import { bootstrapDialer, type BootstrapService } from './services/bootstrap.ts'
import { coopGossip, type GossipService } from './services/gossip.ts'
import { requestResponse, type RequestOptions, type RequestResponseService } from './services/request-response.ts'

export const DEFAULT_LISTEN = Object.freeze(['/ip4/127.0.0.1/tcp/0'])
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000
/** Room for gossipsub's own RPC framing (topic, seqno, peer signature and key) around an envelope. */
const GOSSIP_RPC_OVERHEAD_BYTES = 64 * 1024

export type CoopHostOptions = {
  /** The node's EVM key: signs every envelope. */
  privateKey: Hex
  /** Persists the libp2p peer key as `<dataDir>/peer-key.bin`; ephemeral if absent. */
  dataDir?: string
  /** Default `['/ip4/127.0.0.1/tcp/0']`. */
  listen?: string[]
  /** Multiaddrs with `/p2p/<peerId>`: dialled at start and re-dialled with backoff on disconnect. */
  bootstrap?: string[]
  /** Largest envelope sent or accepted, checked before decoding. Default 4 MiB. */
  maxMessageBytes?: number
  /** Envelopes whose sentAt differs from our clock by more are STALE. Default 5 min. */
  maxClockSkewMs?: number
  /** Default per-request timeout, and how long a responder waits for a request frame. Default 10 s. */
  requestTimeoutMs?: number
  /** pino-compatible (`logger.warn(data, message)`). Silent by default. */
  logger?: P2pLogger
  /** Start listening before returning (like createLibp2p). Default true. */
  start?: boolean
}

export type RequestHandler = (request: VerifiedMessage) => Promise<unknown>
/** Raw stream handler (libp2p's): the stream is the handler's to read, write and close. */
export type RawStreamHandler = StreamHandler
export type RawStreamHandlerOptions = {
  /** Concurrent inbound streams of this protocol per connection (libp2p default 32). */
  maxInboundStreams?: number
  /** Concurrent outbound streams of this protocol per connection (libp2p default 64). */
  maxOutboundStreams?: number
}
export type GossipHandler = (message: VerifiedMessage) => void

export interface CoopHost {
  /** EVM address of this node (signer of its envelopes). */
  readonly address: Address
  /** libp2p peer id (stable across restarts with the same dataDir). */
  readonly peerId: string
  /** Listening addresses, each ending in `/p2p/<peerId>`. Empty while stopped. */
  multiaddrs(): string[]
  start(): Promise<void>
  stop(): Promise<void>
  /** Opens a connection (DIAL_FAILED on failure). */
  dial(multiaddr: string): Promise<void>
  /** Serves `/coop/<protocol>`: one verified request in, the handler's result out, signed. */
  handle(protocol: string, handler: RequestHandler): void
  /** One signed request to `/coop/<protocol>` on the peer; resolves to its verified signed answer. */
  request(peerMultiaddr: string, protocol: string, body: unknown, options?: RequestOptions): Promise<VerifiedMessage>
  subscribe(topic: string, handler: GossipHandler): void
  publish(topic: string, body: unknown): Promise<void>
  /**
   * Serves a raw stream protocol `/coop/<protocol>` (for protocols with their own framing and
   * long-lived streams, e.g. the graph's `/coop/graph/1.0.0`): no envelopes, no signatures — the
   * connection is noise-authenticated. The handler stays registered across stop()/start(); streams
   * open at stop() are closed by it. Throws if the protocol is already handled.
   */
  handleStream(protocol: string, handler: RawStreamHandler, options?: RawStreamHandlerOptions): Promise<void>
  /** Stops serving a protocol registered with handleStream (open streams are left to their handler). */
  unhandleStream(protocol: string): Promise<void>
  /**
   * Opens a raw stream of `/coop/<protocol>` to the peer (a multiaddr with `/p2p/<peerId>`), reusing a
   * connection if there is one. DIAL_FAILED when the host is stopped, the peer is unreachable or does
   * not speak the protocol, or `signal`/the request timeout fires first.
   */
  dialStream(peerMultiaddr: string, protocol: string, options?: { signal?: AbortSignal }): Promise<Stream>
  stats(): P2pStats
}

type CoopServices = {
  identify: Identify
  pubsub: GossipSub
  requests: RequestResponseService
  gossip: GossipService
  bootstrap: BootstrapService
}

export async function createCoopHost(options: CoopHostOptions): Promise<CoopHost> {
  if (!isPrivateKey(options.privateKey)) throw new TypeError('privateKey must be a 0x-prefixed 32-byte hex string')
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
  const maxClockSkewMs = options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
  if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes < 256) throw new TypeError('maxMessageBytes must be an integer ≥ 256')
  if (!(maxClockSkewMs >= 0)) throw new TypeError('maxClockSkewMs must be ≥ 0')
  if (!(timeoutMs > 0)) throw new TypeError('requestTimeoutMs must be > 0')

  const account = privateKeyToAccount(options.privateKey)
  const logger = options.logger ?? silentLogger
  const counters = new Counters()
  const shared = { account, maxMessageBytes, maxClockSkewMs, counters, logger }

  const libp2p: Libp2p<CoopServices> = await createLibp2p<CoopServices>({
    start: false,
    privateKey: await loadOrCreatePeerKey(options.dataDir),
    addresses: { listen: [...(options.listen ?? DEFAULT_LISTEN)] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true, // a lone node's publish is not an error
        emitSelf: false,
        maxInboundDataLength: maxMessageBytes + GOSSIP_RPC_OVERHEAD_BYTES,
      }),
      requests: requestResponse({ ...shared, timeoutMs }),
      gossip: coopGossip(shared),
      bootstrap: bootstrapDialer({ list: options.bootstrap ?? [], logger }),
    },
  })

  const host: CoopHost = {
    address: account.address,
    peerId: libp2p.peerId.toString(),
    multiaddrs: () => libp2p.getMultiaddrs().map((address) => address.toString()),
    async start() {
      if (libp2p.status === 'started' || libp2p.status === 'starting') return
      await libp2p.start()
      logger.info({ peerId: host.peerId, address: account.address, multiaddrs: host.multiaddrs() }, 'p2p host started')
    },
    async stop() {
      if (libp2p.status === 'stopped' || libp2p.status === 'stopping') return
      await libp2p.stop()
      logger.info({ peerId: host.peerId }, 'p2p host stopped')
    },
    async dial(target) {
      let address: Multiaddr
      try {
        address = multiaddr(target)
      } catch (cause) {
        throw new P2pError('DIAL_FAILED', 'invalid multiaddr', { details: { target: String(target) }, cause })
      }
      try {
        await libp2p.dial(address, { signal: AbortSignal.timeout(timeoutMs) })
      } catch (cause) {
        throw new P2pError('DIAL_FAILED', 'could not connect to the peer', { details: { target }, cause })
      }
    },
    handle: (protocol, handler) => libp2p.services.requests.handle(protocol, handler),
    request: (target, protocol, body, requestOptions) => libp2p.services.requests.request(target, protocol, body, requestOptions),
    subscribe: (topic, handler) => libp2p.services.gossip.subscribe(topic, handler),
    publish: (topic, body) => libp2p.services.gossip.publish(topic, body),
    async handleStream(protocol, handler, streamOptions = {}) {
      const id = toProtocolId(protocol)
      await libp2p.handle(id, handler, {
        ...(streamOptions.maxInboundStreams === undefined ? {} : { maxInboundStreams: streamOptions.maxInboundStreams }),
        ...(streamOptions.maxOutboundStreams === undefined ? {} : { maxOutboundStreams: streamOptions.maxOutboundStreams }),
      })
    },
    async unhandleStream(protocol) {
      await libp2p.unhandle(toProtocolId(protocol))
    },
    async dialStream(target, protocol, dialOptions = {}) {
      const id = toProtocolId(protocol)
      if (libp2p.status !== 'started') throw new P2pError('DIAL_FAILED', 'the host is not started', { details: { target: String(target), protocol: id } })
      let address: Multiaddr
      try {
        address = multiaddr(target)
      } catch (cause) {
        throw new P2pError('DIAL_FAILED', 'invalid multiaddr', { details: { target: String(target) }, cause })
      }
      const timeout = AbortSignal.timeout(timeoutMs)
      const signal = dialOptions.signal === undefined ? timeout : AbortSignal.any([dialOptions.signal, timeout])
      try {
        return await libp2p.dialProtocol(address, id, { signal })
      } catch (cause) {
        throw new P2pError('DIAL_FAILED', 'could not open the stream', { details: { target, protocol: id }, cause })
      }
    },
    stats: () => counters.snapshot(),
  }
  if (options.start !== false) await host.start()
  return host
}
