// Shared setup of the chain tests: a fresh anvil with Coop deployed and funded accounts.
import { readFileSync } from 'node:fs'

import { maxUint256, type Address } from 'viem'

import {
  approveErc20,
  coopActions,
  createCoopClient,
  createCoopTestClient,
  startFundedDevnet,
  type Anvil,
  type CoopActions,
  type CoopAddresses,
  type CoopClient,
  type CoopTestClient,
} from '../src/index.ts'

export type TestNode = { name: string; address: Address; client: CoopClient; coop: CoopActions }

export type Devnet = {
  anvil: Anvil
  time: CoopTestClient
  addresses: CoopAddresses
  creator: CoopClient
  coop: CoopActions
  nodes: TestNode[]
  stop(): Promise<void>
}

/** Starts anvil, deploys Coop, gives each of `nodeCount` nodes COOP and approves the manager. */
export async function startDevnet(nodeCount = 3): Promise<Devnet> {
  const { anvil, addresses, creator, coop, nodes: accounts } = await startFundedDevnet({ nodes: nodeCount, anvil: { accounts: nodeCount + 2 } })
  try {
    const nodes: TestNode[] = []
    for (const [index, key] of accounts.entries()) {
      const client = createCoopClient({ rpcUrl: anvil.rpcUrl, account: key.privateKey })
      await approveErc20(client, { address: addresses.coopToken, spender: addresses.taskManager, amount: maxUint256 })
      nodes.push({ name: `node-${index + 1}`, address: key.address, client, coop: client.extend(coopActions(addresses)) })
    }
    return { anvil, time: createCoopTestClient({ rpcUrl: anvil.rpcUrl }), addresses, creator, coop, nodes, stop: () => anvil.stop() }
  } catch (error) {
    await anvil.stop()
    throw error
  }
}

/** Asserts `fn` rejects and returns the error. */
export async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn()
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

/** Whether `pid` is gone (a zombie waiting for a reaper counts as gone: it runs no code). */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
  try {
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

export async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (condition()) return true
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return condition()
}
