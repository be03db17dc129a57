// A chain-backed read model of one Coop deployment: follows TaskManager's events with getLogs over
// block ranges (polling), applies each event to an in-memory model, then refreshes what the events
// touched with contract reads at the same block (getTask, getNode, getCycle, getAudit, and TaskLens
// for sampling/auditors). It needs only a viem client and the addresses, so the devnet (which has
// no node of its own) and every node use the same view.
//
// Place keeping: `nextBlock` only advances after a block range's logs were applied, and applying
// is synchronous and cannot fail halfway, so an RPC failure anywhere means the range is fetched
// again later, never skipped and never applied twice. Reads that fail leave their entities dirty;
// they are retried on the next sync.
import {
  auditorsOf,
  auditProbabilityBps as lensAuditProbabilityBps,
  BatchDecodeError,
  batchEntries,
  decodeSubmitBatchInput,
  getAudit,
  getCycle,
  getNode,
  getSubmission,
  getTask,
  isSampled,
  taskManagerAbi,
  withRetry,
  type AnyClient,
  type BatchedEntry,
  type NodeState,
  type RetryOptions,
  type Task,
} from '@coop/chain'
import { auditorIndices, auditProbabilityBps, cyclePhases, isSampled as twinIsSampled, roundAt, roundStart } from '@coop/protocol'
import { erc20Abi, getAddress, zeroAddress, zeroHash, type Address, type Hex } from 'viem'
import { getBlock, getBlockNumber, getChainId, getContractEvents, getTransaction, readContract } from 'viem/actions'
import { Gauge, type Registry } from 'prom-client'

import type {
  AuditSummary,
  BatchSummary,
  CyclePhase,
  DistributionStatusName,
  Logger,
  NodeSummary,
  RoundSummary,
  SubmissionSummary,
  TaskSummary,
  TokenInfo,
  ViewEvent,
  ViewStatus,
} from './types.ts'

export type ChainViewOptions = {
  /** Any viem client (public or wallet) connected to the chain. */
  client: AnyClient
  addresses: { taskManager: Address; taskLens: Address }
  /** First block to index (the deployment block; default 0). */
  fromBlock?: bigint
  /** Polling interval once caught up (ms, default 1000). */
  pollIntervalMs?: number
  /** Upper bound of the backoff after failed syncs (ms, default 30 000). */
  maxBackoffMs?: number
  /** Blocks per eth_getLogs request (default 2000; halved automatically if the RPC refuses). */
  blockRange?: bigint
  /** Blocks to stay behind the head (default 0: anvil and L2s with instant finality). */
  confirmations?: bigint
  /** Only index these tasks (default: every task of the deployment). */
  taskIds?: bigint[]
  /** Display names of known nodes (the devnet names its nodes). */
  names?: Record<string, string> | ((address: Address) => string | undefined)
  /** Cycles kept in memory per task (default 256); counters survive pruning. */
  retainCycles?: number
  /**
   * Answer phases and rounds at max(latest block time, wall clock) instead of the block time alone
   * (default false). For a devnet whose anvil only mines on transactions, so that phases move on
   * in real time between blocks; leave it off when chain time is moved by hand (tests).
   */
  wallClock?: boolean
  /** Resolved audits kept in memory per task (default 1000). */
  retainAudits?: number
  /** Retry policy of each RPC request (defaults of @coop/chain's withRetry). */
  retry?: RetryOptions
  logger?: Logger
}

export type RoundsQuery = { limit?: number }

export interface ChainView {
  readonly addresses: { taskManager: Address; taskLens: Address }
  /** Catches up once (errors are logged, not thrown), then polls until stop(). */
  start(): Promise<void>
  stop(): Promise<void>
  /** Applies everything up to the current head now; concurrent calls share one pass. Throws on RPC failure. */
  sync(): Promise<bigint | null>
  status(): ViewStatus
  taskIds(): bigint[]
  tasks(): TaskSummary[]
  task(taskId: bigint): TaskSummary | undefined
  /** Newest cycle first, from the current work cycle down (default limit 20). */
  rounds(taskId: bigint, query?: RoundsQuery): RoundSummary[]
  nodes(taskId: bigint): NodeSummary[]
  /** Newest first. */
  audits(taskId: bigint): AuditSummary[]
  /** Registered p2p multiaddr of a node (NodeRegistered), if seen. */
  p2pAddress(node: Address): string | undefined
  /** Listener for every applied event; returns the unsubscribe function. */
  subscribe(listener: (event: ViewEvent) => void): () => void
  /** Registers the view's gauges (coop_view_*) in a prom-client registry. */
  registerMetrics(registry: Registry): void
}

type SubmissionRec = {
  node: Address
  root: Hex
  weight: bigint
  blockNumber: bigint
  /** Set for a batched submission (SubmissionsBatched, entries decoded from the calldata). */
  batch: { batchIndex: bigint; entry: BatchedEntry; materialized: boolean } | null
  sampled: boolean | null
  auditors: Address[]
  auditProbabilityBps: number | null
  convicted: boolean
}

type CycleRec = {
  cycle: bigint
  budget: bigint
  bonus: bigint
  seed: Hex | null
  openAudits: number
  status: DistributionStatusName
  attempt: number
  poster: Address | null
  merkleRoot: Hex | null
  listCid: Hex | null
  rewardTotal: bigint
  bonusTotal: bigint
  rewardClaimed: bigint
  bonusClaimed: bigint
  postedAt: bigint | null
  rejected: { attempt: number; poster: Address }[]
  submissions: Map<Address, SubmissionRec>
  /** Direct submitters in selection order (Cycle.submitters, from the last getCycle read). */
  directSubmitters: Address[]
  batches: Map<bigint, BatchRec>
  /** Nodes whose batched entry was materialized (SubmissionMaterialized), even before decoding. */
  materialized: Set<Address>
  audits: bigint[]
}

type BatchRec = {
  batchIndex: bigint
  entriesRoot: Hex
  count: number
  weightStart: bigint
  weightEnd: bigint
  weights: Hex
  transactionHash: Hex
  blockNumber: bigint
  /** pending: not read yet; decoded: entries known; undecodable: not a direct submitBatch call. */
  status: 'pending' | 'decoded' | 'undecodable'
}

type NodeRec = {
  address: Address
  state: NodeState | null
  submissions: number
  /** Of those, batched. */
  batched: number
  audited: number
  auditsAgainst: number
  auditsUpheld: number
  rewards: bigint
  bonus: bigint
  slashed: bigint
  convicted: boolean
  lastCycle: bigint | null
}

type TaskRec = {
  taskId: bigint
  chain: Task | null
  stakeToken: TokenInfo | null
  rewardToken: TokenInfo | null
  createdBlock: bigint
  lastRound: bigint | null
  nodes: Map<Address, NodeRec>
  cycles: Map<bigint, CycleRec>
}

type AuditRec = {
  auditId: bigint
  taskId: bigint | null
  kind: number
  cycle: bigint
  accused: Address
  accuser: Address
  evidenceCid: Hex
  deadline: bigint
  upholdWeight: bigint
  rejectWeight: bigint
  resolved: boolean
  upheld: boolean
  votes: Map<Address, { side: number; weight: bigint }>
  slashed: { node: Address; amount: bigint } | null
  shared: { winner: Address; toWinner: bigint; toVoters: bigint; toPool: bigint } | null
  raisedBlock: bigint
}

type DecodedLog = {
  eventName: string
  args: Record<string, unknown>
  blockNumber: bigint
  logIndex: number
  transactionHash: Hex
}

/** Direct submissions first (stable: submission order), then batched entries by position. */
function selectionOrder(x: SubmissionRec, y: SubmissionRec): number {
  if (!x.batch || !y.batch) return (x.batch ? 1 : 0) - (y.batch ? 1 : 0)
  return x.batch.entry.position < y.batch.entry.position ? -1 : x.batch.entry.position > y.batch.entry.position ? 1 : 0
}

const statusNames: DistributionStatusName[] = ['pending', 'posted', 'final', 'failed']
const noopLogger: Logger = { info() {}, warn() {}, error() {} }

/** Runs `fn` over `items` with at most `limit` in flight; rejects with the first error after all settle. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  let firstError: unknown
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T
      try {
        await fn(item)
      } catch (error) {
        firstError ??= error
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  if (firstError !== undefined) throw firstError
}

function errorInfo(error: unknown): { code: string; message: string } {
  const e = error as { code?: unknown; shortMessage?: unknown; message?: unknown } | null
  const code = typeof e?.code === 'string' ? e.code : 'UNKNOWN'
  const message = typeof e?.shortMessage === 'string' ? e.shortMessage : typeof e?.message === 'string' ? e.message : String(error)
  return { code, message: message.split('\n')[0] ?? message }
}

export function createChainView(options: ChainViewOptions): ChainView {
  const { client, addresses } = options
  const logger = options.logger ?? noopLogger
  const pollIntervalMs = options.pollIntervalMs ?? 1_000
  const maxBackoffMs = options.maxBackoffMs ?? 30_000
  const maxRange = options.blockRange ?? 2_000n
  const confirmations = options.confirmations ?? 0n
  const retainCycles = options.retainCycles ?? 256
  const retainAudits = options.retainAudits ?? 1_000
  const onlyTasks = options.taskIds ? new Set(options.taskIds) : null
  const nameOf = (address: Address): string | undefined => {
    const names = options.names
    if (!names) return undefined
    if (typeof names === 'function') return names(address)
    return names[address] ?? names[address.toLowerCase()]
  }

  let chainId: number | null = null
  let nextBlock = options.fromBlock ?? 0n
  /** Last block whose logs are applied (where the next getLogs starts from). */
  let lastBlock: bigint | null = null
  /** Last block whose logs are applied AND whose entity reads succeeded: what status() reports. */
  let readyBlock: bigint | null = null
  let headBlock: bigint | null = null
  let now: bigint | null = null
  let range = maxRange
  let rpcErrors = 0
  let lastError: ViewStatus['lastError'] = null
  let lastSyncAt: number | null = null
  let running = false
  let current: Promise<bigint | null> | null = null
  let timer: NodeJS.Timeout | undefined
  let loopDone: Promise<void> | null = null
  let failures = 0
  let eventsApplied = 0

  const tasks = new Map<bigint, TaskRec>()
  const audits = new Map<bigint, AuditRec>()
  const p2p = new Map<Address, string>()
  const listeners = new Set<(event: ViewEvent) => void>()
  let pending: ViewEvent[] = []

  const dirtyTasks = new Set<bigint>()
  const dirtyNodes = new Map<string, { taskId: bigint; node: Address }>()
  const dirtyCycles = new Map<string, { taskId: bigint; cycle: bigint }>()
  const dirtySamples = new Map<string, { taskId: bigint; cycle: bigint }>()
  const dirtySubmissions = new Map<string, { taskId: bigint; cycle: bigint; node: Address }>()
  const dirtyAudits = new Set<bigint>()
  const dirtyBatches = new Map<string, { taskId: bigint; cycle: bigint; batchIndex: bigint }>()

  const retry: RetryOptions = {
    ...options.retry,
    onRetry: (error, attempt, delayMs) => {
      rpcErrors++
      logger.debug?.({ err: errorInfo(error), attempt, delayMs }, 'chain view: RPC retry')
      options.retry?.onRetry?.(error, attempt, delayMs)
    },
  }
  const rpc = <T>(fn: () => Promise<T>) => withRetry(fn, retry)

  // ─── model helpers ───

  function taskRec(taskId: bigint, blockNumber?: bigint): TaskRec | null {
    if (onlyTasks && !onlyTasks.has(taskId)) return null
    let rec = tasks.get(taskId)
    if (!rec) {
      rec = {
        taskId,
        chain: null,
        stakeToken: null,
        rewardToken: null,
        createdBlock: blockNumber ?? 0n,
        lastRound: null,
        nodes: new Map(),
        cycles: new Map(),
      }
      tasks.set(taskId, rec)
      dirtyTasks.add(taskId)
    }
    return rec
  }

  function nodeRec(task: TaskRec, address: Address): NodeRec {
    let rec = task.nodes.get(address)
    if (!rec) {
      rec = {
        address,
        state: null,
        submissions: 0,
        batched: 0,
        audited: 0,
        auditsAgainst: 0,
        auditsUpheld: 0,
        rewards: 0n,
        bonus: 0n,
        slashed: 0n,
        convicted: false,
        lastCycle: null,
      }
      task.nodes.set(address, rec)
    }
    dirtyNodes.set(`${task.taskId}:${address}`, { taskId: task.taskId, node: address })
    return rec
  }

  function cycleRec(task: TaskRec, cycle: bigint): CycleRec {
    let rec = task.cycles.get(cycle)
    if (!rec) {
      rec = {
        cycle,
        budget: 0n,
        bonus: 0n,
        seed: null,
        openAudits: 0,
        status: 'pending',
        attempt: 0,
        poster: null,
        merkleRoot: null,
        listCid: null,
        rewardTotal: 0n,
        bonusTotal: 0n,
        rewardClaimed: 0n,
        bonusClaimed: 0n,
        postedAt: null,
        rejected: [],
        submissions: new Map(),
        directSubmitters: [],
        batches: new Map(),
        materialized: new Set(),
        audits: [],
      }
      task.cycles.set(cycle, rec)
    }
    dirtyCycles.set(`${task.taskId}:${cycle}`, { taskId: task.taskId, cycle })
    return rec
  }

  function auditRec(auditId: bigint): AuditRec {
    let rec = audits.get(auditId)
    if (!rec) {
      // Raised before fromBlock: the read fills it in.
      rec = {
        auditId,
        taskId: null,
        kind: 0,
        cycle: 0n,
        accused: zeroAddress,
        accuser: zeroAddress,
        evidenceCid: zeroHash,
        deadline: 0n,
        upholdWeight: 0n,
        rejectWeight: 0n,
        resolved: false,
        upheld: false,
        votes: new Map(),
        slashed: null,
        shared: null,
        raisedBlock: 0n,
      }
      audits.set(auditId, rec)
    }
    dirtyAudits.add(auditId)
    return rec
  }

  function queue(event: ViewEvent) {
    pending.push(event)
  }

  // ─── applying events (synchronous, never throws out) ───

  function apply(log: DecodedLog) {
    const a = log.args
    const block = log.blockNumber
    const base = { event: log.eventName, blockNumber: block }
    switch (log.eventName) {
      case 'TaskCreated': {
        const task = taskRec(a.taskId as bigint, block)
        if (!task) return
        task.createdBlock = block
        queue({ type: 'task', ...base, taskId: task.taskId, creator: a.creator })
        return
      }
      case 'BountyFunded':
      case 'TaskStopped':
      case 'BountyReturned': {
        const task = taskRec(a.taskId as bigint)
        if (!task) return
        dirtyTasks.add(task.taskId)
        queue({ type: 'task', ...base, taskId: task.taskId })
        return
      }
      case 'NodeRegistered': {
        const node = a.node as Address
        p2p.set(node, a.p2pAddress as string)
        queue({ type: 'node', ...base, node, p2p: a.p2pAddress })
        return
      }
      case 'Staked':
      case 'UnstakeRequested':
      case 'StakeWithdrawn': {
        const task = taskRec(a.taskId as bigint)
        if (!task) return
        nodeRec(task, a.node as Address)
        queue({ type: 'stake', ...base, taskId: task.taskId, node: a.node, amount: a.amount })
        return
      }
      case 'CycleOpened': {
        const task = taskRec(a.taskId as bigint)
        if (!task) return
        const cycle = cycleRec(task, a.cycle as bigint)
        cycle.budget = a.budget as bigint
        cycle.bonus = a.bonus as bigint
        dirtyTasks.add(task.taskId)
        queue({ type: 'round', ...base, taskId: task.taskId, cycle: cycle.cycle, budget: cycle.budget })
        return
      }
      case 'Submitted': {
        const task = taskRec(a.taskId as bigint)
        if (!task) return
        const cycle = cycleRec(task, a.cycle as bigint)
        const address = a.node as Address
        const node = nodeRec(task, address)
        if (!cycle.submissions.has(address)) {
          cycle.submissions.set(address, {
            node: address,
            root: a.root as Hex,
            weight: a.weight as bigint,
            blockNumber: block,
            batch: null,
            sampled: null,
            auditors: [],
            auditProbabilityBps: null,
            convicted: false,
          })
          node.submissions++
          if (node.lastCycle === null || cycle.cycle > node.lastCycle) node.lastCycle = cycle.cycle
        }
        if (cycle.seed) dirtySamples.set(`${task.taskId}:${cycle.cycle}`, { taskId: task.taskId, cycle: cycle.cycle })
        queue({ type: 'submission', ...base, taskId: task.taskId, cycle: cycle.cycle, node: address, root: a.root, via: 'direct' })
        return
      }
      case 'SubmissionsBatched': {
        // Nodes and roots are only in the calldata: refresh() reads the transaction and adds the
        // entries (and queues their 'submission' events) once decoded.
        const task = taskRec(a.taskId as bigint)
        if (!task) return
        const cycle = cycleRec(task, a.cycle as bigint)
        const batchIndex = a.batchIndex as bigint
        if (!cycle.batches.has(batchIndex)) {
          cycle.batches.set(batchIndex, {
            batchIndex,
            entriesRoot: a.entriesRoot as Hex,
            count: Number(a.count),
            weightStart: a.weightStart as bigint,
            weightEnd: a.weightEnd as bigint,
            weights: a.weights as Hex,
            transactionHash: log.transactionHash,
            blockNumber: block,
            status: 'pending',
          })
          dirtyBatches.set(`${task.taskId}:${cycle.cycle}:${batchIndex}`, { taskId: task.taskId, cycle: cycle.cycle, batchIndex })
        }
        return
      }
      case 'SubmissionMaterialized': {
        const task = taskRec(a.taskId as bigint)
        if (!task) return
        const cycle = cycleRec(task, a.cycle as bigint)
        const address = a.node as Address
        cycle.materialized.add(address)
        const submission = cycle.submissions.get(address)
        if (submission?.batch) submission.batch.materialized = true
        dirtySubmissions.set(`${task.taskId}:${cycle.cycle}:${address}`, { taskId: task.taskId, cycle: cycle.cycle, node: address })
        queue({ type: 'submission', ...base, taskId: task.taskId, cycle: cycle.cycle, node: address, via: 'batched', status: 'materialized', batchIndex: a.batchIndex })
        return
      }
      case 'SeedRecorded': {
        const task = taskRec(a.taskId as bigint)
        if (!task) return
        const cycle = cycleRec(task, a.cycle as bigint)
        cycle.seed = a.seed as Hex
        dirtySamples.set(`${task.taskId}:${cycle.cycle}`, { taskId: task.taskId, cycle: cycle.cycle })
        queue({ type: 'round', ...base, taskId: task.taskId, cycle: cycle.cycle, seed: cycle.seed })
        return
      }
      case 'ReputationUpdated': {
        const task = taskRec(a.taskId as bigint)
        if (!task) return
        nodeRec(task, a.node as Address)
        queue({
          type: 'reputation',
          ...base,
          taskId: task.taskId,
          node: a.node,
          passed: a.passed,
          failed: a.failed,
          score: a.score,
        })
        return
      }
      case 'PastRoundsReopened': {
        const task = taskRec(a.taskId as bigint)
        if (!task) return
        nodeRec(task, a.node as Address)
        queue({ type: 'reputation', ...base, taskId: task.taskId, node: a.node, reopenedUntil: a.until })
        return
      }
      case 'AuditRaised': {
        const task = taskRec(a.taskId as bigint)
        if (!task) return
        const audit = auditRec(a.auditId as bigint)
        audit.taskId = task.taskId
        audit.kind = Number(a.kind)
        audit.cycle = a.cycle as bigint
        audit.accused = a.accused as Address
        audit.accuser = a.accuser as Address
        audit.evidenceCid = a.evidenceCid as Hex
        audit.deadline = a.deadline as bigint
        audit.raisedBlock = block
        // The accuser's own vote (weight) arrives as VoteCast in the same transaction.
        const cycle = cycleRec(task, audit.cycle)
        if (!cycle.audits.includes(audit.auditId)) cycle.audits.push(audit.auditId)
        nodeRec(task, audit.accused).auditsAgainst++
        nodeRec(task, audit.accuser)
        queue({
          type: 'audit',
          ...base,
          taskId: task.taskId,
          cycle: audit.cycle,
          auditId: audit.auditId,
          kind: audit.kind === 1 ? 'distribution' : 'submission',
          accused: audit.accused,
          accuser: audit.accuser,
          status: 'raised',
        })
        return
      }
      case 'VoteCast': {
        const audit = audits.get(a.auditId as bigint) ?? auditRec(a.auditId as bigint)
        if (audit.taskId !== null && onlyTasks && !onlyTasks.has(audit.taskId)) return
        dirtyAudits.add(audit.auditId)
        const side = Number(a.side)
        const weight = a.weight as bigint
        if (!audit.votes.has(a.voter as Address)) {
          audit.votes.set(a.voter as Address, { side, weight })
          if (side === 1) audit.upholdWeight += weight
          else if (side === 2) audit.rejectWeight += weight
        }
        queue({
          type: 'vote',
          ...base,
          ...(audit.taskId === null ? {} : { taskId: audit.taskId, cycle: audit.cycle }),
          auditId: audit.auditId,
          voter: a.voter,
          side: side === 1 ? 'uphold' : 'reject',
          weight,
        })
        return
      }
      case 'AuditResolved': {
        const audit = audits.get(a.auditId as bigint) ?? auditRec(a.auditId as bigint)
        if (audit.taskId !== null && onlyTasks && !onlyTasks.has(audit.taskId)) return
        dirtyAudits.add(audit.auditId)
        const wasResolved = audit.resolved
        audit.resolved = true
        audit.upheld = a.upheld as boolean
        audit.upholdWeight = a.upholdWeight as bigint
        audit.rejectWeight = a.rejectWeight as bigint
        const task = audit.taskId === null ? null : taskRec(audit.taskId)
        if (task) {
          const accused = nodeRec(task, audit.accused)
          nodeRec(task, audit.accuser)
          if (audit.upheld && !wasResolved) {
            accused.auditsUpheld++
            accused.convicted = true
            if (audit.kind === 0) {
              const submission = task.cycles.get(audit.cycle)?.submissions.get(audit.accused)
              if (submission) submission.convicted = true
              dirtySubmissions.set(`${task.taskId}:${audit.cycle}:${audit.accused}`, {
                taskId: task.taskId,
                cycle: audit.cycle,
                node: audit.accused,
              })
            }
          }
          cycleRec(task, audit.cycle)
        }
        queue({
          type: 'audit',
          ...base,
          ...(audit.taskId === null ? {} : { taskId: audit.taskId, cycle: audit.cycle }),
          auditId: audit.auditId,
          status: audit.upheld ? 'upheld' : 'rejected',
          upheld: audit.upheld,
          accused: audit.accused,
          accuser: audit.accuser,
        })
        return
      }
      case 'Slashed': {
        const task = taskRec(a.taskId as bigint)
        if (!task) return
        const node = nodeRec(task, a.node as Address)
        node.slashed += a.amount as bigint
        const audit = audits.get(a.auditId as bigint)
        if (audit) audit.slashed = { node: node.address, amount: a.amount as bigint }
        queue({
          type: 'slash',
          ...base,
          taskId: task.taskId,
          ...(audit ? { cycle: audit.cycle } : {}),
          node: node.address,
          amount: a.amount,
          auditId: a.auditId,
        })
        return
      }
      case 'SlashShared': {
        const audit = audits.get(a.auditId as bigint)
        if (audit) {
          audit.shared = {
            winner: a.winner as Address,
            toWinner: a.toWinner as bigint,
            toVoters: a.toVoters as bigint,
            toPool: a.toPool as bigint,
          }
        }
        return
      }
      case 'DistributionPosted': {
        const task = taskRec(a.taskId as bigint)
        if (!task) return
        const cycle = cycleRec(task, a.cycle as bigint)
        cycle.status = 'posted'
        cycle.poster = a.poster as Address
        cycle.attempt = Number(a.attempt)
        cycle.merkleRoot = a.merkleRoot as Hex
        cycle.listCid = a.listCid as Hex
        cycle.rewardTotal = a.rewardTotal as bigint
        cycle.bonusTotal = a.bonusTotal as bigint
        queue({
          type: 'distribution',
          ...base,
          taskId: task.taskId,
          cycle: cycle.cycle,
          status: 'posted',
          poster: cycle.poster,
          attempt: cycle.attempt,
        })
        return
      }
      case 'DistributionRejected': {
        const task = taskRec(a.taskId as bigint)
        if (!task) return
        const cycle = cycleRec(task, a.cycle as bigint)
        const attempt = Number(a.attempt)
        if (!cycle.rejected.some((r) => r.attempt === attempt)) cycle.rejected.push({ attempt, poster: a.poster as Address })
        cycle.status = 'pending'
        nodeRec(task, a.poster as Address).convicted = true
        queue({ type: 'distribution', ...base, taskId: task.taskId, cycle: cycle.cycle, status: 'rejected', poster: a.poster, attempt })
        return
      }
      case 'DistributionFinalized':
      case 'DistributionFailed': {
        const task = taskRec(a.taskId as bigint)
        if (!task) return
        const cycle = cycleRec(task, a.cycle as bigint)
        cycle.status = log.eventName === 'DistributionFinalized' ? 'final' : 'failed'
        dirtyTasks.add(task.taskId)
        queue({ type: 'distribution', ...base, taskId: task.taskId, cycle: cycle.cycle, status: cycle.status })
        return
      }
      case 'RewardClaimed': {
        const task = taskRec(a.taskId as bigint)
        if (!task) return
        const cycle = cycleRec(task, a.cycle as bigint)
        const node = nodeRec(task, a.node as Address)
        node.rewards += a.reward as bigint
        node.bonus += a.bonus as bigint
        cycle.rewardClaimed += a.reward as bigint
        cycle.bonusClaimed += a.bonus as bigint
        queue({
          type: 'claim',
          ...base,
          taskId: task.taskId,
          cycle: cycle.cycle,
          node: node.address,
          reward: a.reward,
          bonus: a.bonus,
        })
        return
      }
      case 'VoteRewardClaimed': {
        const audit = audits.get(a.auditId as bigint)
        queue({
          type: 'claim',
          ...base,
          ...(audit?.taskId != null ? { taskId: audit.taskId, cycle: audit.cycle } : {}),
          auditId: a.auditId,
          node: a.voter,
          amount: a.amount,
          kind: 'vote',
        })
        return
      }
      default:
        return
    }
  }

  // ─── reading what the events touched ───

  async function tokenInfo(address: Address, blockNumber: bigint): Promise<TokenInfo> {
    const read = async <T>(functionName: 'symbol' | 'decimals', fallback: T): Promise<T> => {
      try {
        return (await rpc(() => readContract(client, { abi: erc20Abi, address, functionName, blockNumber }))) as T
      } catch {
        return fallback
      }
    }
    const [symbol, decimals] = await Promise.all([read('symbol', ''), read('decimals', 18)])
    return { address, symbol: String(symbol), decimals: Number(decimals) }
  }

  /**
   * Sampling and auditors of a cycle with batches. TaskLens cannot see a batched entry until it
   * is materialized (and names a batched auditor address(0)), so this follows the protocol's
   * twins over the selection order, as the nodes' auditor role does: direct submitters
   * (Cycle.submitters), then batched entries by position; score = the entry's committed score or
   * the direct submission's scoreAtSubmission.
   */
  async function sampleWithTwins(task: TaskRec, rec: CycleRec, read: { address: Address; blockNumber: bigint; retry: RetryOptions; taskId: bigint; cycle: bigint }) {
    const chain = task.chain as Task
    const seed = rec.seed as Hex
    const p = chain.params
    const batched = [...rec.submissions.values()]
      .filter((s) => s.batch !== null)
      .sort((x, y) => (x.batch!.entry.position < y.batch!.entry.position ? -1 : 1))
    const order = [...rec.directSubmitters.map(getAddress), ...batched.map((s) => s.node)]
    const records = new Map<Address, Awaited<ReturnType<typeof getSubmission>>>()
    await pool([...rec.submissions.values()], 4, async (submission) => {
      records.set(submission.node, await getSubmission(client, { ...read, node: submission.node }))
    })
    for (const [index, node] of order.entries()) {
      const submission = rec.submissions.get(node)
      const record = records.get(node)
      if (!submission || !record) continue
      const score = submission.batch ? submission.batch.entry.score : BigInt(record.scoreAtSubmission)
      const probability = auditProbabilityBps(score, BigInt(p.duesRounds), BigInt(p.auditFloorBps), BigInt(p.auditDecay))
      const sampled = twinIsSampled(seed, read.taskId, read.cycle, node, probability)
      const auditors = auditorIndices(seed, read.taskId, read.cycle, BigInt(index), BigInt(p.auditorsPerSample), BigInt(order.length))
      if (sampled && submission.sampled !== true) nodeRec(task, node).audited++
      submission.sampled = sampled
      submission.auditors = auditors.map((i) => order[Number(i)] as Address)
      submission.auditProbabilityBps = Number(probability)
      submission.convicted = record.convicted
    }
  }

  async function refresh(blockNumber: bigint) {
    const read = { address: addresses.taskManager, blockNumber, retry }
    const lens = { address: addresses.taskLens, blockNumber, retry }

    // Audits first: an audit raised before fromBlock only tells its task once read.
    await pool([...dirtyAudits], 8, async (auditId) => {
      const chain = await getAudit(client, { ...read, auditId })
      const rec = audits.get(auditId)
      if (rec) {
        const task = taskRec(chain.taskId)
        if (!task) {
          audits.delete(auditId)
        } else {
          if (rec.taskId === null) {
            rec.taskId = chain.taskId
            rec.cycle = chain.cycle
            const cycle = cycleRec(task, chain.cycle)
            if (!cycle.audits.includes(auditId)) cycle.audits.push(auditId)
          }
          rec.kind = Number(chain.kind)
          rec.accused = chain.accused
          rec.accuser = chain.accuser
          rec.evidenceCid = chain.evidenceCid
          rec.deadline = chain.deadline
          rec.upholdWeight = chain.upholdWeight
          rec.rejectWeight = chain.rejectWeight
          rec.resolved = chain.resolved
          rec.upheld = chain.upheld
        }
      }
      dirtyAudits.delete(auditId)
    })

    await pool([...dirtyTasks], 4, async (taskId) => {
      const rec = tasks.get(taskId)
      if (rec) {
        const chain = await getTask(client, { ...read, taskId })
        rec.chain = chain
        rec.stakeToken ??= await tokenInfo(chain.params.stakeToken, blockNumber)
        rec.rewardToken ??= await tokenInfo(chain.params.rewardToken, blockNumber)
      }
      dirtyTasks.delete(taskId)
    })

    await pool([...dirtyNodes], 8, async ([key, { taskId, node }]) => {
      const rec = tasks.get(taskId)?.nodes.get(node)
      if (rec) rec.state = await getNode(client, { ...read, taskId, node })
      dirtyNodes.delete(key)
    })

    await pool([...dirtyCycles], 8, async ([key, { taskId, cycle }]) => {
      const rec = tasks.get(taskId)?.cycles.get(cycle)
      if (rec) {
        const chain = await getCycle(client, { ...read, taskId, cycle })
        rec.seed = chain.seed === zeroHash ? null : chain.seed
        rec.budget = chain.budget
        rec.bonus = chain.bonus
        rec.openAudits = chain.openAudits
        rec.status = statusNames[chain.status] ?? rec.status
        rec.attempt = chain.attempt
        rec.poster = chain.poster === zeroAddress ? null : chain.poster
        rec.merkleRoot = chain.merkleRoot === zeroHash ? null : chain.merkleRoot
        rec.listCid = chain.listCid === zeroHash ? null : chain.listCid
        rec.rewardTotal = chain.rewardTotal
        rec.bonusTotal = chain.bonusTotal
        rec.rewardClaimed = chain.rewardClaimed
        rec.bonusClaimed = chain.bonusClaimed
        rec.postedAt = chain.postedAt === 0n ? null : chain.postedAt
        rec.directSubmitters = [...chain.submitters]
        if (rec.seed && [...rec.submissions.values()].some((s) => s.sampled === null)) {
          dirtySamples.set(key, { taskId, cycle })
        }
      }
      dirtyCycles.delete(key)
    })

    // Batches: nodes and roots from the submitBatch calldata, weights from the event, checked
    // against the entries root; firstPosition from getBatch (earlier batches may predate fromBlock).
    // Read concurrently, applied in (task, cycle, batch) order so events come out in selection order.
    const decodedBatches: { taskId: bigint; cycle: bigint; batchIndex: bigint; entries: BatchedEntry[] }[] = []
    await pool([...dirtyBatches], 4, async ([key, { taskId, cycle, batchIndex }]) => {
      const batch = tasks.get(taskId)?.cycles.get(cycle)?.batches.get(batchIndex)
      if (batch?.status === 'pending') {
        const [transaction, stored] = await Promise.all([
          rpc(() => getTransaction(client, { hash: batch.transactionHash })),
          rpc(() => readContract(client, { abi: taskManagerAbi, address: addresses.taskManager, functionName: 'getBatch', args: [taskId, cycle, batchIndex], blockNumber })),
        ])
        try {
          const signed = decodeSubmitBatchInput(transaction.input, { taskId, cycle, transactionHash: batch.transactionHash })
          if (signed.length !== batch.count) throw new BatchDecodeError(`batch ${batchIndex} calldata has ${signed.length} entries, the event says ${batch.count}`)
          const entries = batchEntries({ signed, firstPosition: BigInt(stored.firstPosition), weightStart: batch.weightStart, weights: batch.weights, entriesRoot: batch.entriesRoot })
          decodedBatches.push({ taskId, cycle, batchIndex, entries })
        } catch (error) {
          if (!(error instanceof BatchDecodeError)) throw error
          batch.status = 'undecodable'
          logger.warn({ err: errorInfo(error), taskId, cycle, batchIndex }, 'chain view: batch entries cannot be decoded; its submitters stay unlisted')
        }
      }
      dirtyBatches.delete(key)
    })
    decodedBatches.sort((x, y) => (x.taskId !== y.taskId ? (x.taskId < y.taskId ? -1 : 1) : x.cycle !== y.cycle ? (x.cycle < y.cycle ? -1 : 1) : x.batchIndex < y.batchIndex ? -1 : 1))
    for (const { taskId, cycle, batchIndex, entries } of decodedBatches) {
      const task = tasks.get(taskId)!
      const rec = task.cycles.get(cycle)!
      const batch = rec.batches.get(batchIndex)!
      batch.status = 'decoded'
      for (const entry of entries) {
        const node = nodeRec(task, entry.node)
        if (rec.submissions.has(entry.node)) continue
        rec.submissions.set(entry.node, {
          node: entry.node,
          root: entry.root,
          weight: entry.weightEnd - entry.weightStart,
          blockNumber: batch.blockNumber,
          batch: { batchIndex, entry, materialized: rec.materialized.has(entry.node) },
          sampled: null,
          auditors: [],
          auditProbabilityBps: null,
          convicted: false,
        })
        node.submissions++
        node.batched++
        if (node.lastCycle === null || cycle > node.lastCycle) node.lastCycle = cycle
        queue({
          type: 'submission',
          event: 'SubmissionsBatched',
          blockNumber: batch.blockNumber,
          taskId,
          cycle,
          node: entry.node,
          root: entry.root,
          via: 'batched',
          batchIndex,
          position: entry.position,
        })
      }
      if (rec.seed) dirtySamples.set(`${taskId}:${cycle}`, { taskId, cycle })
    }

    // Sampling and auditor assignment of every submission of a cycle whose seed is fixed.
    await pool([...dirtySamples], 2, async ([key, { taskId, cycle }]) => {
      const task = tasks.get(taskId)
      const rec = task?.cycles.get(cycle)
      if (task?.chain && rec?.seed) {
        const batches = [...rec.batches.values()]
        if (batches.some((b) => b.status === 'pending')) return // decoded first, on this or a later sync
        if (batches.length > 0 && batches.every((b) => b.status === 'decoded')) {
          await sampleWithTwins(task, rec, { ...read, taskId, cycle })
        } else {
          await pool([...rec.submissions.values()], 4, async (submission) => {
            const node = submission.node
            const [sampled, auditors, probability, chain] = await Promise.all([
              isSampled(client, { ...lens, taskId, cycle, node }),
              auditorsOf(client, { ...lens, taskId, cycle, node }),
              lensAuditProbabilityBps(client, { ...lens, taskId, cycle, node }),
              getSubmission(client, { ...read, taskId, cycle, node }),
            ])
            if (sampled && submission.sampled !== true) nodeRec(task, node).audited++
            submission.sampled = sampled
            submission.auditors = [...auditors]
            submission.auditProbabilityBps = Number(probability)
            submission.convicted = chain.convicted
          })
        }
      }
      dirtySamples.delete(key)
    })

    await pool([...dirtySubmissions], 8, async ([key, { taskId, cycle, node }]) => {
      const submission = tasks.get(taskId)?.cycles.get(cycle)?.submissions.get(node)
      if (submission) submission.convicted = (await getSubmission(client, { ...read, taskId, cycle, node })).convicted
      dirtySubmissions.delete(key)
    })
  }

  function prune() {
    for (const task of tasks.values()) {
      if (task.cycles.size > retainCycles) {
        const keep = [...task.cycles.keys()].sort((x, y) => (x < y ? 1 : x > y ? -1 : 0)).slice(0, retainCycles)
        const oldest = keep[keep.length - 1] as bigint
        for (const cycle of task.cycles.keys()) if (cycle < oldest) task.cycles.delete(cycle)
      }
    }
    const byTask = new Map<bigint, bigint[]>()
    for (const audit of audits.values()) {
      if (audit.taskId === null || !audit.resolved) continue
      const ids = byTask.get(audit.taskId) ?? []
      ids.push(audit.auditId)
      byTask.set(audit.taskId, ids)
    }
    for (const ids of byTask.values()) {
      if (ids.length <= retainAudits) continue
      ids.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))
      for (const id of ids.slice(0, ids.length - retainAudits)) audits.delete(id)
    }
  }

  // ─── syncing ───

  async function fetchLogs(fromBlock: bigint, toBlock: bigint): Promise<DecodedLog[]> {
    const logs = await rpc(() =>
      getContractEvents(client, { address: addresses.taskManager, abi: taskManagerAbi, fromBlock, toBlock, strict: true }),
    )
    return logs.map((log) => ({
      eventName: log.eventName as string,
      args: log.args as unknown as Record<string, unknown>,
      blockNumber: log.blockNumber as bigint,
      logIndex: log.logIndex as number,
      transactionHash: log.transactionHash as Hex,
    }))
  }

  async function syncOnce(): Promise<bigint | null> {
    chainId ??= await rpc(() => getChainId(client))
    const latest = await rpc(() => getBlockNumber(client, { cacheTime: 0 }))
    const head = latest - confirmations
    headBlock = head
    if (head < 0n) return readyBlock
    let advanced = false
    while (nextBlock <= head) {
      const to = nextBlock + range - 1n < head ? nextBlock + range - 1n : head
      let logs: DecodedLog[]
      try {
        logs = await fetchLogs(nextBlock, to)
      } catch (error) {
        // Providers cap block ranges and result counts: halve the range and try again (about
        // log2(blockRange) attempts before giving up); an unreachable endpoint fails at once.
        if (to > nextBlock && errorInfo(error).code !== 'RPC_UNAVAILABLE') {
          range = (to - nextBlock + 1n) / 2n
          logger.debug?.({ fromBlock: nextBlock, toBlock: to, range }, 'chain view: getLogs refused, halving the range')
          continue
        }
        throw error
      }
      logs.sort((x, y) => (x.blockNumber === y.blockNumber ? x.logIndex - y.logIndex : x.blockNumber < y.blockNumber ? -1 : 1))
      for (const log of logs) {
        try {
          apply(log)
          eventsApplied++
        } catch (error) {
          // A bug in one handler must not stop the view; the entity reads still repair the state.
          logger.error({ err: errorInfo(error), event: log.eventName, blockNumber: log.blockNumber }, 'chain view: failed to apply event')
        }
      }
      nextBlock = to + 1n
      lastBlock = to
      advanced = true
      if (range < maxRange) range = range * 2n > maxRange ? maxRange : range * 2n
    }
    if (lastBlock === null && nextBlock > head) lastBlock = head
    const at = lastBlock ?? head
    const block = await rpc(() => getBlock(client, { blockNumber: at }))
    let refreshError: unknown
    try {
      await refresh(at)
      // Only now is the model consistent with block `at`: publish it.
      readyBlock = at
      now = block.timestamp
    } catch (error) {
      refreshError = error
    }
    prune()
    const events = pending
    pending = []
    for (const task of tasks.values()) {
      if (!task.chain) continue
      const round = currentRoundOf(task.chain)
      if (task.lastRound !== null && round !== task.lastRound) {
        events.push({ type: 'round', taskId: task.taskId, cycle: round, round, blockNumber: at, now })
      }
      task.lastRound = round
    }
    if (refreshError === undefined && (advanced || events.length)) {
      events.push({ type: 'sync', blockNumber: at, now, clock: clock() })
    }
    for (const event of events) {
      for (const listener of listeners) {
        try {
          listener(event)
        } catch (error) {
          logger.warn({ err: errorInfo(error) }, 'chain view: listener failed')
        }
      }
    }
    lastSyncAt = Date.now()
    if (refreshError !== undefined) throw refreshError
    return readyBlock
  }

  function sync(): Promise<bigint | null> {
    if (!current) {
      current = syncOnce()
        .catch((error: unknown) => {
          rpcErrors++
          lastError = { ...errorInfo(error), at: Date.now() }
          throw error
        })
        .finally(() => {
          current = null
        })
    }
    return current
  }

  async function loop() {
    timer = undefined
    if (!running) return
    try {
      await sync()
      if (failures > 0) logger.info({ blockNumber: readyBlock }, 'chain view: caught up again')
      failures = 0
    } catch (error) {
      failures++
      logger.warn({ err: errorInfo(error), failures, nextBlock }, 'chain view: sync failed, backing off')
    }
    if (!running) return
    const delay = failures ? Math.min(maxBackoffMs, pollIntervalMs * 2 ** Math.min(failures, 16)) : pollIntervalMs
    timer = setTimeout(() => {
      loopDone = loop()
    }, delay)
    timer.unref?.()
  }

  // ─── answers ───

  /** The time phases and rounds are answered for. */
  function clock(): bigint | null {
    if (!options.wallClock) return now
    const wall = BigInt(Math.floor(Date.now() / 1000))
    return now === null || wall > now ? wall : now
  }

  function currentRoundOf(chain: Task): bigint {
    const t = clock()
    if (t === null || t < chain.startTime) return 0n
    return roundAt(chain.startTime, chain.params.roundLength, t)
  }

  function taskSummary(rec: TaskRec): TaskSummary | undefined {
    const chain = rec.chain
    if (!chain) return undefined
    const p = chain.params
    const round = currentRoundOf(chain)
    const fallbackToken = (address: Address): TokenInfo => ({ address, symbol: '', decimals: 18 })
    return {
      taskId: rec.taskId,
      creator: chain.creator,
      programCid: p.programCid,
      params: {
        programCid: p.programCid,
        stakeToken: p.stakeToken,
        rewardToken: p.rewardToken,
        minStake: p.minStake,
        bountyPerRound: p.bountyPerRound,
        roundLength: p.roundLength,
        submissionWindow: p.submissionWindow,
        auditWindow: p.auditWindow,
        voteWindow: p.voteWindow,
        distributionWindow: p.distributionWindow,
        distributionAuditWindow: p.distributionAuditWindow,
        slashBps: p.slashBps,
        falseAccusationBps: p.falseAccusationBps,
        winnerBps: p.winnerBps,
        votersBps: p.votersBps,
        duesRounds: p.duesRounds,
        auditFloorBps: p.auditFloorBps,
        auditDecay: p.auditDecay,
        auditorsPerSample: p.auditorsPerSample,
        maxDistributionAttempts: p.maxDistributionAttempts,
        unbondingRounds: p.unbondingRounds,
      },
      startTime: chain.startTime,
      currentRound: round,
      roundStartsAt: roundStart(chain.startTime, p.roundLength, round),
      nextRoundAt: roundStart(chain.startTime, p.roundLength, round + 1n),
      escrow: chain.escrow,
      slashPool: chain.slashPool,
      cyclesInFlight: chain.cyclesInFlight,
      stopped: chain.stopped,
      stakeToken: rec.stakeToken ?? fallbackToken(p.stakeToken),
      rewardToken: rec.rewardToken ?? fallbackToken(p.rewardToken),
      nodeCount: rec.nodes.size,
      createdBlock: rec.createdBlock,
    }
  }

  /** A batch whose entries are not decoded yet still means the cycle has submissions. */
  function hasSubmissions(rec: CycleRec | undefined): boolean {
    return rec !== undefined && (rec.submissions.size > 0 || rec.batches.size > 0)
  }

  function phaseOf(chain: Task, cycle: bigint, rec: CycleRec | undefined): { phase: CyclePhase; times: RoundSummary['times'] } {
    const phases = cyclePhases(chain.params, chain.startTime, cycle)
    const times = {
      workOpens: phases.workOpens,
      submissionOpens: phases.submissionOpens,
      submissionCloses: phases.submissionCloses,
      auditCloses: phases.auditCloses,
      distributionOpens: phases.distributionOpens,
    }
    const t = clock() ?? chain.startTime
    let phase: CyclePhase
    if (t < phases.submissionOpens) phase = 'work'
    else if (t < phases.submissionCloses) phase = 'submission'
    else if (t < phases.distributionOpens) phase = hasSubmissions(rec) ? 'audit' : 'empty'
    else if (rec?.status === 'final') phase = 'final'
    else if (rec?.status === 'failed') phase = 'failed'
    else phase = hasSubmissions(rec) ? 'distribution' : 'empty'
    return { phase, times }
  }

  function roundSummary(chain: Task, cycle: bigint, rec: CycleRec | undefined): RoundSummary {
    const { phase, times } = phaseOf(chain, cycle, rec)
    const submissions: SubmissionSummary[] = rec
      ? [...rec.submissions.values()].sort(selectionOrder).map((s) => ({
          node: s.node,
          root: s.root,
          weight: s.weight,
          sampled: s.sampled,
          auditors: [...s.auditors],
          auditProbabilityBps: s.auditProbabilityBps,
          convicted: s.convicted,
          blockNumber: s.blockNumber,
          via: s.batch ? ('batched' as const) : ('direct' as const),
          batch: s.batch
            ? { batchIndex: s.batch.batchIndex, position: s.batch.entry.position, score: s.batch.entry.score, materialized: s.batch.materialized }
            : null,
        }))
      : []
    const batches: BatchSummary[] = rec
      ? [...rec.batches.values()]
          .sort((x, y) => (x.batchIndex < y.batchIndex ? -1 : 1))
          .map((b) => ({
            batchIndex: b.batchIndex,
            entriesRoot: b.entriesRoot,
            count: b.count,
            weightStart: b.weightStart,
            weightEnd: b.weightEnd,
            transactionHash: b.transactionHash,
            blockNumber: b.blockNumber,
            decoded: b.status === 'decoded' ? true : b.status === 'undecodable' ? false : null,
          }))
      : []
    return {
      cycle,
      phase,
      times,
      budget: rec?.budget ?? 0n,
      bonus: rec?.bonus ?? 0n,
      seed: rec?.seed ?? null,
      openAudits: rec?.openAudits ?? 0,
      submissions,
      batches,
      audits: rec ? [...rec.audits] : [],
      distribution: {
        status: rec?.status ?? 'pending',
        poster: rec?.poster ?? null,
        merkleRoot: rec?.merkleRoot ?? null,
        listCid: rec?.listCid ?? null,
        attempt: rec?.attempt ?? 0,
        rewardTotal: rec?.rewardTotal ?? 0n,
        bonusTotal: rec?.bonusTotal ?? 0n,
        rewardClaimed: rec?.rewardClaimed ?? 0n,
        bonusClaimed: rec?.bonusClaimed ?? 0n,
        postedAt: rec?.postedAt ?? null,
        rejected: rec ? rec.rejected.map((r) => ({ ...r })) : [],
      },
    }
  }

  function auditSummary(rec: AuditRec): AuditSummary {
    const status: AuditSummary['status'] = rec.resolved
      ? rec.upheld
        ? 'upheld'
        : 'rejected'
      : (clock() ?? 0n) >= rec.deadline
        ? 'resolvable'
        : 'voting'
    return {
      auditId: rec.auditId,
      taskId: rec.taskId ?? 0n,
      kind: rec.kind === 1 ? 'distribution' : 'submission',
      cycle: rec.cycle,
      accused: rec.accused,
      accuser: rec.accuser,
      evidenceCid: rec.evidenceCid,
      deadline: rec.deadline,
      upholdWeight: rec.upholdWeight,
      rejectWeight: rec.rejectWeight,
      resolved: rec.resolved,
      upheld: rec.upheld,
      status,
      votes: [...rec.votes.entries()].map(([voter, v]) => ({
        voter,
        side: v.side === 1 ? ('uphold' as const) : ('reject' as const),
        weight: v.weight,
      })),
      slashed: rec.slashed ? { ...rec.slashed } : null,
      shared: rec.shared ? { ...rec.shared } : null,
      raisedBlock: rec.raisedBlock,
    }
  }

  const view: ChainView = {
    addresses: { taskManager: getAddress(addresses.taskManager), taskLens: getAddress(addresses.taskLens) },

    async start() {
      if (running) return
      running = true
      loopDone = loop()
      await loopDone
    },

    async stop() {
      running = false
      if (timer) clearTimeout(timer)
      timer = undefined
      await loopDone?.catch(() => {})
      await current?.catch(() => {})
    },

    sync,

    status() {
      return {
        chainId,
        blockNumber: readyBlock,
        now,
        clock: clock(),
        headBlock,
        running,
        syncing: current !== null,
        rpcErrors,
        lastError,
        lastSyncAt,
      }
    },

    taskIds() {
      return [...tasks.values()].filter((t) => t.chain).map((t) => t.taskId).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))
    },

    tasks() {
      return view
        .taskIds()
        .map((id) => taskSummary(tasks.get(id) as TaskRec))
        .filter((t): t is TaskSummary => t !== undefined)
    },

    task(taskId) {
      const rec = tasks.get(taskId)
      return rec ? taskSummary(rec) : undefined
    },

    rounds(taskId, query = {}) {
      const rec = tasks.get(taskId)
      if (!rec?.chain) return []
      const limit = BigInt(Math.max(1, Math.min(query.limit ?? 20, 1_000)))
      const top = currentRoundOf(rec.chain)
      const out: RoundSummary[] = []
      for (let cycle = top; cycle >= 0n && cycle > top - limit; cycle--) {
        out.push(roundSummary(rec.chain, cycle, rec.cycles.get(cycle)))
      }
      return out
    },

    nodes(taskId) {
      const rec = tasks.get(taskId)
      if (!rec?.chain) return []
      const p = rec.chain.params
      return [...rec.nodes.values()].map((node) => {
        const state = node.state
        const score = state?.score ?? 0
        const name = nameOf(node.address)
        return {
          address: node.address,
          ...(name === undefined ? {} : { name }),
          p2p: p2p.get(node.address) ?? null,
          stake: state?.stake ?? 0n,
          unbonding: state?.unbonding ?? 0n,
          unbondingRound: state?.unbondingRound ?? 0n,
          passed: state?.passed ?? 0,
          failed: state?.failed ?? 0,
          score,
          openCases: state?.openCases ?? 0,
          auditProbabilityBps: Number(
            auditProbabilityBps(BigInt(score), BigInt(p.duesRounds), BigInt(p.auditFloorBps), BigInt(p.auditDecay)),
          ),
          submissions: node.submissions,
          batched: node.batched,
          audited: node.audited,
          auditsAgainst: node.auditsAgainst,
          auditsUpheld: node.auditsUpheld,
          rewards: node.rewards,
          bonus: node.bonus,
          slashed: node.slashed,
          convicted: node.convicted || (state?.failed ?? 0) > 0,
          // NodeState.lastCycle follows direct submissions only; a batch writes nothing per node.
          lastCycle: state?.hasSubmitted && (node.lastCycle === null || state.lastCycle > node.lastCycle) ? state.lastCycle : node.lastCycle,
          reopenedUntil: state?.reopenedUntil ?? 0n,
        }
      })
    },

    audits(taskId) {
      return [...audits.values()]
        .filter((a) => a.taskId === taskId)
        .sort((x, y) => (x.auditId < y.auditId ? 1 : x.auditId > y.auditId ? -1 : 0))
        .map(auditSummary)
    },

    p2pAddress(node) {
      return p2p.get(getAddress(node))
    },

    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },

    registerMetrics(registry) {
      registerViewMetrics(registry, {
        status: () => view.status(),
        tasks: () => tasks.size,
        audits: () => [...audits.values()].filter((a) => !a.resolved).length,
        events: () => eventsApplied,
      })
    },
  }
  return view
}

type MetricsSource = {
  status: () => ViewStatus
  tasks: () => number
  audits: () => number
  events: () => number
}

function registerViewMetrics(registry: Registry, source: MetricsSource) {
  const gauge = (name: string, help: string, value: () => number | bigint | null) => {
    if (registry.getSingleMetric(name)) return
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const v = value()
        if (v !== null) this.set(Number(v))
      },
    })
  }
  gauge('coop_view_block_number', 'Last block applied by the chain view', () => source.status().blockNumber)
  gauge('coop_view_head_block_number', 'Chain head seen by the chain view', () => source.status().headBlock)
  gauge('coop_view_chain_time_seconds', 'Timestamp of the last block applied by the chain view', () => source.status().now)
  gauge('coop_view_rpc_errors', 'RPC failures seen by the chain view (retries and failed syncs)', () => source.status().rpcErrors)
  gauge('coop_view_tasks', 'Tasks indexed by the chain view', source.tasks)
  gauge('coop_view_open_audits', 'Audits raised and not yet resolved', source.audits)
  gauge('coop_view_events_applied', 'Contract events applied by the chain view', source.events)
}

