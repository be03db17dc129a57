// Keeps connections to a fixed list of peers: dials each one after start, and again (exponential
// backoff with jitter) whenever a dial fails or the peer disconnects. The only peer discovery the
// host has: no mdns, no DHT.
import type { AbortOptions, Connection, Libp2pEvents, PeerId, Startable, TypedEventTarget } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'

import { describeError, type P2pLogger } from '../internal.ts'

export interface BootstrapComponents {
  peerId: PeerId
  events: TypedEventTarget<Libp2pEvents>
  connectionManager: {
    openConnection(peer: Multiaddr, options?: AbortOptions): Promise<Connection>
    getConnections(): Connection[]
  }
}

export interface BootstrapInit {
  list: readonly string[]
  logger: P2pLogger
  /** First retry delay; doubles per failure. Default 500 ms. */
  minBackoffMs?: number
  /** Default 30 s. */
  maxBackoffMs?: number
}

type Target = { address: Multiaddr; peerId: string | undefined; failures: number; timer?: ReturnType<typeof setTimeout>; dialing: boolean }

export class BootstrapService implements Startable {
  readonly [Symbol.toStringTag] = '@coop/p2p/bootstrap'
  private readonly components: BootstrapComponents
  private readonly logger: P2pLogger
  private readonly minBackoffMs: number
  private readonly maxBackoffMs: number
  private readonly targets: Target[] = []
  private controller: AbortController | undefined

  constructor(components: BootstrapComponents, init: BootstrapInit) {
    this.components = components
    this.logger = init.logger
    this.minBackoffMs = init.minBackoffMs ?? 500
    this.maxBackoffMs = init.maxBackoffMs ?? 30_000
    const self = components.peerId.toString()
    for (const entry of init.list) {
      let address: Multiaddr
      try {
        address = multiaddr(entry)
      } catch (error) {
        this.logger.error({ bootstrap: entry, error: describeError(error).message }, 'ignoring invalid bootstrap multiaddr')
        continue
      }
      const peerId = address.getComponents().findLast((component) => component.name === 'p2p')?.value
      if (peerId === self) continue // devnets hand every node the full list
      if (peerId === undefined) this.logger.warn({ bootstrap: entry }, 'bootstrap multiaddr has no /p2p/<peerId>: dialled once, not re-dialled on disconnect')
      this.targets.push({ address, peerId, failures: 0, dialing: false })
    }
    this.onDisconnect = this.onDisconnect.bind(this)
  }

  start(): void {
    this.controller = new AbortController()
    this.components.events.addEventListener('peer:disconnect', this.onDisconnect)
  }

  /** Dial once the transports listen. */
  afterStart(): void {
    for (const target of this.targets) this.dial(target)
  }

  beforeStop(): void {
    this.components.events.removeEventListener('peer:disconnect', this.onDisconnect)
    this.controller?.abort()
    this.controller = undefined
    for (const target of this.targets) {
      clearTimeout(target.timer)
      target.timer = undefined
      target.failures = 0
    }
  }

  stop(): void {
    this.beforeStop()
  }

  private onDisconnect(event: CustomEvent<PeerId>): void {
    const peer = event.detail.toString()
    for (const target of this.targets) {
      if (target.peerId === peer) {
        this.logger.info({ peer, address: target.address.toString() }, 'bootstrap peer disconnected; re-dialling')
        this.schedule(target)
      }
    }
  }

  private schedule(target: Target): void {
    if (this.controller === undefined || target.timer !== undefined || target.dialing) return
    const base = Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** Math.min(target.failures, 20))
    const delay = Math.round(base / 2 + Math.random() * (base / 2))
    target.timer = setTimeout(() => {
      target.timer = undefined
      this.dial(target)
    }, delay)
  }

  private dial(target: Target): void {
    const controller = this.controller
    if (controller === undefined || target.dialing) return
    target.dialing = true
    this.components.connectionManager
      .openConnection(target.address, { signal: controller.signal })
      .then(
        () => {
          target.failures = 0
          this.logger.debug({ address: target.address.toString() }, 'bootstrap peer connected')
        },
        (error: unknown) => {
          if (controller.signal.aborted) return
          target.failures += 1
          this.logger.warn(
            { address: target.address.toString(), failures: target.failures, error: describeError(error).message },
            'bootstrap dial failed; retrying with backoff',
          )
        },
      )
      .finally(() => {
        target.dialing = false
        // a failure retries; a success is re-dialled by onDisconnect (or now, if it dropped meanwhile)
        if (!controller.signal.aborted && (target.failures > 0 || !this.isConnected(target))) this.schedule(target)
      })
  }

  private isConnected(target: Target): boolean {
    if (target.peerId === undefined) return true // cannot tell; dialled once
    return this.components.connectionManager.getConnections().some((connection) => connection.remotePeer.toString() === target.peerId && connection.status === 'open')
  }
}

/** libp2p service factory: `services: { bootstrap: bootstrapDialer({ list }) }`. */
export function bootstrapDialer(init: BootstrapInit): (components: BootstrapComponents) => BootstrapService {
  return (components) => new BootstrapService(components, init)
}
