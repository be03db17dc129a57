// What the chain commands share: where the chain is (--rpc / COOP_RPC_URL / deployment file), who
// signs (--key / COOP_PRIVATE_KEY / --as <devnet account>), and which contracts (flags or file).
import {
  coopActions,
  createCoopClient,
  createCoopPublicClient,
  getTask,
  type CoopActions,
  type CoopClient,
  type Task,
} from '@coop/chain'
import { createPublicClient, getAddress, http, isAddress, isHex, type Address, type Hex, type PublicClient } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'

import { stringValue, type OptionSpec, type ParsedValues, type CliIo } from './args.ts'
import { readDeployment, type Deployment } from './deployment.ts'
import { CliError, toCliError } from './errors.ts'

export const chainOptions = {
  rpc: { type: 'string', placeholder: 'url', description: 'JSON-RPC URL of the chain', env: 'COOP_RPC_URL' },
  deployment: {
    type: 'string',
    placeholder: 'file',
    description: 'deployment.json written by `coop devnet` (chain, contracts, tasks, devnet accounts)',
    env: 'COOP_DEPLOYMENT',
  },
  'task-manager': { type: 'string', placeholder: '0x…', description: 'TaskManager address (default: from --deployment)' },
  'task-lens': { type: 'string', placeholder: '0x…', description: 'TaskLens address (default: from --deployment)' },
} as const satisfies Record<string, OptionSpec>

export const signerOptions = {
  key: { type: 'string', placeholder: '0x…', description: 'private key of the account that signs', env: 'COOP_PRIVATE_KEY' },
  as: {
    type: 'string',
    placeholder: 'name',
    description: 'devnet only: sign as a devnet account from --deployment (creator, node-1, node-2, …)',
  },
} as const satisfies Record<string, OptionSpec>

export const jsonOption = { json: { type: 'boolean', description: 'print the result as JSON' } } as const satisfies Record<string, OptionSpec>

export type ChainContext = {
  rpcUrl: string
  deployment: Deployment | undefined
  taskManager: Address
  taskLens: Address
  publicClient: PublicClient
  coop: CoopActions
}

export type SignerContext = ChainContext & { client: CoopClient; signer: CoopActions; account: Address }

function loadDeployment(values: ParsedValues, io: CliIo): Deployment | undefined {
  const file = stringValue(values, 'deployment') ?? io.env.COOP_DEPLOYMENT
  return file ? readDeployment(file) : undefined
}

function addressOption(values: ParsedValues, name: string, fallback: Address | undefined, command: string): Address {
  const raw = stringValue(values, name)
  if (raw !== undefined) {
    if (!isAddress(raw)) throw new CliError(`${command}: --${name} is not an address: '${raw}'`, { code: 'INVALID_OPTION', hint: 'pass a 0x-prefixed 20-byte hex address' })
    return getAddress(raw)
  }
  if (fallback) return fallback
  throw new CliError(`${command}: missing --${name}`, {
    code: 'MISSING_OPTION',
    hint: `pass --${name} 0x…, or --deployment <file> (a running \`coop devnet\` prints its path)`,
  })
}

export function resolveRpcUrl(values: ParsedValues, io: CliIo, deployment: Deployment | undefined, command: string): string {
  const rpcUrl = stringValue(values, 'rpc') ?? io.env.COOP_RPC_URL ?? deployment?.rpcUrl
  if (!rpcUrl) {
    throw new CliError(`${command}: no chain to talk to`, {
      code: 'MISSING_OPTION',
      hint: 'pass --rpc <url> (or set COOP_RPC_URL), or --deployment <file> from `coop devnet`',
    })
  }
  if (!/^https?:\/\//.test(rpcUrl)) {
    throw new CliError(`${command}: --rpc must be an http(s) URL, got '${rpcUrl}'`, { code: 'INVALID_OPTION', hint: 'for example --rpc http://127.0.0.1:8545' })
  }
  return rpcUrl
}

export function chainContext(values: ParsedValues, io: CliIo, command: string): ChainContext {
  const deployment = loadDeployment(values, io)
  const rpcUrl = resolveRpcUrl(values, io, deployment, command)
  const taskManager = addressOption(values, 'task-manager', deployment?.addresses.taskManager, command)
  const taskLens = addressOption(values, 'task-lens', deployment?.addresses.taskLens, command)
  const publicClient = createCoopPublicClient({ rpcUrl }) as PublicClient
  const coop = publicClient.extend(coopActions({ taskManager, taskLens })) as unknown as CoopActions
  return { rpcUrl, deployment, taskManager, taskLens, publicClient, coop }
}

export function parsePrivateKey(raw: string, source: string): Hex {
  const key = (raw.startsWith('0x') ? raw : `0x${raw}`) as Hex
  if (!isHex(key) || key.length !== 66) {
    throw new CliError(`${source} is not a private key (expected 32 bytes of hex, 0x…)`, {
      code: 'INVALID_OPTION',
      hint: 'pass the account\'s 0x-prefixed 64-hex-digit private key',
    })
  }
  try {
    privateKeyToAccount(key)
  } catch {
    throw new CliError(`${source} is not a valid secp256k1 private key`, { code: 'INVALID_OPTION', hint: 'pass the account\'s private key' })
  }
  return key
}

export function resolvePrivateKey(values: ParsedValues, io: CliIo, deployment: Deployment | undefined, command: string): Hex {
  const as = stringValue(values, 'as')
  if (as) {
    if (!deployment) throw new CliError(`${command}: --as needs --deployment`, { code: 'MISSING_OPTION', hint: 'pass the deployment.json of a running devnet' })
    const key =
      as === 'creator' ? deployment.creator?.privateKey : deployment.nodes.find((node) => node.name === as)?.privateKey
    if (!key) {
      const names = ['creator', ...deployment.nodes.map((node) => node.name)].join(', ')
      throw new CliError(`${command}: no devnet account named '${as}' in the deployment`, { code: 'INVALID_OPTION', hint: `use one of: ${names}` })
    }
    return key
  }
  const raw = stringValue(values, 'key') ?? io.env.COOP_PRIVATE_KEY
  if (!raw) {
    throw new CliError(`${command}: no signing key`, {
      code: 'MISSING_OPTION',
      hint: 'pass --key 0x… (or set COOP_PRIVATE_KEY); on a devnet, --as creator or --as node-1',
    })
  }
  return parsePrivateKey(raw, stringValue(values, 'key') ? '--key' : 'COOP_PRIVATE_KEY')
}

export function signerContext(values: ParsedValues, io: CliIo, command: string): SignerContext {
  const context = chainContext(values, io, command)
  const key = resolvePrivateKey(values, io, context.deployment, command)
  const client = createCoopClient({ rpcUrl: context.rpcUrl, account: key })
  const signer = client.extend(coopActions({ taskManager: context.taskManager, taskLens: context.taskLens }))
  return { ...context, client, signer, account: client.account.address }
}

/** Reads a task, turning "no such task" into an error that says how to find the right id. */
export async function loadTask(context: ChainContext, taskId: bigint, command: string): Promise<Task> {
  let task: Task
  try {
    task = await getTask(context.publicClient, { address: context.taskManager, taskId })
  } catch (error) {
    throw toCliError(error, { rpcUrl: context.rpcUrl })
  }
  if (task.creator === '0x0000000000000000000000000000000000000000') {
    throw new CliError(`${command}: task ${taskId} does not exist on ${context.taskManager}`, {
      code: 'INVALID_OPTION',
      hint: '`coop status` lists the tasks of a deployment; check --task and --task-manager',
    })
  }
  return task
}

/** Makes sure the RPC answers before doing anything (a clear error instead of a timeout later). */
export async function checkRpc(rpcUrl: string, command: string): Promise<number> {
  const client = createPublicClient({ transport: http(rpcUrl, { retryCount: 0, timeout: 3_000 }) })
  try {
    return await client.getChainId()
  } catch (error) {
    throw new CliError(`${command}: cannot reach the chain at ${rpcUrl}`, {
      code: 'RPC_UNAVAILABLE',
      hint: 'is it running? start a local one with `npx coop devnet`, or pass the right --rpc (or COOP_RPC_URL)',
      cause: error,
      exitCode: 1,
    })
  }
}
