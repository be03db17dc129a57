// coop devnet: the whole network on this machine (see src/devnet/devnet.ts).
import { resolve } from 'node:path'

import { intValue, stringValue, type Command } from '../args.ts'
import { runDevnet } from '../devnet/devnet.ts'
import { formatSummaryTable } from '../devnet/summary.ts'
import { ExitCode } from '../errors.ts'
import { toJson } from '../tx.ts'

export const devnetCommand: Command = {
  path: ['devnet'],
  summary: 'run a local network: anvil, contracts, example tasks, N nodes (one cheating), dashboard',
  description: `Starts anvil on 127.0.0.1, deploys the contracts, funds the node accounts with COOP, serves a small web site for the
web-archive task, bundles and creates the example tasks (web-archive, compute and sensor-log; 12 s rounds), and starts N
node processes; node-3 cheats from round 3 and gets caught. Four simulated sensors (ed25519 and secp256k1, no wallets)
post a signed reading to every node each round for sensor-log. Prints the dashboard URL and one progress line per task per round.

With --rounds N it stops after N finalized rounds (cycles whose distribution is final on-chain in every task), stops
every process, and prints a summary table (or JSON with --json: per node name, behaviour, stake, reputation, rewards,
slashed, submissions, audited; totals finalizedRounds, auditsRaised, auditsUpheld). Without --rounds it runs until Ctrl-C.
Progress goes to stderr when --json is given, so stdout is only the JSON.`,
  options: {
    nodes: { type: 'string', placeholder: 'n', description: 'number of nodes (1–20)', defaultText: '5' },
    rounds: { type: 'string', placeholder: 'n', description: 'stop after n finalized rounds', defaultText: 'run until Ctrl-C' },
    json: { type: 'boolean', description: 'print the summary as JSON on stdout' },
    'round-length': { type: 'string', placeholder: 's', description: 'round length in seconds (windows scale with it)', defaultText: '12' },
    'port-base': {
      type: 'string',
      placeholder: 'port',
      description: 'fixed ports: dashboard at port, site port+1, anvil port+2, node i p2p port+10+2i and http port+11+2i',
      defaultText: 'random free ports',
    },
    'data-dir': { type: 'string', placeholder: 'dir', description: 'where configs, node state, logs and deployment.json go (kept)', defaultText: 'a temp dir, removed on exit' },
    keep: { type: 'boolean', description: 'keep the temp data dir (node logs, state, deployment.json) after exit' },
    'no-cheater': { type: 'boolean', description: 'every node honest' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress lines' },
  },
  examples: ['npm run devnet', 'npx coop devnet --rounds 6 --json', 'npx coop devnet --nodes 3 --rounds 4 --keep'],
  async run({ values, io }) {
    const name = 'coop devnet'
    const nodes = intValue(values, 'nodes', name, { min: 1, max: 20, fallback: 5 })!
    const rounds = intValue(values, 'rounds', name, { min: 1, max: 100_000 })
    const roundLength = intValue(values, 'round-length', name, { min: 4, max: 3_600, fallback: 12 })!
    const portBase = intValue(values, 'port-base', name, { min: 1024, max: 65_000 })
    const dataDir = stringValue(values, 'data-dir')
    const json = Boolean(values.json)
    const out = json ? io.stderr : io.stdout
    const log = values.quiet ? undefined : (line: string) => out.write(`${line}\n`)
    const summary = await runDevnet({
      nodes,
      ...(rounds !== undefined ? { rounds } : {}),
      roundLength,
      ...(portBase !== undefined ? { portBase } : {}),
      ...(dataDir ? { dataDir: resolve(io.cwd, dataDir) } : {}),
      keep: Boolean(values.keep),
      ...(values['no-cheater'] ? { cheater: null } : {}),
      ...(log ? { log } : {}),
      ...(io.signal ? { signal: io.signal } : {}),
    })
    if (json) io.stdout.write(`${toJson(summary)}\n`)
    else io.stdout.write(`\n${formatSummaryTable(summary)}`)
    return summary.interrupted ? ExitCode.Interrupted : ExitCode.Ok
  },
}
