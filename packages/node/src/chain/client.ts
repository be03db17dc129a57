// The node's chain access: one wallet client (any EVM RPC URL; chain id read from the endpoint),
// Coop's actions bound to the deployment, and the node's notion of "now".
import { coopActions, createCoopClient, withRetry, type CoopActions, type CoopClient } from '@coop/chain'
import { defineChain, type Address, type Chain, type Hex } from 'viem'
import { getBlock, getChainId } from 'viem/actions'
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts'

export type ChainAddresses = { taskManager: Address; taskLens: Address }

export type NodeChain = {
  client: CoopClient
  coop: CoopActions
  addresses: ChainAddresses
  account: PrivateKeyAccount
  chainId: number
  /**
   * Chain time in seconds: the latest block's timestamp or the wall clock, whichever is later
   * (a devnet that mines only on transactions has stale blocks; a real chain lags the wall clock
   * by at most a block).
   */
  now(): Promise<bigint>
  /** The latest block number (cached for a short while). */
  blockNumber(): Promise<bigint>
}

export type CreateChainOptions = {
  rpcUrl: string
  privateKey: Hex
  addresses: ChainAddresses
  /** Called on every RPC failure that will be retried (metrics). */
  onRpcError?: (error: unknown) => void
  /** How long a read of the latest block is reused (ms, default 250). */
  blockCacheMs?: number
}

export async function createNodeChain(options: CreateChainOptions): Promise<NodeChain> {
  const account = privateKeyToAccount(options.privateKey)
  const probe = createCoopClient({ rpcUrl: options.rpcUrl, account })
  const chainId = await withRetry(() => getChainId(probe), { retries: 5, initialDelayMs: 200, onRetry: options.onRpcError })
  const chain: Chain = defineChain({
    id: chainId,
    name: `coop-${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [options.rpcUrl] } },
  })
  const client = createCoopClient({ rpcUrl: options.rpcUrl, account, chain, pollingInterval: 100 })
  const coop = client.extend(coopActions(options.addresses)) as unknown as CoopActions
  const cacheMs = options.blockCacheMs ?? 250
  let cached: { at: number; number: bigint; timestamp: bigint } | undefined
  const latest = async () => {
    if (cached && Date.now() - cached.at < cacheMs) return cached
    const block = await withRetry(() => getBlock(client, { blockTag: 'latest' }), { onRetry: options.onRpcError })
    cached = { at: Date.now(), number: block.number, timestamp: block.timestamp }
    return cached
  }
  return {
    client,
    coop,
    addresses: options.addresses,
    account,
    chainId,
    async now() {
      const wall = BigInt(Math.floor(Date.now() / 1000))
      try {
        const block = await latest()
        return block.timestamp > wall ? block.timestamp : wall
      } catch {
        return wall
      }
    },
    async blockNumber() {
      return (await latest()).number
    },
  }
}
