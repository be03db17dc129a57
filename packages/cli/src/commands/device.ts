// coop device keygen | send | verify — a device without a wallet (issue 4): a key file, signed
// payloads posted to a node, the node's receipt, and the inclusion check against the chain.
import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs'
import { join, resolve } from 'node:path'

import { createDevice, devicePublicKey, generateDeviceKey, isDeviceError, verifyInclusion, type DeviceReceipt, type DeviceScheme } from '@coop/device'
import type { Hex } from 'viem'

import { stringValue, type Command, type CommandContext } from '../args.ts'
import { chainContext, chainOptions, jsonOption } from '../context.ts'
import { readDeployment } from '../deployment.ts'
import { CliError } from '../errors.ts'

type KeyFile = { scheme: DeviceScheme; privateKey: Hex; publicKey: Hex; lastSeq?: number }

const SCHEMES = ['ed25519', 'secp256k1'] as const

function schemeValue(raw: string | undefined, command: string): DeviceScheme {
  const scheme = raw ?? 'ed25519'
  if (!(SCHEMES as readonly string[]).includes(scheme)) {
    throw new CliError(`${command}: --scheme must be ed25519 or secp256k1, not '${scheme}'`, { code: 'INVALID_OPTION', hint: 'ed25519 is the default' })
  }
  return scheme as DeviceScheme
}

function readKeyFile(path: string, command: string): KeyFile {
  const file = resolve(path)
  if (!existsSync(file)) throw new CliError(`${command}: key file not found: ${file}`, { code: 'INVALID_OPTION', hint: 'create one with `coop device keygen --out device.json`' })
  let parsed: Partial<KeyFile>
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<KeyFile>
  } catch (cause) {
    throw new CliError(`${command}: ${file} is not JSON`, { code: 'INVALID_OPTION', hint: 'a key file is what `coop device keygen --out` writes', cause })
  }
  const scheme = schemeValue(parsed.scheme, command)
  if (typeof parsed.privateKey !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(parsed.privateKey)) {
    throw new CliError(`${command}: ${file} has no privateKey (0x + 64 hex digits)`, { code: 'INVALID_OPTION', hint: 'a key file is what `coop device keygen --out` writes' })
  }
  const lastSeq = typeof parsed.lastSeq === 'number' && Number.isSafeInteger(parsed.lastSeq) && parsed.lastSeq >= 0 ? parsed.lastSeq : undefined
  return { scheme, privateKey: parsed.privateKey as Hex, publicKey: devicePublicKey(scheme, parsed.privateKey as Hex), ...(lastSeq !== undefined ? { lastSeq } : {}) }
}

function writeJsonFile(path: string, value: unknown, mode?: number): void {
  const file = resolve(path)
  const temporary = `${file}.tmp`
  writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`, mode === undefined ? undefined : { mode })
  renameSync(temporary, file)
}

/** --node-url, or --node <name> of a devnet (--deployment: the node's data dir holds its API port). */
function nodeUrl(context: CommandContext, command: string): string {
  const url = stringValue(context.values, 'node-url') ?? context.io.env.COOP_NODE_URL
  if (url) return url
  const name = stringValue(context.values, 'node')
  const deploymentFile = stringValue(context.values, 'deployment') ?? context.io.env.COOP_DEPLOYMENT
  if (name && deploymentFile) {
    const deployment = readDeployment(deploymentFile)
    const node = deployment.nodes.find((n) => n.name === name)
    if (!node) throw new CliError(`${command}: no node named '${name}' in the deployment`, { code: 'INVALID_OPTION', hint: `use one of: ${deployment.nodes.map((n) => n.name).join(', ')}` })
    const portFile = join(node.dataDir, 'http.port')
    if (!existsSync(portFile)) throw new CliError(`${command}: ${name} has not written its API port yet (${portFile})`, { code: 'NODE', hint: 'wait until the devnet prints its first round, or pass --node-url' })
    return `http://127.0.0.1:${readFileSync(portFile, 'utf8').trim()}`
  }
  throw new CliError(`${command}: missing --node-url`, { code: 'MISSING_OPTION', hint: 'pass --node-url http://127.0.0.1:<port> (or --deployment deployment.json --node node-1)' })
}

function deviceFailure(error: unknown, command: string): never {
  if (isDeviceError(error)) {
    const hints: Record<string, string> = {
      NODE_UNREACHABLE: 'check --node-url and that the node is running',
      NODE_REFUSED: 'the node said why; fix the payload or the task id and send again',
      BAD_RESPONSE: 'the URL may not be a Coop node API',
      CHAIN_UNREACHABLE: 'check --rpc (or --deployment)',
      INVALID_OPTIONS: 'see --help',
    }
    throw new CliError(`${command}: ${error.message}`, { code: error.code === 'INVALID_OPTIONS' ? 'INVALID_OPTION' : 'NODE', hint: hints[error.code], cause: error })
  }
  throw error
}

const nodeOptions = {
  'node-url': { type: 'string', placeholder: 'url', env: 'COOP_NODE_URL', description: 'the node API to talk to (e.g. http://127.0.0.1:7101)' },
  node: { type: 'string', placeholder: 'name', description: 'devnet only: a node of --deployment by name (node-1, …) instead of --node-url' },
} as const

export const deviceKeygenCommand: Command = {
  path: ['device', 'keygen'],
  summary: 'create a device key (ed25519 or secp256k1)',
  options: {
    scheme: { type: 'string', placeholder: 'ed25519|secp256k1', description: 'signature scheme', defaultText: 'ed25519' },
    out: { type: 'string', placeholder: 'file', description: 'write the key file here (mode 0600) instead of printing the private key' },
    ...jsonOption,
  },
  examples: ['coop device keygen --out device.json', 'coop device keygen --scheme secp256k1 --json'],
  async run(context) {
    const name = 'coop device keygen'
    const scheme = schemeValue(stringValue(context.values, 'scheme'), name)
    const privateKey = generateDeviceKey(scheme)
    const key: KeyFile = { scheme, privateKey, publicKey: devicePublicKey(scheme, privateKey) }
    const out = stringValue(context.values, 'out')
    if (out) {
      if (existsSync(resolve(out))) throw new CliError(`${name}: ${resolve(out)} exists; not overwriting a key`, { code: 'INVALID_OPTION', hint: 'choose another --out file' })
      writeJsonFile(out, key, 0o600)
    }
    if (context.values.json) context.io.stdout.write(`${JSON.stringify(out ? { scheme, publicKey: key.publicKey, file: resolve(out) } : key)}\n`)
    else if (out) context.io.stdout.write(`${scheme} device ${key.publicKey}\nkey written to ${resolve(out)}\n`)
    else context.io.stdout.write(`scheme     ${scheme}\npublicKey  ${key.publicKey}\nprivateKey ${privateKey}\n`)
  },
}

export const deviceSendCommand: Command = {
  path: ['device', 'send'],
  summary: 'sign a payload and post it to a node; prints the node-signed receipt',
  description:
    'The payload is signed for the task\'s current round (or --round) with the next sequence number; the key file remembers ' +
    'the last one. The node answers with a receipt (payload CID, round, position) signed by its Ethereum key; keep it ' +
    '(--receipt-out) to check inclusion later with `coop device verify`.',
  options: {
    key: { type: 'string', placeholder: 'file', description: 'the device key file (from `coop device keygen --out`)', required: true },
    task: { type: 'string', placeholder: 'id', description: 'task id', required: true },
    ...nodeOptions,
    deployment: chainOptions.deployment,
    body: { type: 'string', placeholder: 'json', description: 'the payload body as JSON (e.g. \'{"temp":21.5}\')' },
    'body-file': { type: 'string', placeholder: 'file', description: 'the payload body: a JSON file' },
    round: { type: 'string', placeholder: 'n', description: 'sign for this round instead of the current one' },
    'receipt-out': { type: 'string', placeholder: 'file', description: 'write the receipt (JSON) here' },
    ...jsonOption,
  },
  examples: [
    'coop device send --key device.json --task 3 --node-url http://127.0.0.1:7101 --body \'{"sensor":"t1","temp":21.5}\' --receipt-out receipt.json',
    'coop device send --key device.json --task 3 --deployment deployment.json --node node-2 --body-file reading.json',
  ],
  async run(context) {
    const name = 'coop device send'
    const keyFile = stringValue(context.values, 'key')!
    const key = readKeyFile(keyFile, name)
    const taskId = stringValue(context.values, 'task')!
    if (!/^[0-9]{1,78}$/.test(taskId)) throw new CliError(`${name}: --task must be a decimal task id`, { code: 'INVALID_OPTION' })
    const bodyText = stringValue(context.values, 'body')
    const bodyFile = stringValue(context.values, 'body-file')
    if ((bodyText === undefined) === (bodyFile === undefined)) throw new CliError(`${name}: pass exactly one of --body or --body-file`, { code: 'MISSING_OPTION', hint: 'for example --body \'{"temp":21.5}\'' })
    let body: unknown
    try {
      body = JSON.parse(bodyText ?? readFileSync(resolve(bodyFile!), 'utf8'))
    } catch (cause) {
      throw new CliError(`${name}: the body is not JSON`, { code: 'INVALID_OPTION', hint: 'quote it for your shell: --body \'{"temp":21.5}\'', cause })
    }
    const roundText = stringValue(context.values, 'round')
    if (roundText !== undefined && !/^[0-9]{1,12}$/.test(roundText)) throw new CliError(`${name}: --round must be a non-negative integer`, { code: 'INVALID_OPTION' })
    const url = nodeUrl(context, name)
    const device = createDevice({ scheme: key.scheme, privateKey: key.privateKey, ...(key.lastSeq !== undefined ? { lastSeq: key.lastSeq } : {}) })
    let result: Awaited<ReturnType<typeof device.send>>
    try {
      result = await device.send(url, taskId, body, roundText === undefined ? {} : { round: Number(roundText) })
    } catch (error) {
      if (device.lastSeq !== undefined) writeJsonFile(keyFile, { ...key, lastSeq: device.lastSeq }, 0o600)
      deviceFailure(error, name)
    }
    writeJsonFile(keyFile, { ...key, lastSeq: device.lastSeq }, 0o600)
    const out = stringValue(context.values, 'receipt-out')
    if (out) writeJsonFile(out, result.receipt)
    if (context.values.json) context.io.stdout.write(`${JSON.stringify(result.receipt)}\n`)
    else {
      const r = result.receipt
      context.io.stdout.write(`accepted by ${r.node}: task ${r.taskId} round ${r.round} position ${r.position}\npayload ${r.payloadCid}\n${out ? `receipt written to ${resolve(out)}\n` : `receipt ${JSON.stringify(r)}\n`}`)
    }
  },
}

export const deviceVerifyCommand: Command = {
  path: ['device', 'verify'],
  summary: 'check a receipt: node signature, leaf + proof from the node, the root on-chain (and the anchored SCALE head)',
  description: 'Exit code 0 when the payload is proven included under the node\'s on-chain submission; 1 when a check failed or is still pending (the node submits a round in the next round\'s submission window).',
  options: {
    receipt: { type: 'string', placeholder: 'file', description: 'the receipt (JSON) from `coop device send --receipt-out`', required: true },
    ...nodeOptions,
    ...chainOptions,
    ...jsonOption,
  },
  examples: ['coop device verify --receipt receipt.json --node-url http://127.0.0.1:7101 --deployment deployment.json'],
  async run(context) {
    const name = 'coop device verify'
    const file = resolve(stringValue(context.values, 'receipt')!)
    if (!existsSync(file)) throw new CliError(`${name}: receipt not found: ${file}`, { code: 'INVALID_OPTION', hint: 'write one with `coop device send --receipt-out receipt.json`' })
    let receipt: DeviceReceipt
    try {
      receipt = JSON.parse(readFileSync(file, 'utf8')) as DeviceReceipt
    } catch (cause) {
      throw new CliError(`${name}: ${file} is not JSON`, { code: 'INVALID_OPTION', cause })
    }
    const url = nodeUrl(context, name)
    const chain = chainContext(context.values, context.io, name)
    let report: Awaited<ReturnType<typeof verifyInclusion>>
    try {
      report = await verifyInclusion(receipt, { nodeUrl: url, rpcUrl: chain.rpcUrl, taskManager: chain.taskManager })
    } catch (error) {
      deviceFailure(error, name)
    }
    if (context.values.json) context.io.stdout.write(`${JSON.stringify(report)}\n`)
    else {
      const c = report.checks
      context.io.stdout.write(
        `${report.ok ? 'INCLUDED' : 'NOT PROVEN'}: task ${report.taskId} cycle ${report.cycle} position ${report.position} at node ${report.node}\n` +
          `  receipt ${c.receipt} · leaf ${c.leaf} · proof ${c.proof} · on-chain submission ${c.submission} · SCALE head ${c.head}\n` +
          (report.root ? `  root ${report.root}\n` : '') +
          report.problems.map((p) => `  - ${p}\n`).join(''),
      )
    }
    return report.ok ? 0 : 1
  },
}
