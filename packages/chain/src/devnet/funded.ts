// A local chain ready for a task network: anvil, Coop deployed, the creator holding reward tokens
// already approved for the TaskManager (bounties), and `nodes` accounts holding COOP to stake.
// Shared by the tests of several packages and the benchmarks.
import { maxUint256, parseUnits } from 'viem'

import { approveErc20 } from '../actions/approveErc20.ts'
import { mintTestErc20 } from '../actions/mintTestErc20.ts'
import { transferErc20 } from '../actions/transferErc20.ts'
import { createCoopClient, type CoopClient } from '../clients.ts'
import { coopActions, type CoopActions } from '../decorators.ts'
import { deployCoop } from '../deploy.ts'
import type { CoopAddresses } from '../types.ts'
import { startAnvil, type Anvil, type DevAccount, type StartAnvilOptions } from './anvil.ts'

export type StartFundedDevnetOptions = {
  /** Node accounts to fund (the creator is one more). */
  nodes: number
  /** Reward tokens minted to the creator. Default 1 000 000. */
  creatorRewards?: bigint
  /** COOP given to each node account. Default 10 000. */
  coopPerNode?: bigint
  /** anvil options; `accounts` may ask for more (unfunded) accounts than nodes + 1. */
  anvil?: StartAnvilOptions
}

export type FundedDevnet = {
  anvil: Anvil
  addresses: CoopAddresses
  creator: CoopClient
  coop: CoopActions
  /** The funded node accounts, in order. */
  nodes: DevAccount[]
}

export async function startFundedDevnet(options: StartFundedDevnetOptions): Promise<FundedDevnet> {
  const anvil = await startAnvil({ ...options.anvil, accounts: Math.max(options.nodes + 1, options.anvil?.accounts ?? 0) })
  try {
    const [creatorKey, ...nodeKeys] = anvil.accounts
    const creator = createCoopClient({ rpcUrl: anvil.rpcUrl, account: creatorKey!.privateKey })
    const { addresses } = await deployCoop(creator)
    const creatorRewards = options.creatorRewards ?? parseUnits('1000000', 18)
    await mintTestErc20(creator, { address: addresses.rewardToken, to: creator.account.address, amount: creatorRewards })
    await approveErc20(creator, { address: addresses.rewardToken, spender: addresses.taskManager, amount: maxUint256 })
    const nodes = nodeKeys.slice(0, options.nodes)
    const coopPerNode = options.coopPerNode ?? parseUnits('10000', 18)
    for (const node of nodes) await transferErc20(creator, { address: addresses.coopToken, to: node.address, amount: coopPerNode })
    return { anvil, addresses, creator, coop: creator.extend(coopActions(addresses)), nodes }
  } catch (error) {
    await anvil.stop()
    throw error
  }
}
