// coop graph serve|put|get: a relay peer speaking GUN's wire protocol at ws://127.0.0.1:P/gun, and
// quick writes and reads against any such peer (Coop or gun).
import { mkdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

import { intValue, listValue, stringValue, type Command } from '../args.ts'
import { CliError, ExitCode } from '../errors.ts'

type GraphModule = typeof import('@coop/graph')

const peerOption = { type: 'string', placeholder: 'url', description: 'the peer to talk to (ws://host:port/gun; http:// works too, like gun)', env: 'COOP_GRAPH_PEER' } as const
const timeoutOption = { type: 'string', placeholder: 'ms', description: 'how long to wait for the peer', defaultText: '10000' } as const
const jsonOption = { type: 'boolean', description: 'print JSON (the node with its HAM states for get)' } as const

async function loadGraph(): Promise<GraphModule> {
  return import('@coop/graph')
}

/** Turns a GraphError (or anything else) into a CliError with a hint. */
function graphFailure(name: string, error: unknown, peer?: string): CliError {
  const record = (error ?? {}) as { code?: unknown; message?: unknown }
  const code = typeof record.code === 'string' ? record.code : undefined
  const message = typeof record.message === 'string' ? record.message : String(error)
  const hint =
    code === 'UNREACHABLE' || code === 'TIMEOUT'
      ? `is a graph peer running at ${peer ?? 'that address'}? start one with \`coop graph serve --port 8765\``
      : code === 'INVALID_SOUL' || code === 'INVALID_VALUE' || code === 'MALFORMED'
        ? 'values are JSON: null, a string ("text"), true/false, a finite number, or a link {"#":"soul"}'
        : code === 'BAD_SIGNATURE'
          ? 'user graphs (~pub souls) take only values signed by their key: write them as that user (gun SEA user.put, or @coop/graph sea.User)'
          : code === 'UNTRUSTED'
            ? 'this relay stores and relays only data signed by keys it trusts (coop graph serve --trust-of/--trust-file)'
            : undefined
  return new CliError(`${name}: ${message}`, { code: 'GRAPH', ...(hint === undefined ? {} : { hint }), cause: error })
}

/** A SEA public key: two base64url P-256 coordinates joined by a dot (gun's `pair.pub`). */
const SEA_PUB = /^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/

/**
 * The relay's trust (pub → weight) from --trust-of (weight 1 each) and --trust-file: a JSON object
 * `{ "<pub>": weight }` or an array of `{ "pub": …, "weight": … }` (what `trustScores` gives, flattened).
 */
function readTrust(name: string, cwd: string, trustOf: string[], trustFile: string | undefined): Map<string, number> | undefined {
  if (trustOf.length === 0 && trustFile === undefined) return undefined
  const trust = new Map<string, number>()
  const add = (pub: unknown, weight: unknown, where: string): void => {
    if (typeof pub !== 'string' || !SEA_PUB.test(pub)) {
      throw new CliError(`${name}: ${where}: ${JSON.stringify(pub)} is not a SEA public key`, { code: 'INVALID_OPTION', hint: 'a user key is gun\'s pair.pub: two 43-character base64url parts joined by "." (a user graph soul is "~" + pub)' })
    }
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > 1) {
      throw new CliError(`${name}: ${where}: the weight of ${pub} must be a number from 0 to 1`, { code: 'INVALID_OPTION' })
    }
    trust.set(pub, Math.max(weight, trust.get(pub) ?? 0))
  }
  if (trustFile !== undefined) {
    const path = resolve(cwd, trustFile)
    let parsed: unknown
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'))
    } catch (error) {
      throw new CliError(`${name}: --trust-file ${path} is not a readable JSON file`, { code: 'INVALID_OPTION', hint: 'for example {"<pub>": 1, "<pub>": 0.5}', cause: error })
    }
    if (Array.isArray(parsed)) {
      for (const entry of parsed) {
        const record = (entry ?? {}) as { pub?: unknown; weight?: unknown }
        add(record.pub, record.weight, '--trust-file')
      }
    } else if (parsed !== null && typeof parsed === 'object') {
      for (const [pub, weight] of Object.entries(parsed)) add(pub, weight, '--trust-file')
    } else {
      throw new CliError(`${name}: --trust-file ${path} must hold an object {"<pub>": weight} or an array of {"pub", "weight"}`, { code: 'INVALID_OPTION' })
    }
  }
  for (const pub of trustOf) add(pub.startsWith('~') ? pub.slice(1) : pub, 1, '--trust-of')
  return trust
}

function requirePeer(name: string, values: Record<string, unknown>, env: Record<string, string | undefined>): string {
  const peer = stringValue(values as never, 'peer') ?? env.COOP_GRAPH_PEER
  if (!peer) throw new CliError(`${name}: missing --peer`, { code: 'MISSING_OPTION', hint: 'pass --peer ws://127.0.0.1:8765/gun (a `coop graph serve` or gun peer)' })
  return peer
}

export const graphServeCommand: Command = {
  path: ['graph', 'serve'],
  summary: 'run a graph relay peer (GUN wire protocol) at ws://127.0.0.1:<port>/gun',
  description:
    'Serves the graph over WebSocket at /gun: gun clients (`Gun({ peers: ["http://127.0.0.1:<port>/gun"] })`) and Coop peers sync with it both ways. ' +
    'With --data the graph is durable (SQLite; a write is acked only once it is on disk); without it, it lives in memory. ' +
    'Each --peer is kept connected (reconnecting with backoff, resyncing only what changed). ' +
    'Writes to user graphs (~pub souls) are stored only when signed by their key (SEA); forged or unsigned ones are refused with an err ack (BAD_SIGNATURE). ' +
    'With --trust-of/--trust-file the relay stores and passes on only data signed by keys trusted at least --min-trust (seed §4.3 weighted trust); other writes are refused (UNTRUSTED). Runs until Ctrl-C.',
  options: {
    port: { type: 'string', placeholder: 'port', description: 'TCP port (0 picks a free one)', defaultText: '8765' },
    host: { type: 'string', placeholder: 'address', description: 'address to listen on', defaultText: '127.0.0.1' },
    peer: { type: 'string', placeholder: 'url', multiple: true, description: 'another graph peer to keep connected to (repeatable)' },
    data: { type: 'string', placeholder: 'dir', description: 'directory for the durable graph (graph.sqlite); default: in memory' },
    'trust-of': { type: 'string', placeholder: 'pub', multiple: true, description: 'relay only data signed by trusted keys: trust this SEA public key with weight 1 (repeatable)' },
    'trust-file': { type: 'string', placeholder: 'json', description: 'trusted keys with weights: {"<pub>": 0.5, …} or [{"pub", "weight"}] (e.g. from trustScores)' },
    'min-trust': { type: 'string', placeholder: 'w', description: 'least weight (0–1] a signer needs to be relayed (with --trust-of/--trust-file)', defaultText: 'any weight > 0' },
    'relay-public': { type: 'boolean', description: 'with a trust policy, also relay unsigned public data' },
    json: { type: 'boolean', description: 'print the endpoint as JSON' },
  },
  examples: [
    'coop graph serve --port 8765',
    'coop graph serve --port 8766 --peer ws://127.0.0.1:8765/gun --data ./graph-data',
    'coop graph serve --port 8767 --trust-file ./trust.json --min-trust 0.5',
  ],
  async run({ values, io }) {
    const name = 'coop graph serve'
    const port = intValue(values, 'port', name, { min: 0, max: 65_535, fallback: 8765 })!
    const host = stringValue(values, 'host') ?? '127.0.0.1'
    const peers = listValue(values, 'peer')
    const dataDir = stringValue(values, 'data')
    const trust = readTrust(name, io.cwd, listValue(values, 'trust-of'), stringValue(values, 'trust-file'))
    const minTrustText = stringValue(values, 'min-trust')
    let minWeight: number | undefined
    if (minTrustText !== undefined) {
      if (trust === undefined) throw new CliError(`${name}: --min-trust needs --trust-of or --trust-file`, { code: 'INVALID_OPTION', hint: 'say whom the relay trusts: --trust-of <pub> or --trust-file trust.json' })
      minWeight = Number(minTrustText)
      if (minTrustText.trim() === '' || !Number.isFinite(minWeight) || minWeight <= 0 || minWeight > 1) {
        throw new CliError(`${name}: --min-trust must be a number in (0, 1], got '${minTrustText}'`, { code: 'INVALID_OPTION' })
      }
    }
    if (values['relay-public'] === true && trust === undefined) throw new CliError(`${name}: --relay-public needs --trust-of or --trust-file`, { code: 'INVALID_OPTION' })
    const policy =
      trust === undefined ? undefined : { trust, ...(minWeight === undefined ? {} : { minWeight }), ...(values['relay-public'] === true ? { relayPublic: true } : {}) }
    let storePath: string | undefined
    if (dataDir !== undefined) {
      const dir = resolve(io.cwd, dataDir)
      mkdirSync(dir, { recursive: true })
      storePath = join(dir, 'graph.sqlite')
    }
    const graph = await loadGraph()
    for (const peer of peers) {
      try {
        graph.toWebSocketUrl(peer)
      } catch (error) {
        throw new CliError(`${name}: --peer '${peer}' is not a ws:// or http:// URL`, { code: 'INVALID_OPTION', hint: 'for example --peer ws://127.0.0.1:8765/gun', cause: error })
      }
    }
    let relay: Awaited<ReturnType<GraphModule['startGraphRelay']>>
    try {
      relay = await graph.startGraphRelay({ port, host, peers, ...(storePath === undefined ? {} : { storePath }), ...(policy === undefined ? {} : { trust: policy }) })
    } catch (error) {
      const code = (error as { code?: unknown }).code
      if (code === 'EADDRINUSE') throw new CliError(`${name}: port ${port} is in use`, { code: 'INVALID_OPTION', hint: 'pick another --port (0 picks a free one)' })
      throw graphFailure(name, error)
    }
    const trustSummary = policy === undefined ? null : { keys: policy.trust.size, minWeight: policy.minWeight ?? null, relayPublic: policy.relayPublic === true }
    if (values.json) io.stdout.write(`${JSON.stringify({ url: relay.url, port: relay.port, data: storePath ?? null, peers, trust: trustSummary })}\n`)
    else {
      io.stdout.write(`coop graph: serving ${relay.url} (${storePath === undefined ? 'in memory' : `data ${storePath}`})\n`)
      if (trustSummary !== null) {
        io.stdout.write(`coop graph: relaying only data signed by ${trustSummary.keys} trusted key(s)${trustSummary.minWeight === null ? '' : ` with weight ≥ ${trustSummary.minWeight}`}${trustSummary.relayPublic ? ', and public data' : ''}\n`)
      }
      for (const peer of relay.peers) io.stdout.write(`coop graph: keeping a link to ${peer.url}\n`)
    }
    await new Promise<void>((done) => {
      if (io.signal?.aborted) return done()
      io.signal?.addEventListener('abort', () => done(), { once: true })
    })
    await relay.close()
    return ExitCode.Ok
  },
}

export const graphPutCommand: Command = {
  path: ['graph', 'put'],
  summary: 'write one key of a node on a graph peer and wait for its ack',
  description: 'The value is JSON: null, "text", true/false, a finite number, or a link {"#":"soul"}. The HAM state is the current time in ms.',
  positionals: [
    { name: 'soul', description: 'the node', required: true },
    { name: 'key', description: 'the key', required: true },
    { name: 'json-value', description: 'the value, as JSON', required: true },
  ],
  options: { peer: peerOption, timeout: timeoutOption, json: jsonOption },
  examples: [`coop graph put alice name '"Alice"' --peer ws://127.0.0.1:8765/gun`, 'coop graph put alice age 30 --peer ws://127.0.0.1:8765/gun'],
  async run({ values, positionals, io }) {
    const name = 'coop graph put'
    const [soul, key, raw] = positionals as [string, string, string]
    const peer = requirePeer(name, values, io.env)
    const timeoutMs = intValue(values, 'timeout', name, { min: 1, fallback: 10_000 })!
    let value: unknown
    try {
      value = JSON.parse(raw)
    } catch (error) {
      throw new CliError(`${name}: <json-value> is not JSON: ${raw}`, { code: 'INVALID_OPTION', hint: `strings need JSON quotes: '"${raw}"'`, cause: error })
    }
    const graph = await loadGraph()
    const state = Date.now()
    const delta = { [soul]: { _: { '#': soul, '>': { [key]: state } }, [key]: value } }
    try {
      graph.validateDelta(delta)
    } catch (error) {
      throw graphFailure(name, error)
    }
    let client: Awaited<ReturnType<GraphModule['openGraphClient']>> | undefined
    try {
      client = await graph.openGraphClient(peer, { timeoutMs })
      await client.put(delta as Parameters<typeof client.put>[0])
    } catch (error) {
      throw graphFailure(name, error, peer)
    } finally {
      await client?.close()
    }
    if (values.json) io.stdout.write(`${JSON.stringify({ soul, key, value, state, peer })}\n`)
    else io.stdout.write(`stored ${soul}.${key} = ${JSON.stringify(value)} (state ${state}) at ${peer}\n`)
    return ExitCode.Ok
  },
}

export const graphGetCommand: Command = {
  path: ['graph', 'get'],
  summary: 'read a node (or one key of it) from a graph peer',
  positionals: [
    { name: 'soul', description: 'the node', required: true },
    { name: 'key', description: 'only this key' },
  ],
  options: { peer: peerOption, timeout: timeoutOption, json: jsonOption },
  examples: ['coop graph get alice --peer ws://127.0.0.1:8765/gun', 'coop graph get alice name --peer ws://127.0.0.1:8765/gun --json'],
  async run({ values, positionals, io }) {
    const name = 'coop graph get'
    const [soul, key] = positionals as [string, string | undefined]
    const peer = requirePeer(name, values, io.env)
    const timeoutMs = intValue(values, 'timeout', name, { min: 1, fallback: 10_000 })!
    const graph = await loadGraph()
    let client: Awaited<ReturnType<GraphModule['openGraphClient']>> | undefined
    let node
    try {
      client = await graph.openGraphClient(peer, { timeoutMs })
      node = await client.get(soul, key)
    } catch (error) {
      throw graphFailure(name, error, peer)
    } finally {
      await client?.close()
    }
    if (node === undefined) {
      throw new CliError(`${name}: ${key === undefined ? soul : `${soul}.${key}`} is not known to ${peer}`, { code: 'GRAPH', hint: 'write it first with `coop graph put`' })
    }
    if (values.json) {
      io.stdout.write(`${JSON.stringify(node)}\n`)
      return ExitCode.Ok
    }
    if (key !== undefined) {
      io.stdout.write(`${JSON.stringify(node[key])}\n`)
      return ExitCode.Ok
    }
    const data: Record<string, unknown> = {}
    for (const name of Object.keys(node)) if (name !== '_') data[name] = node[name]
    io.stdout.write(`${JSON.stringify(data, null, 2)}\n`)
    return ExitCode.Ok
  },
}

export const graphCommands: Command[] = [graphServeCommand, graphPutCommand, graphGetCommand]
