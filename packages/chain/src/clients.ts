// Client factories. Transports do not retry on their own (retryCount 0): retries happen in one
// place, utils/retry.ts, so a failing endpoint costs a bounded, predictable number of attempts.
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  http,
  publicActions,
  type Account,
  type Chain,
  type Client,
  type Hex,
  type HttpTransport,
  type PublicActions,
  type PublicClient,
  type TestClient,
  type WalletActions,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { foundry } from 'viem/chains'

/** Chain id anvil uses by default. */
export const devnetChain: Chain = foundry

/** A wallet client with public actions: what write actions, deploy and the demo use. */
export type CoopClient = Client<HttpTransport, Chain, Account> & PublicActions<HttpTransport, Chain, Account> &
  WalletActions<Chain, Account>

export type ClientOptions = {
  rpcUrl: string
  chain?: Chain
  /** Polling interval for receipts (ms). Default 50 (a local node answers at once). */
  pollingInterval?: number
  /** Per-request timeout (ms). Default 10 000. */
  timeout?: number
}

function transport(options: ClientOptions): HttpTransport {
  return http(options.rpcUrl, { retryCount: 0, timeout: options.timeout ?? 10_000 })
}

export function createCoopClient(options: ClientOptions & { account: Account | Hex }): CoopClient {
  const account = typeof options.account === 'string' ? privateKeyToAccount(options.account) : options.account
  return createWalletClient({
    account,
    chain: options.chain ?? devnetChain,
    transport: transport(options),
    pollingInterval: options.pollingInterval ?? 50,
    cacheTime: 0,
  }).extend(publicActions) as CoopClient
}

export function createCoopPublicClient(options: ClientOptions): PublicClient<HttpTransport, Chain> {
  return createPublicClient({
    chain: options.chain ?? devnetChain,
    transport: transport(options),
    pollingInterval: options.pollingInterval ?? 50,
    cacheTime: 0,
  })
}

export type CoopTestClient = TestClient<'anvil', HttpTransport, Chain> & PublicActions<HttpTransport, Chain>

/** Anvil test client (time travel, mining) with public actions. */
export function createCoopTestClient(options: ClientOptions): CoopTestClient {
  return createTestClient({
    mode: 'anvil',
    chain: options.chain ?? devnetChain,
    transport: transport(options),
    pollingInterval: options.pollingInterval ?? 50,
    cacheTime: 0,
  }).extend(publicActions) as unknown as CoopTestClient
}
