// Deploys a Coop settlement stack: CoopToken, a reward token (a TestERC20 unless one is given),
// TaskManagerExtension + TaskManager and TaskLens. Used by tests and the devnet demo; works on any EVM RPC.
import { encodeDeployData, getAddress, parseUnits, type Abi, type Address, type Hash, type Hex } from 'viem'

import {
  coopTokenAbi,
  coopTokenBytecode,
  taskLensAbi,
  taskLensBytecode,
  taskManagerAbi,
  taskManagerBytecode,
  taskManagerExtensionAbi,
  taskManagerExtensionBytecode,
  testErc20Abi,
  testErc20Bytecode,
} from './generated/contracts.ts'
import { CoopChainError } from './errors.ts'
import { resolveAccount, sendTransactionAndWait, type AnyClient, type WriteOptions } from './internal/contract.ts'
import type { CoopAddresses } from './types.ts'

export type DeployCoopParameters = WriteOptions & {
  /** CoopToken: deploy one (default: "Coop"/"COOP", 100 M to the deployer), or use an existing one. */
  coopToken?: { name?: string; symbol?: string; holder?: Address; supply?: bigint } | Address
  /** Reward token: deploy a freely mintable TestERC20 (default), or use any existing ERC-20. */
  rewardToken?: { name?: string; symbol?: string } | Address
}

export type DeployedContract = { name: string; address: Address; hash: Hash | undefined; gasUsed: bigint }

export type DeployCoopReturnType = {
  addresses: CoopAddresses
  deployer: Address
  /** One entry per contract, in deployment order (hash undefined if an existing one was used). */
  contracts: DeployedContract[]
  gasUsed: bigint
}

export const defaultCoopSupply = parseUnits('100000000', 18)

async function deploy(client: AnyClient, options: WriteOptions, name: string, abi: Abi, bytecode: Hex, args: unknown[]) {
  const account = resolveAccount(client, options.account, `deploy ${name}`)
  const { hash, receipt } = await sendTransactionAndWait(client, {
    account,
    data: encodeDeployData({ abi, bytecode, args } as never),
    retry: { ...options.retry, context: { functionName: `deploy ${name}`, sender: account.address } },
    receiptTimeout: options.receiptTimeout,
    functionName: `deploy ${name}`,
  })
  if (!receipt.contractAddress) {
    throw new CoopChainError(`deploying ${name} produced no contract address`, { code: 'UNKNOWN', details: hash })
  }
  return { name, address: getAddress(receipt.contractAddress), hash, gasUsed: receipt.gasUsed } satisfies DeployedContract
}

/** Deploys CoopToken, the reward token, TaskManager and TaskLens from the client's account. */
export async function deployCoop(client: AnyClient, parameters: DeployCoopParameters = {}): Promise<DeployCoopReturnType> {
  const { coopToken, rewardToken, ...options } = parameters
  const deployer = resolveAccount(client, options.account, 'deployCoop').address
  const contracts: DeployedContract[] = []

  if (typeof coopToken === 'string') contracts.push({ name: 'CoopToken', address: getAddress(coopToken), hash: undefined, gasUsed: 0n })
  else {
    const { name = 'Coop', symbol = 'COOP', holder = deployer, supply = defaultCoopSupply } = coopToken ?? {}
    contracts.push(await deploy(client, options, 'CoopToken', coopTokenAbi, coopTokenBytecode, [name, symbol, holder, supply]))
  }
  if (typeof rewardToken === 'string') {
    contracts.push({ name: 'RewardToken', address: getAddress(rewardToken), hash: undefined, gasUsed: 0n })
  } else {
    const { name = 'Coop Test Reward', symbol = 'cRWD' } = rewardToken ?? {}
    contracts.push(await deploy(client, options, 'TestERC20', testErc20Abi, testErc20Bytecode, [name, symbol]))
  }
  // TaskManager's second code half (served by its fallback) is deployed first; see TaskManager.sol.
  const extension = await deploy(client, options, 'TaskManagerExtension', taskManagerExtensionAbi, taskManagerExtensionBytecode, [])
  contracts.push(extension)
  const manager = await deploy(client, options, 'TaskManager', taskManagerAbi, taskManagerBytecode, [extension.address])
  contracts.push(manager)
  const lens = await deploy(client, options, 'TaskLens', taskLensAbi, taskLensBytecode, [manager.address])
  contracts.push(lens)

  const [token, reward] = contracts as [DeployedContract, DeployedContract]
  return {
    addresses: { coopToken: token.address, rewardToken: reward.address, taskManager: manager.address, taskLens: lens.address },
    deployer,
    contracts,
    gasUsed: contracts.reduce((sum, contract) => sum + contract.gasUsed, 0n),
  }
}
