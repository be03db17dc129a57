// The peer logic of GUN's wire protocol over any transport that carries text frames.
//
//   put (no @)  → validated, admitted (signatures, trust: the `admit` option), merged by the store
//                 (HAM), then acked {"@": id, "ok": 1} — only after the store's durable write — or
//                 {"@": id, "err": "CODE: …"} with nothing stored; when `admit` refuses some keys,
//                 the rest is stored and the ack is {"@": id, "err": …, "refused": [{"#", ".", code}]}.
//   get         → answered from the store ({"@": id, "put": {soul: node}}, or {"@": id} when unknown),
//                 the asking peer subscribed to the soul (it receives later changes), and the get
//                 forwarded to our outbound peers (relay) with its answers routed back.
//   put with @  → an answer: merged, and routed to whoever asked (if we relayed the get).
//   ack         → settles our own requests and moves the resync watermark of replicating links.
//   dam "?"     → hello: learns the peer id; a Coop hello ("coop": 1) makes the link replicate.
//
// Every change the store reports (puts from any peer, local writes, matured deferrals) is forwarded
// to the peers that want it — except the peer it came from — as put messages: replicating links
// (Coop peers, and our outbound peers, like a GUN client pushing its writes) get everything,
// other peers only the souls they asked for. Message ids are deduplicated (relays in loops).
//
// Resync after a partition: per replicating link we keep the highest state the other side
// acknowledged (below any put still unacknowledged) and, while it is away, the keys that changed.
// On reconnect it gets graphSince(watermark) plus those keys — only what changed — and our gets
// are re-issued.
import { EventEmitter } from 'node:events'

import { GraphError, isGraphError } from '../errors.ts'
import type { Graph, GraphNode, PutResult, Soul, Value } from '../types.ts'
import { MAX_LISTED_REFUSALS, refusalError, type Admission, type AdmitWrites } from './admission.ts'
import { DEFAULT_WIRE_LIMITS, decodeFrame, newMessageId, type WireLimits } from './codec.ts'
import { MessageDedup, type DedupOptions } from './dedup.ts'
import { keyMatches, toWireJson, type KeyLex, type WireAck, type WireDam, type WireGet, type WireJson, type WireMessage, type WirePut, type WireRefusal } from './messages.ts'

/** What the mesh needs from a graph store (GraphStore implements it). */
export interface MeshStore {
  put(delta: Graph): Promise<PutResult>
  get(soul: Soul, key?: string): GraphNode | undefined
  graphSince(state: number): Graph
  souls?(): Iterable<Soul>
  on(event: 'change', listener: (applied: Graph) => void): () => void
}

/** One connection's byte pipe. Frames are JSON text (GUN's wire format). */
export interface WireTransport {
  /** e.g. 'websocket', 'libp2p' (stats and logs). */
  readonly kind: string
  send(frame: string): void
  close(code: number, reason: string): void
  /** Stop/resume delivering frames (backpressure while the store catches up). */
  pause?(): void
  resume?(): void
}

export interface GraphMeshOptions {
  store: MeshStore
  /** Our mesh peer id (GUN's `pid`), random by default. */
  pid?: string
  /**
   * Replicate the whole graph with Coop peers and outbound peers (announce `"coop": 1`, resync on
   * reconnect). Default true. A light client (the CLI) sets false: it only asks and writes.
   */
  replicate?: boolean
  limits?: Partial<WireLimits>
  dedup?: DedupOptions
  /** Target size of an outgoing batch frame, bytes (default 256 KiB). */
  packBytes?: number
  /** Most keys per outgoing put message (default 10,000). */
  maxKeysPerMessage?: number
  /** Rejected messages tolerated per connection before it is closed (default 20; one is forgiven per `strikeDecayMs`). */
  maxStrikes?: number
  strikeDecayMs?: number
  /** Most souls a peer may subscribe to (default 100,000; further gets are answered but not subscribed). */
  maxSubscriptionsPerPeer?: number
  /** Most changed keys remembered for an absent replicating peer before falling back to a full resync (default 1,000,000). */
  maxDirtyKeys?: number
  /** Puts being stored per connection before its transport is paused (default 256). */
  maxInflightPuts?: number
  /**
   * Checks every incoming write (puts and answers) before it reaches the store: the allowed part is
   * stored and acked, the refused keys are named in an `err` ack (`refused` list) and never stored or
   * relayed. startGraphRelay sets admitSignedUserWrites() (or the trust policy's) by default.
   */
  admit?: AdmitWrites
}

export type PeerDirection = 'inbound' | 'outbound'

export type PeerStats = {
  framesIn: number
  framesOut: number
  bytesIn: number
  bytesOut: number
  messagesIn: number
  messagesOut: number
  /** Keys received in / sent out in put messages (writes, answers and resyncs). */
  keysIn: number
  keysOut: number
  rejected: number
}

export type MeshEvents = {
  /** A message or frame from `peer` was refused. */
  rejected: [peer: MeshPeer, error: GraphError]
  /** A peer said hello (pid known). */
  hello: [peer: MeshPeer]
  /** A replicating link came up and its resync was queued (`keys` sent). */
  resync: [peer: MeshPeer, keys: number]
  /** A put from `peer` was stored and acked. */
  stored: [peer: MeshPeer, id: string]
  close: [peer: MeshPeer]
}

/** Where the keys of an incoming put came from: their change is not sent back there (nor to `also`). */
type Origin = { peer: MeshPeer; also?: MeshPeer; id: string; state: number }

type PendingRequest = { resolve: (reply: WirePut | WireAck) => void; reject: (error: unknown) => void; timer: NodeJS.Timeout }

const MAX_INFLIGHT_TRACKED = 4096
const HELLO_WAIT_MS = 2_000
const MAX_ORIGINS = 1_000_000

/**
 * Per replicating link, kept across reconnects. Every key we hold is, for the other side, either
 * already there (it acknowledged it, or sent it to us), or in a put sent and not yet acknowledged
 * (`inflight`), or changed while the link was down (`dirty`). So the resync is graphSince(the lowest
 * unacknowledged state) plus the dirty keys — nothing else.
 */
class ReplicationLink {
  readonly key: string
  peer: MeshPeer | undefined
  /** Put ids sent (or queued) on this link and not acknowledged yet → their lowest state. */
  readonly inflight = new Map<string, { min: number; max: number }>()
  /** Lowest state of unacknowledged puts forgotten to bound `inflight` (a peer that never acks, e.g. GUN without storage). */
  forgottenMin = Infinity
  /** Keys changed while the link was down; undefined = everything (a new link, or after an overflow). */
  dirty: Map<Soul, Set<string>> | undefined = undefined
  dirtyCount = 0

  constructor(key: string) {
    this.key = key
  }

  /** Keys above this state may be missing at the other side (Infinity: only the dirty keys). */
  watermark(): number {
    let low = this.forgottenMin
    for (const { min } of this.inflight.values()) if (min < low) low = min
    return low === Infinity ? Infinity : nextDown(low)
  }

  track(id: string, min: number, max: number): void {
    this.inflight.set(id, { min, max })
    if (this.inflight.size <= MAX_INFLIGHT_TRACKED) return
    for (const [oldest, sent] of this.inflight) {
      this.inflight.delete(oldest)
      if (sent.min < this.forgottenMin) this.forgottenMin = sent.min
      break
    }
  }
}

export class MeshPeer {
  readonly id: string
  readonly transport: WireTransport
  readonly direction: PeerDirection
  /** Where we dialled (outbound): URL or multiaddr. */
  readonly remote: string | undefined
  pid: string | undefined
  /** The peer announced itself as a Coop replica. */
  coop = false
  closed = false
  link: ReplicationLink | undefined
  readonly souls = new Set<Soul>()
  readonly soulPrefixes = new Set<string>()
  readonly stats: PeerStats = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0, keysIn: 0, keysOut: 0, rejected: 0 }

  /** Outgoing messages (JSON text) waiting for the next flush. */
  queue: string[] = []
  /** The put being coalesced for the next flush: changes of one turn go out as one message. */
  pendingPut: { id: string; graph: Graph; keys: number; min: number; max: number } | undefined
  flushScheduled = false
  strikes = 0
  strikesAt = 0
  helloTimer: NodeJS.Timeout | undefined
  inflightPuts = 0
  paused = false

  constructor(id: string, transport: WireTransport, direction: PeerDirection, remote: string | undefined) {
    this.id = id
    this.transport = transport
    this.direction = direction
    this.remote = remote
  }

  /** Does this peer want changes of `soul`? */
  wants(soul: Soul): boolean {
    if (this.link !== undefined || this.direction === 'outbound') return true
    if (this.souls.has(soul)) return true
    for (const prefix of this.soulPrefixes) if (soul.startsWith(prefix)) return true
    return false
  }
}

export class GraphMesh extends EventEmitter<MeshEvents> {
  readonly pid: string
  readonly store: MeshStore
  readonly replicate: boolean
  readonly limits: Readonly<WireLimits>
  private readonly packBytes: number
  private readonly maxKeysPerMessage: number
  private readonly maxStrikes: number
  private readonly strikeDecayMs: number
  private readonly maxSubscriptionsPerPeer: number
  private readonly maxDirtyKeys: number
  private readonly maxInflightPuts: number
  private readonly admit: AdmitWrites | undefined
  private readonly dedup: MessageDedup
  /** Gets we relayed: their id → the peer that asked. */
  private readonly getRoutes: MessageDedup<MeshPeer>
  private readonly peers = new Set<MeshPeer>()
  private readonly links = new Map<string, ReplicationLink>()
  private readonly origins = new Map<string, Origin>()
  private readonly requests = new Map<string, PendingRequest>()
  /** Souls this process asked for (re-issued to outbound peers on every connect). */
  private readonly interests = new Map<Soul, string | KeyLex | undefined>()
  private readonly unsubscribe: () => void
  private peerCounter = 0
  private closing = false

  constructor(options: GraphMeshOptions) {
    super()
    this.store = options.store
    this.pid = options.pid ?? newMessageId()
    this.replicate = options.replicate ?? true
    this.limits = Object.freeze({ ...DEFAULT_WIRE_LIMITS, ...options.limits })
    this.packBytes = options.packBytes ?? 256 * 1024
    this.maxKeysPerMessage = Math.min(options.maxKeysPerMessage ?? 10_000, this.limits.maxKeysPerMessage)
    this.maxStrikes = options.maxStrikes ?? 20
    this.strikeDecayMs = options.strikeDecayMs ?? 5_000
    this.maxSubscriptionsPerPeer = options.maxSubscriptionsPerPeer ?? 100_000
    this.maxDirtyKeys = options.maxDirtyKeys ?? 1_000_000
    this.maxInflightPuts = options.maxInflightPuts ?? 256
    this.admit = options.admit
    this.dedup = new MessageDedup(options.dedup)
    this.getRoutes = new MessageDedup<MeshPeer>({ maxEntries: 10_000, ttlMs: 30_000 })
    this.unsubscribe = this.store.on('change', (applied) => this.onChange(applied))
  }

  /** True after close(): no more connections are attached. */
  get closed(): boolean {
    return this.closing
  }

  /** Connected peers. */
  connectedPeers(): MeshPeer[] {
    return [...this.peers]
  }

  /** Totals over the connected peers plus those already gone. */
  readonly totals: PeerStats = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0, keysIn: 0, keysOut: 0, rejected: 0 }

  /**
   * Starts speaking the protocol over `transport`. The transport calls `receive` with every frame
   * and `detach` when it closes. Outbound peers are `remote` (URL/multiaddr): a replicating link.
   */
  attach(transport: WireTransport, options: { direction: PeerDirection; remote?: string }): MeshPeer {
    if (this.closing) throw new GraphError('CLOSED', 'The mesh is closed')
    const peer = new MeshPeer(`${this.pid}:${++this.peerCounter}`, transport, options.direction, options.remote)
    this.peers.add(peer)
    const hello: WireDam = { kind: 'dam', id: newMessageId(), dam: '?', pid: this.pid }
    if (this.replicate) hello.coop = 1
    this.send(peer, hello)
    if (options.direction === 'outbound') {
      // Replication starts at the peer's hello (its pid names the link: a restarted peer that lost
      // its memory is a new link and gets everything); a peer that never says hello gets it anyway.
      if (this.replicate && options.remote !== undefined) {
        peer.helloTimer = setTimeout(() => {
          if (!peer.closed && peer.link === undefined) this.startReplication(peer, `url:${options.remote}`)
        }, HELLO_WAIT_MS)
        peer.helloTimer.unref()
      }
      for (const [soul, key] of this.interests) this.send(peer, getMessage(newMessageId(), soul, key))
    }
    return peer
  }

  /** The transport closed. Its link (if replicating) starts recording what changes meanwhile. */
  detach(peer: MeshPeer): void {
    if (peer.closed) return
    peer.closed = true
    if (peer.helloTimer !== undefined) clearTimeout(peer.helloTimer)
    this.peers.delete(peer)
    // What was still waiting to go out counts as sent-unacknowledged: the next resync covers it.
    const pending = peer.pendingPut
    if (pending !== undefined && peer.link !== undefined) peer.link.track(pending.id, pending.min, pending.max)
    peer.queue = []
    peer.pendingPut = undefined
    if (peer.link !== undefined && peer.link.peer === peer) peer.link.peer = undefined
    this.emit('close', peer)
  }

  /** Closes every connection (the transports' owners stop reconnecting) and stops listening to the store. */
  close(): void {
    if (this.closing) return
    this.closing = true
    this.unsubscribe()
    for (const peer of [...this.peers]) {
      this.flush(peer)
      peer.transport.close(1001, 'mesh closing')
      this.detach(peer)
    }
    for (const [id, request] of this.requests) {
      clearTimeout(request.timer)
      request.reject(new GraphError('CLOSED', 'The mesh closed before the answer came', { details: { id } }))
    }
    this.requests.clear()
  }

  // ---------------------------------------------------------------------------------------------
  // Local API

  /** Writes locally (HAM, durable with a path); the change is then forwarded to the peers. */
  put(delta: Graph): Promise<PutResult> {
    return this.store.put(delta)
  }

  /** Remembers interest in `soul` (re-asked on every outbound connect) and asks the outbound peers now. */
  subscribe(soul: Soul, key?: string | KeyLex): void {
    this.interests.set(soul, key)
    const message = getMessage(newMessageId(), soul, key)
    this.dedup.add(message.id)
    for (const peer of this.peers) if (peer.direction === 'outbound') this.send(peer, message)
  }

  /**
   * Sends one request (a put or a get) to `peer` and resolves with its first answer: the ack of a
   * put, or the put answering a get (an ack without put means "not found"). Answers to gets are also
   * merged into the store. Rejects with GraphError TIMEOUT.
   */
  request(peer: MeshPeer, message: WirePut | WireGet, timeoutMs = 10_000): Promise<WirePut | WireAck> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.requests.delete(message.id)
        reject(new GraphError('TIMEOUT', 'No answer from the peer in time', { details: { id: message.id, kind: message.kind, timeoutMs } }))
      }, timeoutMs)
      this.requests.set(message.id, { resolve, reject, timer })
      this.dedup.add(message.id)
      this.send(peer, message)
      this.flush(peer)
    })
  }

  // ---------------------------------------------------------------------------------------------
  // Inbound

  /** One frame from `peer`'s transport. */
  receive(peer: MeshPeer, raw: string | Uint8Array): void {
    if (peer.closed) return
    peer.stats.framesIn += 1
    this.totals.framesIn += 1
    const bytes = typeof raw === 'string' ? raw.length : raw.byteLength
    peer.stats.bytesIn += bytes
    this.totals.bytesIn += bytes
    let decoded
    try {
      decoded = decodeFrame(raw, this.limits)
    } catch (error) {
      if (!isGraphError(error)) throw error
      this.reject(peer, error, undefined)
      return
    }
    for (const rejected of decoded.rejected) this.reject(peer, rejected.error, rejected.kind === 'put' || rejected.kind === 'get' ? rejected.id : undefined)
    for (const message of decoded.messages) {
      peer.stats.messagesIn += 1
      this.totals.messagesIn += 1
      this.handle(peer, message)
    }
  }

  /** A frame the transport refused itself (libp2p: one skipped unread for its size, or a broken length prefix). */
  rejectFrame(peer: MeshPeer, error: GraphError): void {
    this.reject(peer, error, undefined)
  }

  private handle(peer: MeshPeer, message: WireMessage): void {
    switch (message.kind) {
      case 'put':
        if (message.ack !== undefined) this.handleAnswer(peer, message)
        else this.handlePut(peer, message)
        return
      case 'get':
        this.handleGet(peer, message)
        return
      case 'ack':
        this.handleAck(peer, message)
        return
      case 'dam':
        this.handleDam(peer, message)
        return
    }
  }

  private handlePut(peer: MeshPeer, message: WirePut): void {
    if (this.dedup.seen(message.id)) return
    // A peer that writes a soul follows it (a gun client never asks again for a soul it wrote, yet
    // expects its relay to pass on later changes: GUN's relays broadcast every put).
    if (peer.link === undefined) for (const soul in message.put) if (peer.souls.size < this.maxSubscriptionsPerPeer) peer.souls.add(soul)
    const keys = this.noteOrigins(peer, message.id, message.put)
    peer.stats.keysIn += keys
    this.totals.keysIn += keys
    peer.inflightPuts += 1
    if (peer.inflightPuts >= this.maxInflightPuts && !peer.paused) {
      peer.paused = true
      peer.transport.pause?.()
    }
    if (this.admit === undefined) {
      this.storePut(peer, message, message.put, undefined)
      return
    }
    let admission: Admission | Promise<Admission>
    try {
      admission = this.admit(message.put)
    } catch (error) {
      this.failPut(peer, message, error)
      return
    }
    if (admission instanceof Promise) admission.then((settled) => this.admittedPut(peer, message, settled), (error: unknown) => this.failPut(peer, message, error))
    else this.admittedPut(peer, message, admission)
  }

  private admittedPut(peer: MeshPeer, message: WirePut, admission: Admission): void {
    if (admission.refused.length === 0) {
      this.storePut(peer, message, admission.allowed, undefined)
      return
    }
    if (countGraphKeys(admission.allowed) === 0) {
      this.settlePut(peer, message)
      this.refuse(peer, message.id, admission, 0)
      return
    }
    this.storePut(peer, message, admission.allowed, admission)
  }

  /** Stores `graph` (all or the admitted part of `message`) and acks: ok, or err naming what `admission` refused. */
  private storePut(peer: MeshPeer, message: WirePut, graph: Graph, admission: Admission | undefined): void {
    this.store.put(graph).then(
      (result) => {
        this.settlePut(peer, message, result.deferred)
        if (admission === undefined) this.send(peer, { kind: 'ack', id: newMessageId(), ack: message.id, ok: 1 })
        else this.refuse(peer, message.id, admission, countGraphKeys(graph))
        this.emit('stored', peer, message.id)
      },
      (error: unknown) => this.failPut(peer, message, error),
    )
  }

  private failPut(peer: MeshPeer, message: WirePut, error: unknown): void {
    this.settlePut(peer, message)
    const graphError = isGraphError(error) ? error : new GraphError('STORAGE', 'The write failed', { cause: error })
    if (graphError.code === 'STORAGE' || graphError.code === 'CLOSED') {
      this.send(peer, { kind: 'ack', id: newMessageId(), ack: message.id, err: `${graphError.code}: ${graphError.message}` })
    } else {
      this.reject(peer, graphError, message.id)
    }
  }

  /**
   * The err ack for a put whose keys were (partly) refused by `admit`. A forged signature counts as a
   * strike against the connection; an untrusted signer does not (a gun peer relays others' data).
   */
  private refuse(peer: MeshPeer, answerId: string, admission: Admission, stored: number): void {
    const error = refusalError(admission.refused, stored)
    const refused = admission.refused.slice(0, MAX_LISTED_REFUSALS).map((write) => ({ '#': write.soul, '.': write.key, code: write.error.code }))
    this.reject(peer, error, answerId, { refused, strike: error.code !== 'UNTRUSTED' })
  }

  private settlePut(peer: MeshPeer, message: WirePut, deferred?: Graph): void {
    this.clearOrigins(peer, message.put, deferred)
    peer.inflightPuts -= 1
    if (peer.paused && peer.inflightPuts <= this.maxInflightPuts / 2) {
      peer.paused = false
      peer.transport.resume?.()
    }
  }

  private handleAnswer(peer: MeshPeer, message: WirePut): void {
    if (this.dedup.seen(message.id)) return
    const ack = message.ack as string
    const keys = countGraphKeys(message.put)
    peer.stats.keysIn += keys
    this.totals.keysIn += keys
    const request = this.requests.get(ack)
    if (request !== undefined) {
      this.requests.delete(ack)
      clearTimeout(request.timer)
      request.resolve(message)
    }
    // Routed back to whoever asked (the relay case), which then needs no copy from the change feed.
    const asker = this.getRoutes.get(ack)
    const routed = asker !== undefined && !asker.closed && asker !== peer ? asker : undefined
    if (this.admit === undefined) {
      this.storeAnswer(peer, message, routed)
      return
    }
    // Only what passes admission is routed on or stored; the sender hears of the rest ("!" dam).
    const admitted = (admission: Admission): void => {
      if (admission.refused.length > 0) this.reject(peer, refusalError(admission.refused, countGraphKeys(admission.allowed)), undefined, { strike: admission.refused.some((write) => write.error.code !== 'UNTRUSTED') })
      if (countGraphKeys(admission.allowed) > 0) this.storeAnswer(peer, admission.refused.length === 0 ? message : { ...message, put: admission.allowed }, routed)
    }
    const failed = (error: unknown): void => {
      if (isGraphError(error)) this.reject(peer, error, undefined)
    }
    let admission: Admission | Promise<Admission>
    try {
      admission = this.admit(message.put)
    } catch (error) {
      failed(error)
      return
    }
    if (admission instanceof Promise) admission.then(admitted, failed)
    else admitted(admission)
  }

  private storeAnswer(peer: MeshPeer, message: WirePut, routed: MeshPeer | undefined): void {
    if (routed !== undefined) this.send(routed, message)
    this.noteOrigins(peer, message.id, message.put, routed)
    this.store.put(message.put).then(
      (result) => this.clearOrigins(undefined, message.put, result.deferred),
      (error: unknown) => {
        this.clearOrigins(undefined, message.put)
        if (isGraphError(error) && error.code !== 'STORAGE' && error.code !== 'CLOSED') this.reject(peer, error, undefined)
      },
    )
  }

  private handleGet(peer: MeshPeer, message: WireGet): void {
    if (this.dedup.seen(message.id)) return
    const { query, key } = message
    // Relay: ask our outbound peers too; their answers are routed back to `peer`.
    let forwarded = false
    for (const other of this.peers) {
      if (other === peer || other.direction !== 'outbound') continue
      if (!forwarded) this.getRoutes.add(message.id, peer)
      forwarded = true
      this.send(other, message)
    }
    if ('soul' in query) {
      if (peer.souls.size < this.maxSubscriptionsPerPeer) peer.souls.add(query.soul)
      const node = this.store.get(query.soul)
      const answer = node === undefined ? undefined : key === undefined ? node : pickKeys(node, query.soul, key)
      // "Not found" only when nobody else was asked (else their answer, or theirs "not found", comes).
      if (answer === undefined) {
        if (!forwarded) this.send(peer, { kind: 'ack', id: newMessageId(), ack: message.id })
      } else this.sendAnswer(peer, message.id, { [query.soul]: answer })
    } else {
      if (peer.soulPrefixes.size < 64) peer.soulPrefixes.add(query.soulPrefix)
      // Answered in messages of at most maxKeysPerMessage keys (a node is never split).
      let graph: Graph = {}
      let keys = 0
      let answered = false
      for (const soul of this.storeSouls()) {
        if (!soul.startsWith(query.soulPrefix)) continue
        const node = this.store.get(soul)
        const answer = node === undefined ? undefined : key === undefined ? node : pickKeys(node, soul, key)
        if (answer === undefined) continue
        graph[soul] = answer
        keys += countNodeKeys(answer)
        if (keys >= this.maxKeysPerMessage) {
          this.sendAnswer(peer, message.id, graph)
          answered = true
          graph = {}
          keys = 0
        }
      }
      if (keys > 0) this.sendAnswer(peer, message.id, graph)
      else if (!answered && !forwarded) this.send(peer, { kind: 'ack', id: newMessageId(), ack: message.id })
    }
  }

  private handleAck(peer: MeshPeer, message: WireAck): void {
    const request = this.requests.get(message.ack)
    if (request !== undefined) {
      this.requests.delete(message.ack)
      clearTimeout(request.timer)
      request.resolve(message)
    }
    // The answer ("not found") to a get we relayed goes back to whoever asked.
    const asker = this.getRoutes.get(message.ack)
    if (asker !== undefined && !asker.closed && asker !== peer && !this.dedup.seen(message.id)) this.send(asker, message)
    // Acknowledged: the other side has it (a refusal counts too: resending would be refused again).
    peer.link?.inflight.delete(message.ack)
  }

  private handleDam(peer: MeshPeer, message: WireDam): void {
    if (message.dam === '?') {
      if (message.pid !== undefined && peer.pid === undefined) {
        peer.pid = message.pid
        if (message.coop === 1) peer.coop = true
        this.emit('hello', peer)
        if (this.replicate && peer.link === undefined) {
          if (peer.direction === 'outbound' && peer.remote !== undefined) this.startReplication(peer, `url:${peer.remote}#${message.pid}`)
          else if (peer.coop) this.startReplication(peer, `pid:${message.pid}`)
        }
      }
      if (message.ack === undefined) {
        const reply: WireDam = { kind: 'dam', id: newMessageId(), dam: '?', pid: this.pid, ack: message.id }
        if (this.replicate) reply.coop = 1
        this.send(peer, reply)
      }
    }
    // "!" (the peer reports an error of ours) and other dam types (AXE's) need no answer.
  }

  // ---------------------------------------------------------------------------------------------
  // Bad input

  private reject(peer: MeshPeer, error: GraphError, answerId: string | undefined, options: { refused?: WireRefusal[]; strike?: boolean } = {}): void {
    peer.stats.rejected += 1
    this.totals.rejected += 1
    this.emit('rejected', peer, error)
    const text = `${error.code}: ${error.message}`
    if (answerId !== undefined) {
      const ack: WireAck = { kind: 'ack', id: newMessageId(), ack: answerId, err: text }
      if (options.refused !== undefined) ack.refused = options.refused
      this.send(peer, ack)
    } else this.send(peer, { kind: 'dam', id: newMessageId(), dam: '!', err: text })
    if (options.strike === false) return
    const now = Date.now()
    peer.strikes = Math.max(0, peer.strikes - (now - peer.strikesAt) / this.strikeDecayMs) + 1
    peer.strikesAt = now
    if (peer.strikes > this.maxStrikes) {
      this.flush(peer)
      peer.transport.close(1008, 'too many invalid messages')
      this.detach(peer)
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Forwarding changes

  /** Remembers which peer (and message) the keys of an incoming put came from, so their change is not echoed back. */
  private noteOrigins(peer: MeshPeer, id: string, graph: Graph, also?: MeshPeer): number {
    let keys = 0
    for (const soul in graph) {
      const node = graph[soul] as GraphNode
      const states = node._['>']
      for (const key in states) {
        const origin: Origin = { peer, id, state: states[key] as number }
        if (also !== undefined) origin.also = also
        this.origins.set(soul + '\u0000' + key, origin)
        keys += 1
      }
    }
    return keys
  }

  /**
   * Forgets the origins of a settled put's keys that did not change (applied ones were consumed by
   * onChange). Deferred keys keep theirs until they mature, so their change is not echoed either.
   */
  private clearOrigins(peer: MeshPeer | undefined, graph: Graph, deferred?: Graph): void {
    if (this.origins.size === 0) return
    if (this.origins.size > MAX_ORIGINS) {
      this.origins.clear() // deferrals that never matured: forget them (worst case, an echo)
      return
    }
    for (const soul in graph) {
      const states = (graph[soul] as GraphNode)._['>']
      const kept = deferred?.[soul]?._['>']
      for (const key in states) {
        if (kept !== undefined && kept[key] === states[key]) continue
        const name = soul + '\u0000' + key
        const origin = this.origins.get(name)
        if (origin !== undefined && (peer === undefined || origin.peer === peer) && origin.state === states[key]) this.origins.delete(name)
      }
    }
  }

  private onChange(applied: Graph): void {
    if (this.origins.size === 0) {
      this.forward(applied, undefined)
      return
    }
    // Where each changed key came from (consuming the record): usually one peer for the whole change.
    const matches: Array<Origin | undefined> = []
    let mixed = false
    for (const soul in applied) {
      const states = (applied[soul] as GraphNode)._['>']
      for (const key in states) {
        const name = soul + '\u0000' + key
        const origin = this.origins.get(name)
        const match = origin !== undefined && origin.state === states[key] ? origin : undefined
        if (match !== undefined) this.origins.delete(name)
        if (matches.length > 0 && match !== matches[0]) mixed = true
        matches.push(match)
      }
    }
    if (!mixed) {
      this.forward(applied, matches[0])
      return
    }
    for (const [origin, graph] of groupByOrigin(applied, matches)) this.forward(graph, origin)
  }

  private forward(graph: Graph, origin: Origin | undefined): void {
    for (const link of this.links.values()) if (link.peer === undefined) this.markDirty(link, graph)
    for (const peer of this.peers) {
      if (origin !== undefined && (peer === origin.peer || peer === origin.also)) continue
      if (peer.link !== undefined || peer.direction === 'outbound') {
        this.queuePut(peer, graph)
        continue
      }
      let wanted: Graph | undefined
      for (const soul in graph) {
        if (!peer.wants(soul)) continue
        ;(wanted ??= {})[soul] = graph[soul] as GraphNode
      }
      if (wanted !== undefined) this.queuePut(peer, wanted)
    }
  }

  private markDirty(link: ReplicationLink, graph: Graph): void {
    const dirty = link.dirty
    if (dirty === undefined) return
    for (const soul in graph) {
      let keys = dirty.get(soul)
      if (keys === undefined) dirty.set(soul, (keys = new Set()))
      for (const key in (graph[soul] as GraphNode)._['>']) {
        if (keys.has(key)) continue
        keys.add(key)
        link.dirtyCount += 1
      }
    }
    if (link.dirtyCount > this.maxDirtyKeys) {
      link.dirty = undefined // too much to remember: the next resync sends everything
      link.dirtyCount = 0
      link.inflight.clear()
    }
  }

  /** Adds `graph` to the put this peer will get at the next flush (one message per turn, split by size). */
  private queuePut(peer: MeshPeer, graph: Graph): void {
    for (const soul in graph) {
      const node = graph[soul] as GraphNode
      const states = node._['>']
      for (const key in states) {
        let pending = peer.pendingPut
        if (pending === undefined || pending.keys >= this.maxKeysPerMessage) {
          if (pending !== undefined) this.sealPut(peer)
          pending = peer.pendingPut = { id: newMessageId(), graph: {}, keys: 0, min: Infinity, max: -Infinity }
        }
        const state = states[key] as number
        let target = pending.graph[soul]
        if (target === undefined) target = pending.graph[soul] = { _: { '#': soul, '>': {} } }
        if (target._['>'][key] === undefined) pending.keys += 1
        target._['>'][key] = state
        target[key] = node[key] as Value
        if (state < pending.min) pending.min = state
        if (state > pending.max) pending.max = state
      }
    }
    this.scheduleFlush(peer)
  }

  /** Moves the coalesced put into the send queue (tracked on the link until acknowledged). */
  private sealPut(peer: MeshPeer): void {
    const pending = peer.pendingPut
    if (pending === undefined) return
    peer.pendingPut = undefined
    if (peer.link !== undefined) peer.link.track(pending.id, pending.min, pending.max)
    peer.stats.keysOut += pending.keys
    this.totals.keysOut += pending.keys
    this.dedup.add(pending.id)
    this.enqueue(peer, { '#': pending.id, put: pending.graph })
  }

  /** The replicating links (for tests and monitoring). */
  linkStates(): Array<{ key: string; connected: boolean; unacknowledged: number; dirtyKeys: number | 'all' }> {
    return [...this.links.values()].map((link) => ({
      key: link.key,
      connected: link.peer !== undefined,
      unacknowledged: link.inflight.size,
      dirtyKeys: link.dirty === undefined ? 'all' : link.dirtyCount,
    }))
  }

  private startReplication(peer: MeshPeer, key: string): void {
    let link = this.links.get(key)
    if (link === undefined) this.links.set(key, (link = new ReplicationLink(key)))
    const watermark = link.dirty === undefined ? -Infinity : link.watermark()
    const graph = watermark === Infinity ? {} : this.store.graphSince(watermark)
    if (link.dirty !== undefined) {
      for (const [soul, keys] of link.dirty) {
        const node = this.store.get(soul)
        if (node === undefined) continue
        const states = node._['>']
        for (const dirtyKey of keys) {
          const state = states[dirtyKey]
          if (state === undefined || state > watermark) continue
          let target = graph[soul]
          if (target === undefined) target = graph[soul] = { _: { '#': soul, '>': {} } }
          target._['>'][dirtyKey] = state
          target[dirtyKey] = node[dirtyKey] as Value
        }
      }
    }
    link.dirty = new Map()
    link.dirtyCount = 0
    link.inflight.clear()
    link.forgottenMin = Infinity
    link.peer = peer
    peer.link = link
    const keys = countGraphKeys(graph)
    if (keys > 0) this.queuePut(peer, graph)
    this.emit('resync', peer, keys)
  }

  // ---------------------------------------------------------------------------------------------
  // Outbound

  private sendAnswer(peer: MeshPeer, askId: string, graph: Graph): void {
    const keys = countGraphKeys(graph)
    peer.stats.keysOut += keys
    this.totals.keysOut += keys
    this.send(peer, { kind: 'put', id: newMessageId(), ack: askId, put: graph })
  }

  private send(peer: MeshPeer, message: WireMessage): void {
    if (peer.closed) return
    if (message.kind === 'put' && message.ack === undefined) this.dedup.add(message.id)
    this.enqueue(peer, toWireJson(message))
  }

  private enqueue(peer: MeshPeer, json: WireJson): void {
    if (peer.closed) return
    peer.queue.push(JSON.stringify(json))
    this.scheduleFlush(peer)
  }

  private scheduleFlush(peer: MeshPeer): void {
    if (peer.flushScheduled) return
    peer.flushScheduled = true
    setImmediate(() => {
      peer.flushScheduled = false
      this.flush(peer)
    })
  }

  /** Sends the queued messages, packed into batch frames of about `packBytes`. */
  flush(peer: MeshPeer): void {
    if (peer.pendingPut !== undefined) this.sealPut(peer)
    if (peer.closed || peer.queue.length === 0) return
    const queue = peer.queue
    peer.queue = []
    let batch: string[] = []
    let batchBytes = 0
    const sendBatch = (): void => {
      if (batch.length === 0) return
      const frame = batch.length === 1 ? (batch[0] as string) : `[${batch.join(',')}]`
      peer.stats.framesOut += 1
      peer.stats.messagesOut += batch.length
      peer.stats.bytesOut += frame.length
      this.totals.framesOut += 1
      this.totals.messagesOut += batch.length
      this.totals.bytesOut += frame.length
      batch = []
      batchBytes = 0
      try {
        peer.transport.send(frame)
      } catch {
        // the transport is closing; its close handler detaches the peer
      }
    }
    for (const raw of queue) {
      if (batchBytes + raw.length > this.packBytes) sendBatch()
      batch.push(raw)
      batchBytes += raw.length + 1
    }
    sendBatch()
  }

  private *storeSouls(): Iterable<Soul> {
    if (this.store.souls !== undefined) {
      yield* this.store.souls()
      return
    }
    yield* Object.keys(this.store.graphSince(-Infinity))
  }
}

function getMessage(id: string, soul: Soul, key: string | KeyLex | undefined): WireGet {
  const message: WireGet = { kind: 'get', id, query: { soul } }
  if (key !== undefined) message.key = key
  return message
}

/** The keys of `node` matching `lex`, as a fresh node; undefined when none match. */
function pickKeys(node: GraphNode, soul: Soul, lex: string | KeyLex): GraphNode | undefined {
  const states = node._['>']
  let out: GraphNode | undefined
  if (typeof lex === 'string') {
    const state = states[lex]
    if (state === undefined) return undefined
    return { _: { '#': soul, '>': { [lex]: state } }, [lex]: node[lex] as Value }
  }
  for (const key in states) {
    if (!keyMatches(key, lex)) continue
    out ??= { _: { '#': soul, '>': {} } }
    out._['>'][key] = states[key] as number
    out[key] = node[key] as Value
  }
  return out
}

/** Splits `applied` by the origin of each key (`matches`, in the graph's iteration order). */
function groupByOrigin(applied: Graph, matches: Array<Origin | undefined>): Map<Origin | undefined, Graph> {
  const groups = new Map<Origin | undefined, Graph>()
  let index = 0
  for (const soul in applied) {
    const node = applied[soul] as GraphNode
    const states = node._['>']
    for (const key in states) {
      const match = matches[index++]
      let graph = groups.get(match)
      if (graph === undefined) groups.set(match, (graph = {}))
      let target = graph[soul]
      if (target === undefined) target = graph[soul] = { _: { '#': soul, '>': {} } }
      target._['>'][key] = states[key] as number
      target[key] = node[key] as Value
    }
  }
  return groups
}

export function countGraphKeys(graph: Graph): number {
  let keys = 0
  for (const soul in graph) keys += countNodeKeys(graph[soul] as GraphNode)
  return keys
}

function countNodeKeys(node: GraphNode): number {
  let keys = 0
  for (const _key in node._['>']) keys += 1
  return keys
}

/** The largest double below `value` (so `state > nextDown(s)` includes `s`). */
export function nextDown(value: number): number {
  if (!Number.isFinite(value)) return value
  if (value === 0) return -Number.MIN_VALUE
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, value)
  const bits = view.getBigUint64(0)
  view.setBigUint64(0, value > 0 ? bits - 1n : bits + 1n)
  return view.getFloat64(0)
}
