// coop node start: run a Coop node in this process (@coop/node startNode) until SIGINT/SIGTERM.
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

import { getAddress, isAddress } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'

import { intValue, listValue, stringValue, type Command, type ParsedValues, type CliIo } from '../args.ts'
import { parseAmount } from '../amounts.ts'
import { resolvePrivateKey, resolveRpcUrl, checkRpc } from '../context.ts'
import { readDeployment } from '../deployment.ts'
import { CliError, ExitCode } from '../errors.ts'

type NodeModule = typeof import('@coop/node')
type NodeConfigInput = Record<string, unknown>

/** Builds the NodeConfig object (unvalidated: @coop/node validates it) from the command's flags. */
export function nodeConfigFromFlags(values: ParsedValues, io: CliIo): NodeConfigInput {
  const name = 'coop node start'
  const deploymentFile = stringValue(values, 'deployment') ?? io.env.COOP_DEPLOYMENT
  const deployment = deploymentFile ? readDeployment(deploymentFile) : undefined
  const rpcUrl = resolveRpcUrl(values, io, deployment, name)
  const privateKey = resolvePrivateKey(values, io, deployment, name)
  const address = (option: string, fallback: string | undefined) => {
    const raw = stringValue(values, option) ?? fallback
    if (!raw) {
      throw new CliError(`${name}: missing --${option}`, { code: 'MISSING_OPTION', hint: `pass --${option} 0x… (the deployment's contract), or --deployment <file>` })
    }
    if (!isAddress(raw)) throw new CliError(`${name}: --${option} is not an address: '${raw}'`, { code: 'INVALID_OPTION', hint: 'pass a 0x-prefixed 20-byte address' })
    return getAddress(raw)
  }
  const taskManager = address('task-manager', deployment?.addresses.taskManager)
  const taskLens = address('task-lens', deployment?.addresses.taskLens)
  const taskIds = listValue(values, 'task')
  if (taskIds.length === 0) {
    throw new CliError(`${name}: missing --task`, { code: 'MISSING_OPTION', hint: 'pass the id of the task to join (repeat --task for several); `coop status` lists them' })
  }
  for (const id of taskIds) {
    if (!/^\d+$/.test(id)) throw new CliError(`${name}: --task must be a task id, got '${id}'`, { code: 'INVALID_OPTION', hint: 'for example --task 1' })
  }
  const stakeRaw = stringValue(values, 'stake')
  const stake = stakeRaw ? parseAmount(stakeRaw, 'stake').toString() : undefined
  const account = privateKeyToAccount(privateKey).address
  const nodeName = stringValue(values, 'name') ?? `node-${account.slice(2, 8).toLowerCase()}`
  const dataDir = resolve(io.cwd, stringValue(values, 'data-dir') ?? join(homedir(), '.coop', 'nodes', account.toLowerCase()))
  const p2pPort = intValue(values, 'p2p-port', name, { min: 0, max: 65_535, fallback: 0 })!
  const httpPort = intValue(values, 'http-port', name, { min: 0, max: 65_535, fallback: 0 })!
  const programs = listValue(values, 'program')
  return {
    name: nodeName,
    rpcUrl,
    privateKey,
    taskManager,
    taskLens,
    tasks: taskIds.map((taskId, index) => ({
      taskId,
      ...(programs[index] ? { program: resolve(io.cwd, programs[index]!) } : {}),
      ...(stake ? { stake } : {}),
    })),
    dataDir,
    p2p: { listen: [`/ip4/127.0.0.1/tcp/${p2pPort}`], bootstrap: listValue(values, 'bootstrap') },
    http: { host: '127.0.0.1', port: httpPort },
    ...(stringValue(values, 'log-level') ? { logLevel: stringValue(values, 'log-level') } : {}),
  }
}

export const nodeStartCommand: Command = {
  path: ['node', 'start'],
  summary: 'run a node that joins an existing deployment (stakes, registers, works, submits, audits, claims)',
  description:
    'Give either --config <file.json> (a NodeConfig, see docs/node-architecture.md) or the flags below. ' +
    'The node stakes the task\'s minStake (or --stake) if it has less, registers its p2p address, and runs until Ctrl-C (SIGINT) or SIGTERM, ' +
    'then stops cleanly. Its state (SQLite, content store, keys of the p2p host) lives in --data-dir; restarting with the same dir resumes.',
  options: {
    config: { type: 'string', placeholder: 'file.json', description: 'node config file (instead of the flags below)' },
    rpc: { type: 'string', placeholder: 'url', description: 'JSON-RPC URL of the chain', env: 'COOP_RPC_URL' },
    key: { type: 'string', placeholder: '0x…', description: 'the node\'s private key (its staking account)', env: 'COOP_PRIVATE_KEY' },
    'task-manager': { type: 'string', placeholder: '0x…', description: 'TaskManager address' },
    'task-lens': { type: 'string', placeholder: '0x…', description: 'TaskLens address' },
    task: { type: 'string', placeholder: 'id', description: 'task to join (repeatable)', multiple: true },
    program: { type: 'string', placeholder: 'file', description: 'task bundle to seed the content store with, one per --task (optional: fetched from peers otherwise)', multiple: true },
    stake: { type: 'string', placeholder: 'tokens', description: 'stake to hold on each task', defaultText: 'the task\'s minStake' },
    name: { type: 'string', placeholder: 'name', description: 'display name', defaultText: 'node-<address prefix>' },
    'data-dir': { type: 'string', placeholder: 'dir', description: 'state directory', defaultText: '~/.coop/nodes/<address>' },
    'p2p-port': { type: 'string', placeholder: 'port', description: 'libp2p TCP port on 127.0.0.1', defaultText: 'random' },
    'http-port': { type: 'string', placeholder: 'port', description: 'HTTP API + dashboard port on 127.0.0.1', defaultText: 'random (written to <data-dir>/http.port)' },
    bootstrap: { type: 'string', placeholder: 'multiaddr', description: 'peer to dial first, with /p2p/<peerId> (repeatable)', multiple: true },
    'log-level': { type: 'string', placeholder: 'level', description: 'trace, debug, info, warn, error', defaultText: 'info' },
    deployment: { type: 'string', placeholder: 'file', description: 'take rpc and addresses from a devnet\'s deployment.json', env: 'COOP_DEPLOYMENT' },
    as: { type: 'string', placeholder: 'name', description: 'devnet only: use the key of a devnet account from --deployment' },
    'dry-run': { type: 'boolean', description: 'print the resulting config as JSON and exit' },
  },
  examples: [
    'coop node start --rpc http://127.0.0.1:8545 --key 0x… --task-manager 0x… --task-lens 0x… --task 1 --data-dir ./node-a',
    'coop node start --config ./node-a.json',
  ],
  async run({ values, io }) {
    const name = 'coop node start'
    const configFile = stringValue(values, 'config')
    // Flag problems first (usage errors), before loading the node's modules.
    const fromFlags = configFile ? undefined : nodeConfigFromFlags(values, io)
    if (configFile && !existsSync(resolve(io.cwd, configFile))) {
      throw new CliError(`${name}: config file not found: ${resolve(io.cwd, configFile)}`, { code: 'CONFIG', hint: 'check the path, or pass the flags instead (see --help)' })
    }
    let node: NodeModule
    try {
      node = await import('@coop/node')
    } catch (error) {
      throw new CliError(`${name}: cannot load @coop/node: ${(error as Error).message}`, { code: 'NODE', exitCode: 1, hint: 'run `npm install` at the repository root' })
    }
    let config: Awaited<ReturnType<NodeModule['loadConfig']>>
    try {
      config = configFile ? node.loadConfig(resolve(io.cwd, configFile)) : node.validateConfig(fromFlags, { baseDir: io.cwd })
    } catch (error) {
      if (error instanceof CliError) throw error
      throw new CliError(`${name}: ${(error as { shortMessage?: string }).shortMessage ?? (error as Error).message}`, {
        code: 'CONFIG',
        hint: 'fix the fields named above (docs/node-architecture.md describes NodeConfig)',
      })
    }
    if (values['dry-run']) {
      io.stdout.write(`${JSON.stringify({ ...config, privateKey: '0x…' }, null, 2)}\n`)
      return
    }
    await checkRpc(config.rpcUrl, name)
    let running: Awaited<ReturnType<NodeModule['startNode']>>
    try {
      running = await node.startNode(config)
    } catch (error) {
      throw new CliError(`${name}: the node did not start: ${(error as { shortMessage?: string }).shortMessage ?? (error as Error).message}`, {
        code: 'NODE',
        exitCode: 1,
        hint: 'see the message above; check that the task exists and the account holds stake tokens and gas',
      })
    }
    io.stderr.write(`coop node ${config.name} (${privateKeyToAccount(config.privateKey).address}) running; Ctrl-C stops it\n`)
    await new Promise<void>((resolveStop) => {
      if (io.signal?.aborted) return resolveStop()
      io.signal?.addEventListener('abort', () => resolveStop(), { once: true })
    })
    io.stderr.write(`coop node ${config.name}: stopping…\n`)
    await running.stop()
    return ExitCode.Ok
  },
}
