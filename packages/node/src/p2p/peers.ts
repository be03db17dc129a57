// Who is where: EVM address → registered p2p multiaddr (TaskManager.p2pAddressOf), dialled once
// when first seen. Discovery = the configured bootstrap addresses plus every node seen on-chain.
import type { CoopHost } from '@coop/p2p'
import type { Address } from 'viem'

import type { NodeChain } from '../chain/client.ts'
import { errorMessage } from '../errors.ts'
import type { Logger } from '../logger.ts'

const ADDRESS_TTL_MS = 30_000

export class PeerDirectory {
  private readonly addresses = new Map<string, { multiaddr: string; at: number }>()
  private readonly dialled = new Set<string>()

  constructor(
    private readonly chain: NodeChain,
    private readonly host: CoopHost,
    private readonly logger: Logger,
  ) {}

  /** The registered multiaddr of `node` (cached ~30 s; '' if unregistered). */
  async multiaddrOf(node: Address, options: { fresh?: boolean } = {}): Promise<string> {
    const key = node.toLowerCase()
    const cached = this.addresses.get(key)
    if (cached && !options.fresh && Date.now() - cached.at < ADDRESS_TTL_MS) return cached.multiaddr
    const multiaddr = await this.chain.coop.getP2pAddress({ node })
    this.addresses.set(key, { multiaddr, at: Date.now() })
    return multiaddr
  }

  /** Records a registration seen in an event (no RPC). */
  learn(node: Address, multiaddr: string): void {
    this.addresses.set(node.toLowerCase(), { multiaddr, at: Date.now() })
    void this.dial(multiaddr)
  }

  /** Looks `node` up and dials it once (not ourselves). */
  async discover(node: Address): Promise<void> {
    if (node.toLowerCase() === this.host.address.toLowerCase()) return
    try {
      const multiaddr = await this.multiaddrOf(node)
      if (multiaddr) await this.dial(multiaddr)
    } catch (error) {
      this.logger.debug({ node, err: errorMessage(error) }, 'peer lookup failed')
    }
  }

  async dial(multiaddr: string): Promise<void> {
    if (!multiaddr || this.dialled.has(multiaddr) || this.host.multiaddrs().includes(multiaddr)) return
    if (multiaddr.endsWith(`/p2p/${this.host.peerId}`)) return
    this.dialled.add(multiaddr)
    try {
      await this.host.dial(multiaddr)
      this.logger.debug({ multiaddr }, 'dialled peer')
    } catch (error) {
      // Try again next time it is seen.
      this.dialled.delete(multiaddr)
      this.logger.debug({ multiaddr, err: errorMessage(error) }, 'dial failed')
    }
  }

  /** Every multiaddr known (bootstrap + registry), for block lookups. */
  known(): string[] {
    return [...new Set([...[...this.addresses.values()].map((entry) => entry.multiaddr).filter(Boolean), ...this.dialled])]
  }
}
