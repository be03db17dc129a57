// Shared setup of the node tests: anvil + Coop deployed, funded node accounts, a task.
import { mkdtempSync, rmSync, writeFileSync, createWriteStream, type WriteStream } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import {
  approveErc20,
  coopActions,
  createCoopClient,
  startFundedDevnet,
  taskParams,
  type Anvil,
  type CoopActions,
  type CoopAddresses,
  type CoopClient,
  type TaskParams,
} from '@coop/chain'
import { maxUint256, type Address, type Hex } from 'viem'

export type TestAccount = { address: Address; privateKey: Hex }

export type TestChain = {
  anvil: Anvil
  addresses: CoopAddresses
  creator: CoopClient
  coop: CoopActions
  nodes: TestAccount[]
  dir: string
  stop(): Promise<void>
}

/** anvil (automine) + Coop; `nodeCount` accounts holding COOP (they approve and stake themselves). */
export async function startTestChain(nodeCount = 3): Promise<TestChain> {
  const { anvil, addresses, creator, coop, nodes: accounts } = await startFundedDevnet({ nodes: nodeCount })
  const dir = mkdtempSync(join(tmpdir(), 'coop-node-test-'))
  try {
    const nodes = accounts.map((key) => ({ address: key.address, privateKey: key.privateKey }))
    return {
      anvil,
      addresses,
      creator,
      coop,
      nodes,
      dir,
      async stop() {
        await anvil.stop()
        rmSync(dir, { recursive: true, force: true })
      },
    }
  } catch (error) {
    await anvil.stop()
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
}

export async function createTestTask(
  chain: TestChain,
  overrides: Partial<Omit<TaskParams, 'stakeToken' | 'rewardToken'>> & { rounds?: number } = {},
): Promise<{ taskId: bigint; startTime: bigint; params: TaskParams }> {
  const { rounds = 4, ...rest } = overrides
  const params = taskParams({ stakeToken: chain.addresses.coopToken, rewardToken: chain.addresses.rewardToken, ...rest })
  const created = await chain.coop.createTask({ params, bounty: params.bountyPerRound * BigInt(rounds) })
  return { taskId: created.taskId, startTime: created.startTime, params }
}

/** A log sink per node (JSON lines in a file), kept for post-mortems of failed runs. */
export function logFile(dir: string, name: string): WriteStream {
  return createWriteStream(join(dir, `${name}.log`))
}

export function writeJson(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(value, null, 2))
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await fn()
      if (value !== undefined && value !== false) return value as T
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

export type ApprovedNode = { name: string; address: Address; client: CoopClient; coop: CoopActions }

/** node-1…node-N: a client per funded account, COOP approved to the TaskManager without limit (they stake later). */
export async function approvedNodes(rpcUrl: string, addresses: CoopAddresses, accounts: readonly TestAccount[]): Promise<ApprovedNode[]> {
  const nodes: ApprovedNode[] = []
  for (const [index, key] of accounts.entries()) {
    const client = createCoopClient({ rpcUrl, account: key.privateKey })
    await approveErc20(client, { address: addresses.coopToken, spender: addresses.taskManager, amount: maxUint256 })
    nodes.push({ name: `node-${index + 1}`, address: key.address, client, coop: client.extend(coopActions(addresses)) })
  }
  return nodes
}

/** A task with the default parameters and a bounty of 10 rounds; `start(round)` is the round's start time. */
export async function createDefaultTask(coop: CoopActions, addresses: CoopAddresses): Promise<{ params: TaskParams; taskId: bigint; startTime: bigint; start(round: bigint): bigint }> {
  const params = taskParams({ stakeToken: addresses.coopToken, rewardToken: addresses.rewardToken })
  const { taskId, startTime } = await coop.createTask({ params, bounty: params.bountyPerRound * 10n })
  return { params, taskId, startTime, start: (round) => startTime + round * params.roundLength }
}
