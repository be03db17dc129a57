// Shared setup of the network tests: a task bundled into the test chain's folder, node configs on
// 127.0.0.1, N in-process nodes or node processes (src/main.ts), and the teardown that keeps the
// logs when COOP_KEEP_LOGS is set.
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

import { bundleTask } from '@coop/sdk'
import type { Hex } from 'viem'

import { digestOfCid, startNode, type CoopNode, type NodeConfig, type TaskConfig } from '../src/index.ts'
import { createTestTask, logFile, type TestChain } from './helpers.ts'

const MAIN = resolve(import.meta.dirname, '../src/main.ts')

/** Bundles the task at `source` into `<chain.dir>/<fileName>`: its on-chain program digest and the bundle's path. */
export async function bundleTaskInto(chain: TestChain, source: string, fileName: string): Promise<{ programCid: Hex; bundlePath: string }> {
  const bundle = await bundleTask(source)
  const bundlePath = join(chain.dir, fileName)
  writeFileSync(bundlePath, bundle.code)
  return { programCid: digestOfCid(bundle.cid), bundlePath }
}

/** The short windows (seconds) every network test runs with; each test adds its round length, vote window and rounds. */
export const NETWORK_WINDOWS = {
  submissionWindow: 2n,
  auditWindow: 5n,
  distributionWindow: 2n,
  distributionAuditWindow: 2n,
  // Draws that land on a convicted or restarting node only time out: enough attempts that the
  // cycle never fails on an unlucky draw (3 attempts failed ~4% of runs).
  maxDistributionAttempts: 8,
} as const

/** Round length (seconds) and leaves per round of the SCALE fixture task (./fixtures/scale-task.ts) on the network. */
export const SCALE_ROUND = 10n
export const SCALE_LEAVES = 24

/**
 * The SCALE fixture task, bundled and created with 10 s rounds, 5 s votes, 3 dues rounds and 2
 * auditors per sample; `taskConfig` is the entry every node runs it with (24 leaves per round).
 */
export async function createScaleFixtureTask(chain: TestChain, options: { unbondingRounds: number; rounds: number }): Promise<{ taskId: bigint; startTime: bigint; taskConfig: TaskConfig }> {
  const { programCid, bundlePath } = await bundleTaskInto(chain, resolve(import.meta.dirname, 'fixtures/scale-task.ts'), 'scale-task.mjs')
  const task = await createTestTask(chain, {
    ...NETWORK_WINDOWS,
    programCid,
    roundLength: SCALE_ROUND,
    voteWindow: 5n,
    duesRounds: 3,
    auditorsPerSample: 2,
    unbondingRounds: options.unbondingRounds,
    rounds: options.rounds,
  })
  return { taskId: task.taskId, startTime: task.startTime, taskConfig: { taskId: task.taskId.toString(), program: bundlePath, config: { leaves: SCALE_LEAVES } } }
}

/** node-<index + 1> on the test chain: its account, data dir `<chain.dir>/node-<index + 1>`, p2p and HTTP on 127.0.0.1 (random ports), debug logs. */
export function nodeConfig(
  chain: TestChain,
  index: number,
  fields: Pick<NodeConfig, 'tasks'> & Partial<Pick<NodeConfig, 'behaviour' | 'submission'>> & { bootstrap?: string[] },
): NodeConfig {
  const { tasks, bootstrap = [], ...rest } = fields
  const name = `node-${index + 1}`
  return {
    name,
    rpcUrl: chain.anvil.rpcUrl,
    privateKey: chain.nodes[index]!.privateKey,
    taskManager: chain.addresses.taskManager,
    taskLens: chain.addresses.taskLens,
    tasks,
    dataDir: join(chain.dir, name),
    p2p: { listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap },
    http: { host: '127.0.0.1', port: 0 },
    pollIntervalMs: 250,
    logLevel: 'debug',
    ...rest,
  }
}

/**
 * Starts `count` in-process nodes: node-1 first, the others bootstrapped from it; each logs to
 * `<chain.dir>/<name>.log`. They are pushed to `nodes` as they start (the caller's teardown stops
 * them even if a later one fails) and returned once all are ready.
 */
export async function startNodes(chain: TestChain, count: number, configOf: (index: number, bootstrap: string[]) => NodeConfig, nodes: CoopNode[]): Promise<CoopNode[]> {
  const start = (config: NodeConfig) => startNode(config, { logDestination: logFile(chain.dir, config.name) })
  const first = await start(configOf(0, []))
  nodes.push(first)
  const bootstrap = [first.multiaddrs()[0]!]
  const rest = Array.from({ length: count - 1 }, (_, offset) => configOf(offset + 1, bootstrap))
  nodes.push(...(await Promise.all(rest.map(start))))
  await Promise.all(nodes.map((node) => node.ready()))
  return nodes
}

/** Runs a node process (src/main.ts) with `config` written to `<chain.dir>/<name>.json`; its output is appended to `<chain.dir>/<name>.log`. */
export function spawnNodeProcess(chain: TestChain, config: NodeConfig, children: ChildProcess[]): ChildProcess {
  const configPath = join(chain.dir, `${config.name}.json`)
  writeFileSync(configPath, JSON.stringify(config))
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] })
  const log = createWriteStream(join(chain.dir, `${config.name}.log`), { flags: 'a' })
  child.stdout!.pipe(log)
  child.stderr!.pipe(log)
  children.push(child)
  return child
}

/** Teardown: stops the nodes, kills the node processes, stops anvil and removes the folder (kept, with its logs, when COOP_KEEP_LOGS is set). */
export async function stopNetwork(chain: TestChain | undefined, running: { nodes?: CoopNode[]; children?: ChildProcess[] }): Promise<void> {
  await Promise.allSettled((running.nodes ?? []).map((node) => node.stop()))
  for (const child of running.children ?? []) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  if (!chain) return
  if (process.env.COOP_KEEP_LOGS) {
    console.log(`logs kept in ${chain.dir}`)
    await chain.anvil.stop()
  } else await chain.stop()
}
