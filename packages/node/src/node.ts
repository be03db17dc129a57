// startNode: one Coop node — state, chain client, p2p host, API, and a round loop per task.
import { EventEmitter } from 'node:events'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import type { TaskParams } from '@coop/chain'
import { createCoopHost, type CoopHost } from '@coop/p2p'
import { createContentStore, rawCid, startSandbox, type AuditVerdict, type ContentStore, type TaskRuntime } from '@coop/sdk'
import type { Address } from 'viem'
import type { Registry } from 'prom-client'

import { createNodeChain, type NodeChain } from './chain/client.ts'
import { intentEffectDone } from './chain/effects.ts'
import { EventScanner, type TaskManagerLog } from './chain/scanner.ts'
import { TxSender } from './chain/tx.ts'
import { validateConfig, DEFAULT_POLL_INTERVAL_MS, type NodeConfig, type TaskConfig } from './config.ts'
import { NodeError, errorMessage } from './errors.ts'
import { createLogger, type Logger } from './logger.ts'
import { createMetrics, type NodeMetrics } from './metrics.ts'
import { PeerDirectory } from './p2p/peers.ts'
import { PROTOCOLS, registerProtocols, roundsTopic } from './p2p/protocols.ts'
import { emit, jsonSafe, requestNode, same, sleep, roundInfo, type NodeServices, type TaskEnv } from './roles/env.ts'
import { createSandboxHost } from './runtime/host.ts'
import { loadProgram, retryUntil, cidFromDigest } from './runtime/program.ts'
import type { SchedulerParams } from './scheduler/phases.ts'
import { DeviceIngest } from './scale/ingest.ts'
import { createReceiptSigner } from './scale/receipt-signer.ts'
import { leafService } from './scale/leaf-protocol.ts'
import { RoundStore } from './scale/round-store.ts'
import { ScaleService } from './scale/service.ts'
import { SubmissionBatcher } from './scale/batcher.ts'
import type { StoredHead } from './scale/scale-state.ts'
import type { DeviceService } from './api/devices.ts'
import { openState, type NodeStore } from './state/store.ts'
import { TaskRunner } from './task-runner.ts'
import { ensureStake } from './roles/staker.ts'

export type NodeTask = {
  taskId: bigint
  params: TaskParams
  startTime: bigint
  /** CIDv1 of the task program. */
  programCid: string
  status: 'starting' | 'running' | 'failed'
  error?: string
  runtime: TaskRuntime | null
  runner: TaskRunner | null
}

export type RewardEntry = { cycle: bigint; reward: bigint; bonus: bigint; claimed: boolean }

export interface CoopNode {
  readonly name: string
  readonly address: Address
  readonly peerId: string
  multiaddrs(): string[]
  readonly config: NodeConfig
  /** Durable state (SQLite). */
  readonly state: NodeStore
  /** Chain access: client (viem + Coop actions), addresses, chain id, `now()`. */
  readonly chain: NodeChain
  readonly host: CoopHost
  readonly content: ContentStore
  /** SCALE round DAGs this node holds (own and replicas). */
  readonly rounds: RoundStore
  /** Device payload ingest (SCALE ingest tasks) and leaf proofs, served by the API (api/devices.ts). */
  readonly ingest: DeviceIngest
  readonly devices: DeviceService
  /** The final SCALE heads this node keeps (its history; GET /api/tasks/:id/heads). */
  readonly heads: {
    list(taskId: string, options?: { fromCycle?: number; limit?: number }): StoredHead[]
    get(taskId: string, cycle: number): StoredHead | undefined
  }
  /** Tasks this node runs, keyed by decimal task id. */
  readonly tasks: Map<string, NodeTask>
  /** prom-client registry (served at /metrics). */
  readonly metrics: Registry
  readonly counters: NodeMetrics
  /** Emits 'event' (and the event's type) with `{ type, taskId, cycle, … }` (WS objects, bigints as strings). */
  readonly events: EventEmitter
  readonly logger: Logger
  /** The API, once listening. */
  readonly api: { url: string; port: number } | undefined
  /** This node's entitlements per cycle (from the distribution lists it holds) and whether claimed. */
  rewards(taskId: bigint): RewardEntry[]
  /** Runs one scheduler pass now (the loop does this every pollIntervalMs). */
  tick(): Promise<void>
  /** Resolves when every configured task has started (or failed to). */
  ready(): Promise<void>
  stop(): Promise<void>
}

export type StartNodeOptions = {
  /** Logs go here instead of stdout (tests). */
  logDestination?: { write(line: string): void }
  /** Start the HTTP API (default true). */
  api?: boolean
}

export async function startNode(input: NodeConfig, options: StartNodeOptions = {}): Promise<CoopNode> {
  const config = validateConfig(input)
  mkdirSync(config.dataDir, { recursive: true })
  const logger = createLogger({ name: config.name, level: config.logLevel ?? 'info', ...(options.logDestination ? { destination: options.logDestination } : {}) })
  const cleanups: (() => Promise<void> | void)[] = []
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn()
      } catch (error) {
        logger.warn({ err: errorMessage(error) }, 'cleanup step failed')
      }
    }
  }
  try {
    return await start(config, logger, cleanups, cleanup, options)
  } catch (error) {
    await cleanup()
    throw error
  }
}

async function start(
  config: NodeConfig,
  logger: Logger,
  cleanups: (() => Promise<void> | void)[],
  cleanup: () => Promise<void>,
  options: StartNodeOptions,
): Promise<CoopNode> {
  const abort = new AbortController()
  const store = openState(join(config.dataDir, 'state.sqlite'))
  cleanups.push(() => store.close())
  const events = new EventEmitter()
  events.setMaxListeners(1_000)
  let host: CoopHost | undefined
  const metrics = createMetrics({ name: config.name, p2pDropped: () => (host ? host.stats().dropped : {}) })
  const onRpcError = () => metrics.rpcErrors.inc()

  const chain = await createNodeChain({
    rpcUrl: config.rpcUrl,
    privateKey: config.privateKey,
    addresses: { taskManager: config.taskManager, taskLens: config.taskLens },
    onRpcError,
  })
  const address = chain.account.address
  logger.info({ address, chainId: chain.chainId, rpcUrl: config.rpcUrl, dataDir: config.dataDir }, 'starting node')

  const content = createContentStore(join(config.dataDir, 'content'))
  host = await startHost(config, store, logger)
  const p2p = host
  cleanups.push(() => p2p.stop())

  const sender = new TxSender(
    chain,
    store,
    logger,
    {
      onSettled: (intent) => metrics.transactions.inc({ kind: intent.kind, status: intent.status }),
      onRpcError,
    },
    (intent) => intentEffectDone(chain, intent),
  )

  // ── crash recovery: settle every intent left pending or sent before anything else ──
  await reconcileAll(store, sender, logger)

  const peers = new PeerDirectory(chain, p2p, logger)
  const rounds = new RoundStore({ state: store, content, self: address })
  // Receipts: EIP-191 with @noble/curves on the main thread (bench/scale-ingest.ts compares the worker variant).
  const receiptSigner = createReceiptSigner(config.privateKey)
  cleanups.push(() => receiptSigner.close())
  const ingest = new DeviceIngest({ rounds, signer: receiptSigner, now: () => chain.now(), logger: logger.child({ component: 'ingest' }) })
  const services: NodeServices = {
    name: config.name,
    address,
    config,
    chain,
    store,
    sender,
    host: p2p,
    content,
    rounds,
    ingest,
    peers,
    metrics,
    events,
    logger,
    signal: abort.signal,
  }
  const tasks = new Map<string, NodeTask>()

  registerProtocols({
    host: p2p,
    store,
    content,
    hasTask: (taskId) => tasks.has(taskId),
    route: async (taskId, request) => {
      const runtime = tasks.get(taskId)?.runtime
      if (!runtime) throw new Error(`task ${taskId} is not running here`)
      return runtime.call('route', request)
    },
  })
  leafService()({ host: p2p, rounds, hasTask: (taskId) => tasks.has(taskId), logger: logger.child({ component: 'scale-leaf' }) }).start() // /coop/scale/leaf/1
  const scale = new ScaleService(services, (taskId) => tasks.has(taskId)) // /coop/scale/head/1, /coop/scale/replica/1, /coop/scale/blocks/1
  services.scale = scale
  // /coop/scale/batch/1: any node takes signed submissions and posts them as batches.
  const batcher = new SubmissionBatcher(services, (taskId) => tasks.get(taskId)?.runner?.env)
  batcher.start()
  services.batcher = batcher
  for (const multiaddr of config.p2p.bootstrap) void peers.dial(multiaddr)

  await ensureRegistered(services)

  // ── chain events → state, peers, WS events ──
  const scanner = new EventScanner(chain, store, logger, (log) => onChainEvent(services, log), {
    ...(config.startBlock ? { startBlock: BigInt(config.startBlock) } : {}),
    onRpcError,
  })

  // ── tasks: stake, program, sandbox, runner (in the background: a program may come from peers) ──
  const taskStarts = config.tasks.map((taskConfig) => startTask(services, tasks, taskConfig).catch(() => undefined))

  // ── the loop ──
  const pollIntervalMs = config.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS
  let tickRunning: Promise<void> | undefined
  const tick = () => {
    tickRunning ??= (async () => {
      try {
        await scanner.poll()
      } catch (error) {
        logger.warn({ err: errorMessage(error) }, 'event scan failed')
      }
      await reconcileStale(store, sender, logger)
      for (const task of tasks.values()) {
        if (!task.runner) continue
        try {
          await task.runner.tick()
        } catch (error) {
          const code = (error as { code?: unknown } | null)?.code
          if (code === 'RPC_UNAVAILABLE' || code === 'RPC_ERROR') metrics.rpcErrors.inc()
          logger.warn({ taskId: task.taskId, err: errorMessage(error) }, 'scheduler tick failed')
        }
      }
    })().finally(() => (tickRunning = undefined))
    return tickRunning
  }
  const loop = (async () => {
    while (!abort.signal.aborted) {
      const started = Date.now()
      await tick()
      await sleep(Math.max(10, pollIntervalMs - (Date.now() - started)), abort.signal)
    }
  })()

  // ── API (HTTP + WS + /metrics); guarded: the node runs without it if the module is absent ──
  let api: CoopNode['api']
  const node: CoopNode = {
    name: config.name,
    address,
    peerId: p2p.peerId,
    multiaddrs: () => p2p.multiaddrs(),
    config,
    state: store,
    chain,
    host: p2p,
    content,
    rounds,
    ingest,
    devices: {
      ...deviceService(ingest, rounds, store),
      head: (taskId, cycle) => {
        const head = scale.state.getHead(taskId, cycle)
        return head?.status === 'final' ? { digest: head.digest, bytes: head.bytes } : undefined
      },
    },
    heads: {
      list: (taskId, options) => scale.state.finalHeads(taskId, options),
      get: (taskId, cycle) => {
        const head = scale.state.getHead(taskId, cycle)
        return head?.status === 'final' ? head : undefined
      },
    },
    tasks,
    metrics: metrics.registry,
    counters: metrics,
    events,
    logger,
    get api() {
      return api
    },
    rewards: (taskId) => rewardsOf(store, taskId, address),
    tick,
    ready: async () => {
      await Promise.all(taskStarts)
    },
    stop: async () => {
      if (abort.signal.aborted) return
      logger.info('stopping node')
      abort.abort()
      await loop
      await tickRunning
      await Promise.all([...tasks.values()].map((task) => task.runner?.drain(5_000)))
      await Promise.all([...tasks.values()].map((task) => task.runtime?.stop().catch(() => undefined)))
      await cleanup()
      logger.info('node stopped')
    },
  }
  cleanups.push(async () => {
    abort.abort()
    await loop
  })

  if (options.api !== false) {
    const started = await startApi(node, services).catch((error: unknown) => {
      if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') {
        logger.warn({ err: errorMessage(error) }, 'API module not available; running without HTTP API')
        return undefined
      }
      throw error
    })
    if (started) {
      api = { url: started.url, port: started.port }
      cleanups.push(() => started.close())
      writeFileSync(join(config.dataDir, 'http.port'), String(started.port))
      logger.info({ url: started.url }, 'API listening')
    }
  }
  logger.info({ peerId: p2p.peerId, multiaddrs: p2p.multiaddrs(), tasks: config.tasks.map((task) => task.taskId) }, 'node started')
  return node
}

/**
 * The p2p host. With a random port (tcp/0) the port of the last run is tried first, so a
 * restarted node keeps its registered multiaddr (no new registerNode transaction, no stale
 * address in peers' caches).
 */
async function startHost(config: NodeConfig, store: NodeStore, logger: Logger): Promise<CoopHost> {
  const options = {
    privateKey: config.privateKey,
    dataDir: join(config.dataDir, 'p2p'),
    bootstrap: config.p2p.bootstrap,
    logger: logger.child({ component: 'p2p' }),
  }
  const key = JSON.stringify(config.p2p.listen)
  let previous: string[] | undefined
  try {
    const saved = JSON.parse(store.getMeta('p2p.listen') ?? 'null') as { config: string; actual: string[] } | null
    if (saved && saved.config === key && saved.actual.length > 0 && config.p2p.listen.some((addr) => /\/tcp\/0(\/|$)/.test(addr))) previous = saved.actual
  } catch {}
  let host: CoopHost
  if (previous) {
    try {
      host = await createCoopHost({ ...options, listen: previous })
    } catch (error) {
      logger.info({ listen: previous, err: errorMessage(error) }, 'the last p2p address is taken; listening anew')
      host = await createCoopHost({ ...options, listen: config.p2p.listen })
    }
  } else host = await createCoopHost({ ...options, listen: config.p2p.listen })
  const actual = host.multiaddrs().map((addr) => addr.replace(/\/p2p\/[^/]+$/, ''))
  store.setMeta('p2p.listen', JSON.stringify({ config: key, actual }))
  return host
}

async function startApi(node: CoopNode, services: NodeServices): Promise<{ url: string; port: number; close(): Promise<void> } | undefined> {
  const apiModule = './api/index.ts'
  const api = (await import(apiModule)) as typeof import('./api/index.ts')
  const view = api.createChainView({
    client: services.chain.client,
    addresses: services.chain.addresses,
    taskIds: [...node.config.tasks.map((task) => BigInt(task.taskId))],
    names: { [services.address]: node.name },
    // Phases at max(block time, wall clock), as the scheduler sees them (a devnet mines only on transactions).
    wallClock: true,
    ...(node.config.startBlock ? { fromBlock: BigInt(node.config.startBlock) } : {}),
    logger: services.logger.child({ component: 'view' }),
  })
  await view.start()
  try {
    const server = await api.createApiServer({
      view,
      node: node as never,
      host: node.config.http.host,
      port: node.config.http.port,
      logger: services.logger.child({ component: 'api' }),
    })
    return {
      url: server.url,
      port: server.port,
      close: async () => {
        await server.close()
        await view.stop()
      },
    }
  } catch (error) {
    await view.stop()
    throw error
  }
}

/** Before acting: every pending/sent intent is settled against the chain. */
async function reconcileAll(store: NodeStore, sender: TxSender, logger: Logger): Promise<void> {
  const open = store.listIntents({ status: ['pending', 'sent'] })
  if (open.length === 0) return
  logger.info({ intents: open.length }, 'reconciling intents left open by the last run')
  for (const intent of open) {
    const { intent: settled } = await sender.reconcile(intent)
    logger.info({ kind: settled.kind, taskId: settled.taskId, cycle: settled.cycle, key: settled.key, from: intent.status, to: settled.status }, 'intent reconciled')
  }
}

/** 'sent' intents whose receipt never came (timeout, RPC outage) are followed up every 30 s. */
async function reconcileStale(store: NodeStore, sender: TxSender, logger: Logger): Promise<void> {
  const stale = store.listIntents({ status: ['sent'] }).filter((intent) => Date.now() - intent.updatedAt > 30_000)
  for (const intent of stale) {
    try {
      await sender.reconcile(intent)
    } catch (error) {
      logger.warn({ kind: intent.kind, err: errorMessage(error) }, 'reconcile failed')
    }
  }
}

async function ensureRegistered(services: NodeServices): Promise<void> {
  const multiaddr = services.host.multiaddrs()[0]
  if (!multiaddr) throw new NodeError('TX_FAILED', 'the p2p host has no listen address to register')
  const current = await services.chain.coop.getP2pAddress({ node: services.address })
  if (current === multiaddr) return
  const outcome = await services.sender.execute(
    { kind: 'register', taskId: '*', cycle: -1, key: multiaddr },
    { p2pAddress: multiaddr },
    { functionName: 'registerNode', args: [multiaddr] },
  )
  if (outcome.intent.status !== 'confirmed' && outcome.intent.status !== 'skipped') {
    throw new NodeError('TX_FAILED', 'registerNode failed', { details: outcome.intent.error ?? '' })
  }
  services.logger.info({ multiaddr }, 'registered p2p address')
}

async function fetchBlock(services: NodeServices, cid: string): Promise<Uint8Array | undefined> {
  const candidates = [...new Set([...services.config.p2p.bootstrap, ...services.peers.known()])]
  for (const multiaddr of candidates) {
    try {
      const message = await services.host.request(multiaddr, PROTOCOLS.block, { cid }, { timeoutMs: 5_000 })
      const bytes = (message.body as { bytes?: unknown } | null)?.bytes
      if (bytes instanceof Uint8Array && rawCid(bytes) === cid) return bytes
    } catch (error) {
      services.logger.debug({ multiaddr, cid, err: errorMessage(error) }, 'block request failed')
    }
  }
  return undefined
}

async function startTask(services: NodeServices, tasks: Map<string, NodeTask>, taskConfig: TaskConfig): Promise<void> {
  const { chain, logger: nodeLogger } = services
  const taskId = BigInt(taskConfig.taskId)
  const id = taskId.toString()
  const logger = nodeLogger.child({ taskId: id })
  let task: NodeTask | undefined
  try {
    const onChain = await retryUntil(() => chain.coop.getTask({ taskId }), { signal: services.signal, logger, what: `reading task ${id}` })
    const params = onChain.params as TaskParams
    task = {
      taskId,
      params,
      startTime: onChain.startTime,
      programCid: cidFromDigest(params.programCid),
      status: 'starting',
      runtime: null,
      runner: null,
    }
    tasks.set(id, task)
    await retryUntil(() => ensureStake(services, taskId, params, taskConfig), { signal: services.signal, logger, what: 'staking', maxDelayMs: 10_000 })
    const program = await retryUntil(
      () =>
        loadProgram({
          taskId: id,
          programCid: params.programCid,
          ...(taskConfig.program ? { bundlePath: taskConfig.program } : {}),
          content: services.content,
          dir: join(services.config.dataDir, 'tasks', id),
          fetchBlock: (cid) => fetchBlock(services, cid),
          logger,
        }),
      { signal: services.signal, logger, what: 'loading the task program' },
    )
    const behaviour = services.config.behaviour ?? { mode: 'honest' as const }
    const runtime = await startSandbox({
      programPath: program.path,
      dataDir: join(services.config.dataDir, 'tasks', id, 'sandbox'),
      host: createSandboxHost({
        taskId: id,
        account: chain.account,
        behaviour,
        config: taskConfig.config ?? {},
        store: services.store,
        content: services.content,
        request: async (node, path, body) => {
          const message = await requestNode(services, node, PROTOCOLS.route, { taskId: id, path, body: body ?? null }, 10_000)
          return (message.body as { result?: unknown } | null)?.result
        },
        logger: logger.child({ component: 'program' }),
      }),
      onOutput: (stream, text) => logger.debug({ stream, text: text.slice(0, 2_000) }, 'program output'),
    })
    if (services.signal.aborted) {
      await runtime.stop()
      return
    }
    task.runtime = runtime
    const ingestSettings = runtime.scale?.ingest
    if (ingestSettings) {
      services.ingest.addTask({
        taskId: id,
        startTime: onChain.startTime,
        roundLength: params.roundLength,
        maxPayloadBytes: ingestSettings.maxPayloadBytes,
        ...(ingestSettings.accept ? { accept: (payload, round) => runtime.call('ingestAccept', payload, round) as Promise<AuditVerdict> } : {}),
      })
    }
    const scheduler: SchedulerParams = {
      roundLength: params.roundLength,
      submissionWindow: params.submissionWindow,
      auditWindow: params.auditWindow,
      distributionWindow: params.distributionWindow,
      voteWindow: params.voteWindow,
      distributionAuditWindow: params.distributionAuditWindow,
      maxDistributionAttempts: BigInt(params.maxDistributionAttempts),
      votersBps: BigInt(params.votersBps),
    }
    const env: TaskEnv = { node: services, taskId, id, params, startTime: onChain.startTime, scheduler, runtime, logger }
    if (runtime.hasSetup) {
      const now = await chain.now()
      const round = now > onChain.startTime ? (now - onChain.startTime) / params.roundLength : 0n
      await runtime.call('setup', roundInfo(env, round, round))
    }
    services.host.subscribe(roundsTopic(id), (message) => {
      logger.debug({ from: message.from, body: jsonSafe(message.body) }, 'round announcement')
      if (!same(message.from, services.address)) void services.peers.discover(message.from)
    })
    task.runner = new TaskRunner(env)
    task.status = 'running'
    logger.info({ program: program.cid, name: runtime.name, startTime: onChain.startTime, roundLength: params.roundLength }, 'task running')
  } catch (error) {
    if (services.signal.aborted) return
    if (task) {
      task.status = 'failed'
      task.error = errorMessage(error)
    }
    logger.error({ err: errorMessage(error) }, 'task could not start')
    throw error
  }
}

function onChainEvent(services: NodeServices, log: TaskManagerLog): void {
  const { store, peers, metrics, address } = services
  const args = log.args as Record<string, unknown>
  const blockNumber = Number(log.blockNumber ?? 0n)
  // The configured tasks, whether or not they have started yet: an audit raised while a task's
  // program is still loading must not be skipped (the scan position moves on).
  const ours = (taskId: unknown) => typeof taskId === 'bigint' && services.config.tasks.some((task) => task.taskId === taskId.toString())
  switch (log.eventName) {
    case 'NodeRegistered':
      if (!same(args.node as string, address)) peers.learn(args.node as Address, args.p2pAddress as string)
      return
    case 'Submitted':
      if (!ours(args.taskId)) return
      void peers.discover(args.node as Address)
      emit(services, { type: 'submission', taskId: String(args.taskId), cycle: String(args.cycle), node: args.node, root: args.root, weight: args.weight, blockNumber })
      return
    case 'AuditRaised': {
      if (!ours(args.taskId)) return
      const kind = Number(args.kind) === 1 ? 'distribution' : 'submission'
      store.upsertAudit({
        auditId: String(args.auditId),
        taskId: String(args.taskId),
        cycle: Number(args.cycle),
        kind,
        accused: args.accused as string,
        accuser: args.accuser as string,
        evidenceCid: args.evidenceCid as string,
        deadline: Number(args.deadline),
        blockNumber,
      })
      emit(services, {
        type: 'audit',
        taskId: String(args.taskId),
        cycle: String(args.cycle),
        status: 'raised',
        auditId: args.auditId,
        kind,
        accused: args.accused,
        accuser: args.accuser,
        evidenceCid: args.evidenceCid,
        deadline: args.deadline,
      })
      return
    }
    case 'VoteCast': {
      const audit = store.getAudit(String(args.auditId))
      if (!audit) return
      emit(services, { type: 'vote', taskId: audit.taskId, cycle: String(audit.cycle), auditId: args.auditId, voter: args.voter, side: Number(args.side) === 1 ? 'uphold' : 'reject', weight: args.weight })
      return
    }
    case 'AuditResolved': {
      const audit = store.getAudit(String(args.auditId))
      if (!audit) return
      store.markAuditResolved(audit.auditId, Boolean(args.upheld))
      emit(services, {
        type: 'audit',
        taskId: audit.taskId,
        cycle: String(audit.cycle),
        status: 'resolved',
        auditId: args.auditId,
        upheld: args.upheld,
        upholdWeight: args.upholdWeight,
        rejectWeight: args.rejectWeight,
      })
      return
    }
    case 'Slashed': {
      if (!ours(args.taskId)) return
      const audit = store.getAudit(String(args.auditId))
      const self = same(args.node as string, address)
      metrics.slashes.inc({ task: String(args.taskId), self: String(self) })
      if (self) services.logger.warn({ taskId: args.taskId, amount: args.amount, auditId: args.auditId }, 'this node was slashed')
      emit(services, { type: 'slash', taskId: String(args.taskId), cycle: String(audit?.cycle ?? ''), node: args.node, amount: args.amount, auditId: args.auditId })
      return
    }
    case 'DistributionPosted':
    case 'DistributionFinalized':
    case 'DistributionFailed':
    case 'DistributionRejected': {
      if (!ours(args.taskId)) return
      const status = { DistributionPosted: 'posted', DistributionFinalized: 'final', DistributionFailed: 'failed', DistributionRejected: 'rejected' }[log.eventName]
      emit(services, { type: 'distribution', taskId: String(args.taskId), cycle: String(args.cycle), status, ...jsonSafeArgs(args) })
      return
    }
    case 'RewardClaimed':
      if (!ours(args.taskId)) return
      emit(services, { type: 'claim', taskId: String(args.taskId), cycle: String(args.cycle), node: args.node, reward: args.reward, bonus: args.bonus })
      return
  }
}

/** The API's view of the node's device ingest and round store (api/devices.ts). */
function deviceService(ingest: DeviceIngest, rounds: RoundStore, store: NodeStore): DeviceService {
  return {
    maxPayloadBytes: (taskId) => ingest.task(taskId)?.maxPayloadBytes,
    ingest: (taskId, bytes) => ingest.ingest(taskId, bytes),
    proveLeaf: async (taskId, cycle, position, node) => ({ ...(await rounds.proveLeaf(taskId, cycle, position, node)), node: node ?? rounds.self }),
    submission: (taskId, cycle) => {
      const intent = store.getIntent({ kind: 'submit', taskId, cycle })
      const stored = store.getSubmission(taskId, cycle)
      if (!stored) return null
      return { digest: stored.root, status: intent?.status ?? 'pending', txHash: intent?.txHash ?? null }
    },
  }
}

function jsonSafeArgs(args: Record<string, unknown>): Record<string, unknown> {
  const { taskId: _taskId, cycle: _cycle, ...rest } = args
  return rest
}

function rewardsOf(store: NodeStore, taskId: bigint, address: Address): RewardEntry[] {
  const id = taskId.toString()
  const entries: RewardEntry[] = []
  const cycles = new Set<number>()
  for (const intent of store.listIntents({ taskId: id, kind: 'submit' })) cycles.add(intent.cycle)
  for (const cycle of [...cycles].sort((a, b) => a - b)) {
    const list = store.getList(id, cycle)
    if (!list) continue
    try {
      const doc = JSON.parse(list.listJson) as { entries: { node: string; reward: string; bonus: string }[] }
      const entry = doc.entries.find((item) => same(item.node, address))
      if (!entry) continue
      entries.push({ cycle: BigInt(cycle), reward: BigInt(entry.reward), bonus: BigInt(entry.bonus), claimed: store.hasStep(id, cycle, 'claimed') })
    } catch {}
  }
  return entries
}
