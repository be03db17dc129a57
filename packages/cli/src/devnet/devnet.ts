// `coop devnet`: a complete local Coop network on 127.0.0.1.
//
//   anvil (@coop/chain startAnvil) → deployCoop → COOP for every node account → a local web site →
//   the example tasks bundled (@coop/sdk bundleTask) and created on-chain (programCid = the bundle
//   CID's sha2-256 digest, devnet timing) → one NodeConfig per node → N node processes (node-3 cheats
//   from round 3) bootstrapped to node-1 → a chain view + API server with the dashboard → progress
//   lines per round → after `rounds` finalized cycles: stop nodes, summary, stop everything.
//
// "Finalized round" = a cycle whose distribution is final on-chain (DistributionFinalized) in every
// devnet task; `finalizedRounds` is the number of such cycles.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

import {
  approveErc20,
  createCoopClient,
  createCoopTestClient,
  deployCoop,
  getChainTime,
  mine,
  mintTestErc20,
  startAnvil,
  taskParams,
  transferErc20,
  type Anvil,
  type CoopClient,
  type CoopTestClient,
  type TaskParams,
} from '@coop/chain'
import { coopActions, taskManagerAbi } from '@coop/chain'
import { maxUint256, type Address, type Hex } from 'viem'

import { cidDigest } from '../cid.ts'
import { writeDeployment, type Deployment, type DeploymentNode, type DeploymentTask } from '../deployment.ts'
import { CliError } from '../errors.ts'
import { devnetAmounts, devnetTiming } from './params.ts'
import { devnetDeviceKeys, startDeviceFleet, type DeviceFleet } from './devices.ts'
import { NodeProcess, type ExitInfo } from './processes.ts'
import { createProgress, type Progress } from './progress.ts'
import { startSite, type Site } from './site.ts'
import { buildSummary, type DevnetSummary } from './summary.ts'

type NodeModule = typeof import('@coop/node')
export type ChainView = Awaited<ReturnType<NodeModule['createChainView']>>
type ApiServer = Awaited<ReturnType<NodeModule['createApiServer']>>

export type DevnetTaskName = 'web-archive' | 'compute' | 'sensor-log'

export type DevnetOptions = {
  /** Number of nodes (default 5). */
  nodes?: number
  /** Stop after this many finalized rounds (default: run until stop() / the signal). */
  rounds?: number
  /** Round length in seconds (default 12; the other windows scale with it, see scaledTiming). */
  roundLength?: number
  /** Fixed ports: API/dashboard at base, site at base+1, anvil at base+2, node i at base+10+2i (p2p) and base+11+2i (http). Default: random. */
  portBase?: number
  /** Where configs, node state, logs and deployment.json go (default: a fresh temp dir). */
  dataDir?: string
  /** Keep the data dir on exit (always kept when dataDir is given). */
  keep?: boolean
  /** Which node cheats and from which round (default node index 2 from round 3); null: nobody. */
  cheater?: { index: number; fromRound: number } | null
  /** Tasks to create (default all three examples: web-archive, compute, sensor-log). */
  tasks?: DevnetTaskName[]
  /** Progress lines (default: none). */
  log?: (line: string) => void
  /** Serve the dashboard (default true). */
  dashboard?: boolean
  /** Node scheduler tick (ms, default 250). */
  pollIntervalMs?: number
  /** Node log level (default 'info'). */
  nodeLogLevel?: string
  /** Restart a node that exits on its own, up to this many times each (default 3). */
  maxRestarts?: number
  /** Rounds of escrow to fund (default rounds + 20, or 5000 without --rounds). */
  fundedRounds?: number
  /** Aborting it stops the devnet. */
  signal?: AbortSignal
}

export type DevnetNode = {
  index: number
  name: string
  address: Address
  privateKey: Hex
  behaviour: 'honest' | 'cheater'
  cheatFromRound: number | undefined
  dataDir: string
  configFile: string
  process: NodeProcess
  /** The node's API URL, once it has written <dataDir>/http.port. */
  httpUrl(): string | undefined
  /** Starts (or restarts) the node process with the same data dir. */
  start(): void
}

export type DevnetTask = { taskId: bigint; name: DevnetTaskName; programCid: string; programDigest: Hex; bundle: string; startTime: bigint; params: TaskParams }

export type Devnet = {
  dataDir: string
  deploymentFile: string
  deployment: Deployment
  rpcUrl: string
  dashboardUrl: string | undefined
  siteUrl: string
  anvil: Anvil
  view: ChainView
  tasks: DevnetTask[]
  nodes: DevnetNode[]
  creator: CoopClient
  startedAt: number
  /** Resolves once `count` cycles are final in every task; rejects on timeout/abort with diagnostics. */
  waitForFinalized(count: number, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<void>
  /** Cycles final in every task, now (from the view). */
  finalizedRounds(): number
  /** Resolves when every final cycle's rewards are fully claimed, or after `timeoutMs` (default 6 s). */
  waitForClaims(options?: { timeoutMs?: number }): Promise<boolean>
  /** No more progress lines. */
  stopProgress(): void
  /** The summary as of now (syncs the view first). */
  summary(options?: { requestedRounds?: number }): Promise<DevnetSummary>
  /** Stops nodes (SIGTERM, SIGKILL after the grace period), API, view, site and anvil. Idempotent. */
  stop(options?: { graceMs?: number }): Promise<void>
}

/** Simulated sensors of the sensor-log task. */
const DEVNET_DEVICES = 4

const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = resolve(here, '..', '..', '..', '..')

export const taskEntries: Record<DevnetTaskName, string> = {
  'web-archive': join(repoRoot, 'tasks', 'web-archive', 'index.ts'),
  compute: join(repoRoot, 'tasks', 'compute', 'index.ts'),
  'sensor-log': join(repoRoot, 'tasks', 'sensor-log', 'index.ts'),
}

/** The devnet timing for a round length (12 s gives exactly the documented windows). */
export function scaledTiming(roundLength: number) {
  if (roundLength === 12) return devnetTiming
  const scale = (seconds: bigint) => BigInt(Math.max(1, Math.round((Number(seconds) * roundLength) / 12)))
  const timing = {
    ...devnetTiming,
    roundLength: BigInt(roundLength),
    submissionWindow: scale(devnetTiming.submissionWindow),
    auditWindow: scale(devnetTiming.auditWindow),
    voteWindow: scale(devnetTiming.voteWindow),
    distributionWindow: scale(devnetTiming.distributionWindow),
    distributionAuditWindow: scale(devnetTiming.distributionAuditWindow),
  }
  if (timing.auditWindow <= timing.submissionWindow || timing.auditWindow + timing.voteWindow > timing.roundLength) {
    throw new CliError(`--round-length ${roundLength} is too short for the devnet's windows`, { code: 'INVALID_OPTION', hint: 'use 12 s or more' })
  }
  return timing
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolveSleep) => {
    const timer = setTimeout(resolveSleep, ms)
    signal?.addEventListener('abort', () => {
      clearTimeout(timer)
      resolveSleep()
    }, { once: true })
  })

async function loadNode(): Promise<NodeModule> {
  try {
    return await import('@coop/node')
  } catch (error) {
    throw new CliError(`cannot load @coop/node: ${(error as Error).message}`, { code: 'DEVNET', exitCode: 1, hint: 'run `npm install` at the repository root' })
  }
}

async function dashboardDirectory(): Promise<string | undefined> {
  try {
    const dashboard = (await import('@coop/dashboard')) as { dashboardDir?: string | (() => string) }
    const dir = typeof dashboard.dashboardDir === 'function' ? dashboard.dashboardDir() : dashboard.dashboardDir
    return dir && existsSync(dir) ? dir : undefined
  } catch {
    return undefined
  }
}

/** Starts a devnet and returns once every node process has been started. */
export async function startDevnet(options: DevnetOptions = {}): Promise<Devnet> {
  const log = options.log ?? (() => {})
  const nodeCount = options.nodes ?? 5
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > 20) {
    throw new CliError(`--nodes must be from 1 to 20, got ${nodeCount}`, { code: 'INVALID_OPTION', hint: 'for example --nodes 5' })
  }
  const timing = scaledTiming(options.roundLength ?? 12)
  const cheater = options.cheater === undefined ? (nodeCount >= 3 ? { index: 2, fromRound: 3 } : null) : options.cheater
  const taskNames = options.tasks ?? ['web-archive', 'compute', 'sensor-log']
  const portBase = options.portBase
  const port = (offset: number) => (portBase === undefined ? 0 : portBase + offset)
  const startedAt = Date.now()
  const ownDataDir = options.dataDir === undefined
  const dataDir = resolve(options.dataDir ?? mkdtempSync(join(tmpdir(), 'coop-devnet-')))
  mkdirSync(dataDir, { recursive: true })

  const nodeModule = await loadNode()
  const cleanups: (() => Promise<void>)[] = []
  let stopped = false
  const abortCleanup = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
    if (ownDataDir && !options.keep) rmSync(dataDir, { recursive: true, force: true })
  }

  try {
    // ── chain ──
    const anvil = await startAnvil({ accounts: nodeCount + 2, ...(portBase !== undefined ? { port: port(2) } : {}) })
    cleanups.push(() => anvil.stop())
    log(`anvil     ${anvil.rpcUrl} (chain ${anvil.chainId}, pid ${anvil.pid})`)
    const [creatorKey, ...nodeKeys] = anvil.accounts
    const creator = createCoopClient({ rpcUrl: anvil.rpcUrl, account: creatorKey!.privateKey })
    const deployed = await deployCoop(creator)
    const { addresses } = deployed
    const deployBlock = await creator.getBlockNumber()
    log(`deployed  TaskManager ${addresses.taskManager} · TaskLens ${addresses.taskLens} · COOP ${addresses.coopToken} · reward ${addresses.rewardToken}`)

    // ── node accounts ──
    // Each node gets COOP and approves the TaskManager once for all its tasks (the nodes stake by
    // themselves; one standing approval keeps their per-task stakes from racing on the allowance).
    for (const key of nodeKeys.slice(0, nodeCount)) {
      await transferErc20(creator, { address: addresses.coopToken, to: key.address, amount: devnetAmounts.nodeFunds })
      const node = createCoopClient({ rpcUrl: anvil.rpcUrl, account: key.privateKey })
      await approveErc20(node, { address: addresses.coopToken, spender: addresses.taskManager, amount: maxUint256 })
    }

    // ── site and programs ──
    const site: Site = await startSite({ port: port(1), pages: 50 })
    cleanups.push(() => site.stop())
    log(`site      ${site.url} (${site.pages} pages for web-archive)`)
    const programsDir = join(dataDir, 'programs')
    mkdirSync(programsDir, { recursive: true })
    const { bundleTask } = await import('@coop/sdk')
    const bundles = []
    for (const name of taskNames) {
      const entry = taskEntries[name]
      if (!existsSync(entry)) throw new CliError(`task program not found: ${entry}`, { code: 'DEVNET', exitCode: 1, hint: 'run from a complete checkout of the repository' })
      const bundle = await bundleTask(entry)
      const file = join(programsDir, `${name}.mjs`)
      writeFileSync(file, bundle.code)
      bundles.push({ name, cid: bundle.cid, digest: cidDigest(bundle.cid), file, bytes: bundle.code.byteLength })
    }

    // ── tasks ──
    const fundedRounds = BigInt(options.fundedRounds ?? (options.rounds !== undefined ? options.rounds + 20 : 5_000))
    const bountyTotal = devnetAmounts.bountyPerRound * fundedRounds * BigInt(taskNames.length)
    await mintTestErc20(creator, { address: addresses.rewardToken, to: creator.account.address, amount: bountyTotal })
    await approveErc20(creator, { address: addresses.rewardToken, spender: addresses.taskManager, amount: maxUint256 })
    const coop = creator.extend(coopActions(addresses))
    const tasks: DevnetTask[] = []
    for (const bundle of bundles) {
      const params = taskParams({
        stakeToken: addresses.coopToken,
        rewardToken: addresses.rewardToken,
        programCid: bundle.digest,
        minStake: devnetAmounts.minStake,
        bountyPerRound: devnetAmounts.bountyPerRound,
        ...timing,
      })
      const created = await coop.createTask({ params, bounty: devnetAmounts.bountyPerRound * fundedRounds })
      tasks.push({ taskId: created.taskId, name: bundle.name, programCid: bundle.cid, programDigest: bundle.digest, bundle: bundle.file, startTime: created.startTime, params })
      log(`task ${created.taskId}    ${bundle.name.padEnd(12)} program ${bundle.cid} (${bundle.bytes} bytes), ${timing.roundLength} s rounds, ${fundedRounds} rounds funded`)
    }

    // ── node configs ──
    const nodes: DevnetNode[] = []
    const configFor = (index: number, bootstrap: string[]) => {
      const key = nodeKeys[index]!
      const isCheater = cheater !== null && cheater.index === index
      return {
        name: `node-${index + 1}`,
        rpcUrl: anvil.rpcUrl,
        privateKey: key.privateKey,
        taskManager: addresses.taskManager,
        taskLens: addresses.taskLens,
        tasks: tasks.map((task) => ({
          taskId: task.taskId.toString(),
          program: task.bundle,
          config:
            task.name === 'web-archive'
              ? { siteUrl: site.url, sitePages: site.pages }
              : task.name === 'sensor-log'
                ? { devices: devnetDeviceKeys(DEVNET_DEVICES).map((key) => key.publicKey) } // a node cannot invent devices
                : {},
          stake: devnetAmounts.stake.toString(),
        })),
        dataDir: join(dataDir, 'nodes', `node-${index + 1}`),
        p2p: { listen: [`/ip4/127.0.0.1/tcp/${port(10 + 2 * index)}`], bootstrap },
        http: { host: '127.0.0.1', port: port(11 + 2 * index) },
        behaviour: isCheater ? { mode: 'cheater', cheatFromRound: cheater.fromRound } : { mode: 'honest' },
        pollIntervalMs: options.pollIntervalMs ?? 250,
        logLevel: options.nodeLogLevel ?? 'info',
        startBlock: deployBlock.toString(),
      }
    }
    for (let index = 0; index < nodeCount; index++) {
      const config = configFor(index, [])
      mkdirSync(config.dataDir, { recursive: true })
      const configFile = join(dataDir, 'nodes', `${config.name}.json`)
      writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`)
      const processHandle = new NodeProcess({ name: config.name, configFile, logFile: join(dataDir, 'nodes', `${config.name}.log`) })
      const node: DevnetNode = {
        index,
        name: config.name,
        address: nodeKeys[index]!.address,
        privateKey: nodeKeys[index]!.privateKey,
        behaviour: config.behaviour.mode as 'honest' | 'cheater',
        cheatFromRound: config.behaviour.mode === 'cheater' ? cheater!.fromRound : undefined,
        dataDir: config.dataDir,
        configFile,
        process: processHandle,
        httpUrl: () => {
          const file = join(config.dataDir, 'http.port')
          if (!existsSync(file)) return undefined
          const value = Number(readFileSync(file, 'utf8').trim())
          return Number.isInteger(value) && value > 0 ? `http://127.0.0.1:${value}` : undefined
        },
        start: () => processHandle.start(),
      }
      nodes.push(node)
    }
    cleanups.push(async () => {
      await Promise.all(nodes.map((node) => node.process.stop(10_000)))
    })

    // ── deployment.json ──
    const deploymentFile = join(dataDir, 'deployment.json')
    const deployment: Deployment = {
      version: 1,
      network: 'devnet',
      rpcUrl: anvil.rpcUrl,
      chainId: anvil.chainId,
      addresses,
      tasks: tasks.map<DeploymentTask>((task) => ({ taskId: task.taskId.toString(), name: task.name, programCid: task.programCid, programDigest: task.programDigest, bundle: task.bundle })),
      nodes: nodes.map<DeploymentNode>((node) => ({
        name: node.name,
        address: node.address,
        behaviour: node.behaviour,
        ...(node.cheatFromRound !== undefined ? { cheatFromRound: node.cheatFromRound } : {}),
        dataDir: node.dataDir,
        configFile: node.configFile,
        privateKey: node.privateKey,
      })),
      creator: { address: creator.account.address, privateKey: creatorKey!.privateKey },
      siteUrl: site.url,
      startedAt: new Date(startedAt).toISOString(),
      pid: process.pid,
    }

    // ── chain view, API, dashboard ──
    const names: Record<string, string> = {}
    for (const node of nodes) names[node.address.toLowerCase()] = node.name
    names[creator.account.address.toLowerCase()] = 'creator'
    const view = nodeModule.createChainView({
      client: createCoopClient({ rpcUrl: anvil.rpcUrl, account: creatorKey!.privateKey }),
      addresses: { taskManager: addresses.taskManager, taskLens: addresses.taskLens },
      fromBlock: deployBlock,
      pollIntervalMs: 500,
      wallClock: true,
      names: (address: Address) => names[address.toLowerCase()],
    })
    await view.start()
    cleanups.push(() => view.stop())
    let api: ApiServer | undefined
    if (options.dashboard !== false) {
      const dashboardDir = await dashboardDirectory()
      api = await nodeModule.createApiServer({ view, port: port(0), name: 'coop devnet', ...(dashboardDir ? { dashboardDir } : {}) })
      cleanups.push(() => api!.close())
      deployment.dashboardUrl = `${api.url.replace(/\/$/, '')}/`
      log(`dashboard ${deployment.dashboardUrl}${dashboardDir ? '' : ' (API only: @coop/dashboard has no built files)'}`)
    }
    writeDeployment(deploymentFile, deployment)
    log(`data      ${dataDir}${ownDataDir && !options.keep ? ' (removed on exit; --keep keeps it)' : ''}`)
    log(`          COOP_DEPLOYMENT=${deploymentFile} npx coop status`)

    // ── chain clock: anvil mines on transactions only; a heartbeat block every second keeps chain time current ──
    const time: CoopTestClient = createCoopTestClient({ rpcUrl: anvil.rpcUrl })
    const heartbeat = new AbortController()
    const heartbeatLoop = (async () => {
      while (!heartbeat.signal.aborted) {
        await sleep(1_000, heartbeat.signal)
        if (heartbeat.signal.aborted) break
        try {
          const latest = await getChainTime(time)
          if (latest < BigInt(Math.floor(Date.now() / 1000))) await mine(time)
        } catch {}
      }
    })()
    cleanups.push(async () => {
      heartbeat.abort()
      await heartbeatLoop
    })

    // ── simulated sensors for sensor-log (they post once the nodes' APIs are up) ──
    const sensorTask = tasks.find((task) => task.name === 'sensor-log')
    let fleet: DeviceFleet | undefined
    if (sensorTask) {
      fleet = startDeviceFleet({ task: sensorTask, nodes, count: DEVNET_DEVICES, log })
      cleanups.push(() => fleet!.stop())
      log(`devices   ${DEVNET_DEVICES} sensors (ed25519 and secp256k1) post a signed reading to every node each round (task ${sensorTask.taskId})`)
    }

    // ── progress ──
    const progress: Progress = createProgress({
      view,
      tasks,
      nodes,
      log,
      startedAt,
      ...(fleet && sensorTask ? { payloads: (taskId: bigint, cycle: bigint) => (taskId === sensorTask.taskId ? fleet!.counts(cycle) : undefined) } : {}),
    })
    cleanups.push(async () => progress.stop())

    // ── nodes: node-1 first, the others bootstrap to it ──
    const restarts = new Map<string, number>()
    const maxRestarts = options.maxRestarts ?? 3
    for (const node of nodes) {
      node.process.onExit = (info: ExitInfo) => {
        if (info.expected || stopped) return
        const count = (restarts.get(node.name) ?? 0) + 1
        restarts.set(node.name, count)
        const how = info.signal ? `signal ${info.signal}` : `code ${info.code}`
        log(`!! ${node.name} exited on its own (${how}); last log lines:\n${indent(node.process.logTail(12))}`)
        if (count <= maxRestarts) {
          log(`!! restarting ${node.name} (${count}/${maxRestarts}) with the same data dir`)
          setTimeout(() => {
            if (!stopped && !node.process.running) node.start()
          }, 1_000).unref()
        }
      }
    }
    nodes[0]!.start()
    const first = await waitForMultiaddr(nodes[0]!, view, 60_000, options.signal)
    if (first) {
      for (const node of nodes.slice(1)) {
        const config = JSON.parse(readFileSync(node.configFile, 'utf8')) as ReturnType<typeof configFor>
        config.p2p.bootstrap = [first]
        writeFileSync(node.configFile, `${JSON.stringify(config, null, 2)}\n`)
      }
    } else log('!! node-1 did not publish a multiaddr in time; the others start without a bootstrap peer (they find each other on-chain)')
    for (const node of nodes.slice(1)) node.start()
    log(
      `nodes     ${nodes.map((node) => `${node.name}${node.behaviour === 'cheater' ? ` (cheats from round ${node.cheatFromRound})` : ''}`).join(', ')}; logs in ${join(dataDir, 'nodes')}`,
    )

    const finalizedRounds = () => {
      let min = Infinity
      for (const task of tasks) {
        const rounds = view.rounds(task.taskId, { limit: 10_000 })
        min = Math.min(min, rounds.filter((round) => round.distribution.status === 'final').length)
      }
      return min === Infinity ? 0 : min
    }

    const devnet: Devnet = {
      dataDir,
      deploymentFile,
      deployment,
      rpcUrl: anvil.rpcUrl,
      dashboardUrl: deployment.dashboardUrl,
      siteUrl: site.url,
      anvil,
      view,
      tasks,
      nodes,
      creator,
      startedAt,
      finalizedRounds,
      async waitForFinalized(count, waitOptions = {}) {
        const roundMs = Number(timing.roundLength) * 1000
        const timeoutMs = waitOptions.timeoutMs ?? (count + 8) * roundMs + 60_000
        const deadline = Date.now() + timeoutMs
        const signal = waitOptions.signal ?? options.signal
        while (finalizedRounds() < count) {
          if (signal?.aborted) throw new CliError('interrupted', { code: 'INTERRUPTED', exitCode: 130 })
          if (Date.now() > deadline) {
            throw new CliError(`only ${finalizedRounds()} of ${count} rounds finalized within ${Math.round(timeoutMs / 1000)} s`, {
              code: 'DEVNET',
              exitCode: 1,
              hint: `the node logs are in ${join(dataDir, 'nodes')} (rerun with --keep to keep them); last lines:\n${nodes
                .map((node) => `  ${node.name}${node.process.running ? '' : ' (not running)'}:\n${indent(node.process.logTail(6), '    ')}`)
                .join('\n')}`,
            })
          }
          await sleep(500, signal)
        }
      },
      async waitForClaims(claimOptions = {}) {
        const deadline = Date.now() + (claimOptions.timeoutMs ?? 6_000)
        const settled = () =>
          tasks.every((task) =>
            view
              .rounds(task.taskId, { limit: 10_000 })
              .filter((round) => round.distribution.status === 'final')
              .every((round) => round.distribution.rewardClaimed >= round.distribution.rewardTotal && round.distribution.bonusClaimed >= round.distribution.bonusTotal),
          )
        while (!settled()) {
          if (Date.now() > deadline || options.signal?.aborted) return false
          await sleep(250, options.signal)
        }
        return true
      },
      stopProgress: () => progress.stop(),
      async summary(summaryOptions = {}) {
        await view.sync().catch(() => {})
        const claimed = new Map<string, number[]>()
        try {
          const logs = await creator.getContractEvents({ address: addresses.taskManager, abi: taskManagerAbi, eventName: 'RewardClaimed', fromBlock: deployBlock })
          for (const entry of logs) {
            const key = `${entry.args.taskId}:${String(entry.args.node).toLowerCase()}`
            claimed.set(key, [...(claimed.get(key) ?? []), Number(entry.args.cycle)].sort((a, b) => a - b))
          }
        } catch {}
        return buildSummary({
          claimed,
          view,
          tasks,
          nodes,
          restarts,
          requestedRounds: summaryOptions.requestedRounds,
          finalizedRounds: finalizedRounds(),
          startedAt,
          rpcUrl: anvil.rpcUrl,
          dashboardUrl: deployment.dashboardUrl,
          dataDir: ownDataDir && !options.keep ? undefined : dataDir,
        })
      },
      async stop(stopOptions = {}) {
        if (stopped) return
        stopped = true
        progress.stop()
        await Promise.all(nodes.map((node) => node.process.stop(stopOptions.graceMs ?? 10_000)))
        await abortCleanup()
      },
    }
    return devnet
  } catch (error) {
    stopped = true
    await abortCleanup()
    throw error
  }
}

function indent(text: string, prefix = '   '): string {
  return text
    .split('\n')
    .map((line) => `${prefix}${line}`)
    .join('\n')
}

/** Waits until a node's p2p multiaddr is known: from its API (/api/status) or its on-chain registration. */
async function waitForMultiaddr(node: DevnetNode, view: ChainView, timeoutMs: number, signal?: AbortSignal): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline && !signal?.aborted) {
    if (!node.process.running && node.process.exits.length > 0) return undefined
    const url = node.httpUrl()
    if (url) {
      try {
        const response = await fetch(`${url}/api/status`, { signal: AbortSignal.timeout(2_000) })
        if (response.ok) {
          const status = (await response.json()) as { multiaddrs?: string[] }
          const multiaddr = status.multiaddrs?.find((address) => address.includes('/p2p/'))
          if (multiaddr) return multiaddr
        }
      } catch {}
    }
    const registered = view.p2pAddress(node.address)
    if (registered) return registered
    await sleep(250, signal)
  }
  return undefined
}

/**
 * Runs a devnet to completion: start, wait for `rounds` finalized rounds (or the signal), stop the
 * nodes, build the summary, stop everything. Throws a CliError (with diagnostics) on failure.
 */
export async function runDevnet(options: DevnetOptions & { onStarted?: (devnet: Devnet) => void | Promise<void> }): Promise<DevnetSummary> {
  const devnet = await startDevnet(options)
  let failure: unknown
  try {
    await options.onStarted?.(devnet)
    if (options.rounds !== undefined) {
      await devnet.waitForFinalized(options.rounds)
      // Nodes claim as soon as a list is final; give the last claims a moment to land.
      await devnet.waitForClaims({ timeoutMs: 6_000 })
    } else {
      await new Promise<void>((resolveWait) => {
        if (options.signal?.aborted) return resolveWait()
        options.signal?.addEventListener('abort', () => resolveWait(), { once: true })
      })
    }
  } catch (error) {
    failure = error
  }
  // Stop the nodes first so the summary is their final state, then read it before anvil goes.
  devnet.stopProgress()
  options.log?.('stopping  nodes (SIGTERM, SIGKILL after 10 s)…')
  await Promise.all(devnet.nodes.map((node) => node.process.stop(10_000)))
  let summary: DevnetSummary | undefined
  try {
    summary = await devnet.summary({ requestedRounds: options.rounds })
  } catch (error) {
    failure ??= error
  }
  await devnet.stop()
  options.log?.('stopped   nodes, API, site and anvil')
  // Ctrl-C is how a devnet without --rounds ends (exit 0); with --rounds it means "interrupted".
  const interrupted = options.signal?.aborted ?? false
  if (failure !== undefined && !interrupted) throw failure
  if (!summary) throw failure
  return interrupted && options.rounds !== undefined ? { ...summary, interrupted: true } : summary
}
