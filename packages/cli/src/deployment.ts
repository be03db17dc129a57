// deployment.json: what `coop devnet` writes into its data dir so the other commands (and people)
// can find the chain, the contracts, the tasks and the nodes of a running devnet.
import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs'
import { resolve } from 'node:path'

import { getAddress, isAddress, type Address, type Hex } from 'viem'

import { CliError } from './errors.ts'

export type DeploymentTask = { taskId: string; name: string; programCid: string; programDigest: Hex; bundle?: string }
export type DeploymentNode = {
  name: string
  address: Address
  behaviour: 'honest' | 'cheater'
  cheatFromRound?: number
  dataDir: string
  configFile: string
  /** Devnet keys are anvil's well-known development keys: fine to write down, never real funds. */
  privateKey?: Hex
}

export type Deployment = {
  version: 1
  network: 'devnet' | string
  rpcUrl: string
  chainId: number
  addresses: { taskManager: Address; taskLens: Address; coopToken: Address; rewardToken: Address }
  tasks: DeploymentTask[]
  nodes: DeploymentNode[]
  creator?: { address: Address; privateKey?: Hex }
  dashboardUrl?: string
  siteUrl?: string
  startedAt?: string
  pid?: number
}

export function writeDeployment(file: string, deployment: Deployment): void {
  const temporary = `${file}.tmp`
  writeFileSync(temporary, `${JSON.stringify(deployment, null, 2)}\n`)
  renameSync(temporary, file)
}

export function readDeployment(file: string): Deployment {
  const path = resolve(file)
  if (!existsSync(path)) {
    throw new CliError(`deployment file not found: ${path}`, {
      code: 'CONFIG',
      hint: '`coop devnet` prints the path of its deployment.json; pass it with --deployment (or COOP_DEPLOYMENT)',
    })
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new CliError(`deployment file ${path} is not valid JSON: ${(error as Error).message}`, { code: 'CONFIG', hint: 'point --deployment at the deployment.json a devnet wrote' })
  }
  const deployment = parsed as Partial<Deployment>
  const addresses = deployment.addresses
  if (
    !deployment.rpcUrl ||
    !addresses ||
    ![addresses.taskManager, addresses.taskLens, addresses.coopToken, addresses.rewardToken].every((value) => typeof value === 'string' && isAddress(value))
  ) {
    throw new CliError(`deployment file ${path} lacks rpcUrl or contract addresses`, { code: 'CONFIG', hint: 'point --deployment at the deployment.json a devnet wrote' })
  }
  return {
    version: 1,
    network: deployment.network ?? 'unknown',
    rpcUrl: deployment.rpcUrl,
    chainId: deployment.chainId ?? 31337,
    addresses: {
      taskManager: getAddress(addresses.taskManager),
      taskLens: getAddress(addresses.taskLens),
      coopToken: getAddress(addresses.coopToken),
      rewardToken: getAddress(addresses.rewardToken),
    },
    tasks: deployment.tasks ?? [],
    nodes: deployment.nodes ?? [],
    ...(deployment.creator ? { creator: deployment.creator } : {}),
    ...(deployment.dashboardUrl ? { dashboardUrl: deployment.dashboardUrl } : {}),
    ...(deployment.siteUrl ? { siteUrl: deployment.siteUrl } : {}),
  }
}
