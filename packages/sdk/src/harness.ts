import {
  type DeviceScheme,
  type RoundDag,
  auditProbabilityBps,
  auditorIndices,
  buildRoundDag,
  cumulativeWeights,
  inclusionProof,
  isSampled,
  reputationWeight,
  sampleLeafPositions,
  selectDistributor,
  signDevicePayload,
  verifyDevicePayload,
  verifyInclusion,
} from '@coop/protocol'
import { encodeAbiParameters, getAddress, keccak256, stringToHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { RAW_CODE, decodeValue, encodeValue, parseCid, submissionRoot } from './cid.ts'
import { isTaskDefinition, resolveRoute, scaleSettings, taskDefinitionProblems } from './define-task.ts'
import { SdkError } from './errors.ts'
import { type LogSink, type MemoryKv, type MemoryStore, createMemoryContext, createMemoryKv, createMemoryStore, derivePrivateKey, withRound } from './memory.ts'
import type { Address, AuditVerdict, Behaviour, Bounty, DevicePayloadView, DistributionShare, Hex, RoundInfo, TaskContext, TaskDefinition } from './types.ts'

// An offline simulator of a task network for task authors: every simulated node runs the task
// in-process with its own kv and store; sampling, auditor assignment and distributor selection
// use the real rules from @coop/protocol with a deterministic seed per cycle.

export interface HarnessOptions {
  /** How many nodes (deterministic keys and addresses), or explicit addresses. */
  nodes: number | Address[]
  /** Cycles `run()` executes (cycle 0 … rounds − 1). */
  rounds: number
  /** Per node (by index, or by address): default honest. */
  behaviours?: Behaviour[] | Record<string, Behaviour>
  config?: Record<string, unknown>
  taskId?: bigint
  /** Unix seconds of round 0. Default 1 700 000 000. */
  startTime?: number
  /** Seconds. Default 12 (the devnet's). */
  roundLength?: number
  /** Per cycle. Default 1000 reward tokens (18 decimals), no bonus. */
  bounty?: Bounty
  /** Audit parameters, default the devnet's: dues 3, floor 20%, decay 2, 2 auditors per sample. */
  audit?: { dues?: bigint; floorBps?: bigint; decay?: bigint; auditorsPerSample?: bigint }
  /** Stake of every node (for distributor selection weights). Default 100e18. */
  stake?: bigint
  /** Seed the cycle seeds are derived from. */
  seed?: Hex
  /** Receives every ctx.log call of every node. */
  log?: (node: Address, level: 'info' | 'warn' | 'error', msg: string, data?: unknown) => void
  /**
   * SCALE ingest tasks: simulated wallet-less devices (deterministic keys, ed25519 and secp256k1
   * alternating). Each cycle device d signs `readings` payloads for the cycle and posts them to
   * node (d + cycle) mod nodes, which verifies them like the node's ingest (size, shape, task,
   * round, signature, replay, then the task's `scale.ingest.accept`).
   */
  devices?: {
    count?: number
    readings?: number
    /** The body of reading `seq` of device `device` in `round` (default `{ device, seq }`). */
    body?: (input: { device: number; publicKey: Hex; scheme: DeviceScheme; seq: number; round: RoundInfo }) => unknown
  }
}

/** What a simulated node's ingest did in a cycle. */
export interface HarnessIngest {
  node: Address
  accepted: number
  rejected: { device: Hex; code: string; reason: string }[]
}

export interface HarnessNode {
  index: number
  address: Address
  behaviour: Behaviour
  kv: MemoryKv
  store: MemoryStore
  /** Passed submissions since the last conviction (the CARP score). */
  score: bigint
  context(round: RoundInfo): TaskContext
}

export interface HarnessSubmission {
  node: Address
  submission: unknown
  root: { cid: string; digest: Hex }
  /** Whether the node's behaviour told it to cheat in this cycle. */
  cheating: boolean
  score: bigint
  probabilityBps: bigint
  sampled: boolean
  auditors: Address[]
  /** SCALE tasks: the round DAG (its root is `root`). */
  dag?: RoundDag
}

export interface HarnessAudit {
  submitter: Address
  auditor: Address
  /** SCALE tasks: the leaf positions the fisherman sampled (sampleLeafPositions from the seed). */
  positions?: number[]
  verdict?: AuditVerdict
  /** The audit function threw (no accusation is raised for an auditor's own failure). */
  error?: string
}

export interface CycleReport {
  cycle: number
  seed: Hex
  submissions: HarnessSubmission[]
  audits: HarnessAudit[]
  /** Submitters at least one assigned auditor found not ok (an audit would be raised). */
  failed: Address[]
  /** failed ∩ cheating. */
  caught: Address[]
  /** failed ∩ honest: must stay empty for a sound audit. */
  falselyFlagged: Address[]
  /** cheating but not failed (not sampled, or the audit missed it). */
  missed: Address[]
  distributor?: Address
  distribution: DistributionShare[]
  /** Every other node recomputed the same distribution list. */
  distributionAgreed: boolean
  errors: { node: Address; phase: 'work' | 'submission' | 'audit' | 'distribution' | 'ingest'; error: string }[]
  /** SCALE ingest tasks: per node, the device payloads accepted and refused this cycle. */
  ingest?: HarnessIngest[]
}

export interface HarnessReport {
  cycles: CycleReport[]
  caught: Address[]
  falselyFlagged: Address[]
  missed: Address[]
}

export interface Harness {
  readonly nodes: readonly HarnessNode[]
  node(address: Address): HarnessNode
  /** Runs the next cycle: work → submission → sampling → audits → distribution. */
  runCycle(): Promise<CycleReport>
  /** Runs the remaining cycles up to `rounds`. */
  run(): Promise<HarnessReport>
}

const DEFAULT_SEED = keccak256(stringToHex('coop.harness.seed'))

export function createHarness(task: TaskDefinition<any, any>, options: HarnessOptions): Harness {
  if (!isTaskDefinition(task)) {
    throw new SdkError('INVALID_TASK', 'createHarness needs a task from defineTask()', {
      details: { problems: taskDefinitionProblems(task) },
    })
  }
  if (!Number.isSafeInteger(options.rounds) || options.rounds < 0) {
    throw new SdkError('INVALID_OPTIONS', 'rounds must be a non-negative integer', { details: { rounds: options.rounds } })
  }
  const taskId = options.taskId ?? 1n
  const startTime = options.startTime ?? 1_700_000_000
  const roundLength = options.roundLength ?? 12
  const bounty = options.bounty ?? { reward: 1000n * 10n ** 18n, bonus: 0n }
  const dues = options.audit?.dues ?? 3n
  const floorBps = options.audit?.floorBps ?? 2000n
  const decay = options.audit?.decay ?? 2n
  const auditorsPerSample = options.audit?.auditorsPerSample ?? 2n
  const stake = options.stake ?? 100n * 10n ** 18n
  const baseSeed = options.seed ?? DEFAULT_SEED
  const config = options.config ?? {}

  const identities: { address: Address; privateKey: Hex }[] = []
  if (typeof options.nodes === 'number') {
    if (!Number.isSafeInteger(options.nodes) || options.nodes < 1) {
      throw new SdkError('INVALID_OPTIONS', 'nodes must be a positive integer or a list of addresses', { details: { nodes: options.nodes } })
    }
    for (let i = 0; i < options.nodes; i++) {
      const privateKey = derivePrivateKey(`node-${i}`)
      identities.push({ address: privateKeyToAccount(privateKey).address, privateKey })
    }
  } else {
    for (const address of options.nodes) {
      let checksummed: Address
      try {
        checksummed = getAddress(address)
      } catch (cause) {
        throw new SdkError('INVALID_OPTIONS', 'not an address', { details: { address }, cause })
      }
      identities.push({ address: checksummed, privateKey: derivePrivateKey(checksummed) })
    }
    if (identities.length === 0) throw new SdkError('INVALID_OPTIONS', 'nodes must not be empty')
    if (new Set(identities.map((i) => i.address)).size !== identities.length) {
      throw new SdkError('INVALID_OPTIONS', 'duplicate node addresses')
    }
  }

  const nodes: HarnessNode[] = identities.map(({ address, privateKey }, index) => {
    const behaviour = behaviourOf(options.behaviours, index, address)
    const kv = createMemoryKv()
    const store = createMemoryStore()
    const sink: LogSink | undefined = options.log ? (level, msg, data) => options.log?.(address, level, msg, data) : undefined
    const services = createMemoryContext({ address, privateKey, behaviour, config, kv, store, log: sink })
    return {
      index,
      address,
      behaviour,
      kv,
      store,
      score: 0n,
      context(round) {
        return {
          ...withRound(services, round),
          request: (target: Address, path: string, body?: unknown) => routeRequest(address, target, path, body, round),
        }
      },
    }
  })
  const byAddress = new Map(nodes.map((node) => [node.address.toLowerCase(), node]))
  const scale = scaleSettings(task)
  const deviceCount = options.devices?.count ?? 4
  const readings = options.devices?.readings ?? 2
  const devices = Array.from({ length: scale?.ingest ? deviceCount : 0 }, (_, d) => {
    const scheme: DeviceScheme = d % 2 === 0 ? 'ed25519' : 'secp256k1'
    const privateKey = derivePrivateKey(`device-${d}`)
    const publicKey = signDevicePayload(privateKey, scheme, { taskId: '0', round: 0, seq: 0, body: null }).payload.device
    return { index: d, scheme, privateKey, publicKey, seq: 0 }
  })
  /** Per node: payloads accepted for a cycle (arrival order) and the replay watermark per device. */
  const inboxes = new Map<Address, { payloads: Map<number, Uint8Array[]>; lastSeq: Map<string, number> }>(
    nodes.map((node) => [node.address, { payloads: new Map(), lastSeq: new Map() }]),
  )

  function roundInfo(round: number, cycle: number, seed?: Hex): RoundInfo {
    return { taskId, round, cycle, startTime: startTime + round * roundLength, roundLength, ...(seed ? { seed } : {}) }
  }

  /** ctx.request between simulated nodes: the target's route runs with the target's context; the body and the answer go through dag-cbor like on the wire. */
  async function routeRequest(from: Address, target: Address, path: string, body: unknown, round: RoundInfo): Promise<unknown> {
    const node = byAddress.get(String(target).toLowerCase())
    if (!node) throw new SdkError('UNKNOWN_NODE', 'no simulated node with that address', { details: { from, target, path } })
    const route = resolveRoute(task.routes, path)
    if (!route) throw new SdkError('NO_ROUTE', 'the task has no route for that path', { details: { target, path } })
    const wireBody = body === undefined ? null : decodeValue(encodeValue(body))
    const [pathname, search] = path.split('?', 2)
    const query = Object.fromEntries(new URLSearchParams(search ?? ''))
    const answer = await route.handler({ method: 'POST', path: pathname ?? path, query, body: wireBody }, node.context(round))
    return answer === undefined ? null : decodeValue(encodeValue(answer))
  }

  /** A node's ingest of one payload: the node's checks (@coop/protocol), then the task's accept hook. */
  async function ingestPayload(node: HarnessNode, bytes: Uint8Array, round: RoundInfo): Promise<void> {
    const inbox = inboxes.get(node.address) as { payloads: Map<number, Uint8Array[]>; lastSeq: Map<string, number> }
    const { payload } = verifyDevicePayload(bytes, {
      maxBytes: scale?.ingest?.maxPayloadBytes ?? 0,
      expectedTaskId: taskId.toString(),
      round: { current: round.round, accept: [-1, 0] },
      lastSeq: (device) => inbox.lastSeq.get(device),
    })
    const accept = task.scale?.ingest?.accept
    if (accept) {
      const verdict = await accept(payload as DevicePayloadView, round, node.context(round))
      if (!verdict.ok) throw Object.assign(new Error(`the task refused the payload: ${verdict.reason}`), { code: 'REJECTED' })
    }
    inbox.lastSeq.set(payload.device, payload.seq)
    const list = inbox.payloads.get(payload.round) ?? []
    list.push(bytes)
    inbox.payloads.set(payload.round, list)
  }

  /** A fisherman audit: each sampled leaf with its inclusion proof (re-hashed), then scale.leafAudit. */
  async function fishermanAudit(dag: RoundDag, positions: number[], submitter: Address, auditor: HarnessNode, round: RoundInfo): Promise<AuditVerdict> {
    const leafAudit = task.scale?.leafAudit
    if (!leafAudit) throw new SdkError('INVALID_TASK', 'the task has no scale.leafAudit')
    for (const position of positions) {
      const proof = inclusionProof(dag, position)
      const block = dag.blocks.get(proof.leafCid) as Uint8Array
      if (!verifyInclusion(dag.digest, position, block, proof)) return { ok: false, reason: `leaf ${position} does not verify against the root` }
      const leaf = parseCid(proof.leafCid).code === RAW_CODE ? new Uint8Array(block) : decodeValue(block)
      const verdict = await leafAudit(leaf, position, round, submitter, auditor.context(round))
      if (!verdict || (verdict.ok !== true && !(verdict.ok === false && typeof verdict.reason === 'string'))) {
        throw new SdkError('INVALID_VALUE', 'scale.leafAudit must return { ok: true } or { ok: false, reason }')
      }
      if (!verdict.ok) return verdict
    }
    return { ok: true }
  }

  let nextCycle = 0
  const cycles: CycleReport[] = []

  async function runCycle(): Promise<CycleReport> {
    const cycle = nextCycle++
    const seed = keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint256' }], [baseSeed, BigInt(cycle)]))
    const errors: CycleReport['errors'] = []
    const message = (error: unknown) => (error instanceof Error ? error.message : String(error))

    // Round `cycle`: every node works.
    const workRound = roundInfo(cycle, cycle)
    await Promise.all(
      nodes.map(async (node) => {
        try {
          await task.work?.(workRound, node.context(workRound))
        } catch (error) {
          errors.push({ node: node.address, phase: 'work', error: message(error) })
        }
      }),
    )

    // Devices post their readings for the round (SCALE ingest tasks).
    let ingest: HarnessIngest[] | undefined
    if (scale?.ingest) {
      ingest = nodes.map((node) => ({ node: node.address, accepted: 0, rejected: [] }))
      for (const device of devices) {
        const target = nodes[(device.index + cycle) % nodes.length] as HarnessNode
        const report = ingest[target.index] as HarnessIngest
        for (let k = 0; k < readings; k++) {
          const seq = device.seq++
          const body = options.devices?.body?.({ device: device.index, publicKey: device.publicKey, scheme: device.scheme, seq, round: workRound }) ?? { device: device.index, seq }
          const { bytes } = signDevicePayload(device.privateKey, device.scheme, { taskId: taskId.toString(), round: cycle, seq, body })
          try {
            await ingestPayload(target, bytes, workRound)
            report.accepted += 1
          } catch (error) {
            const code = (error as { code?: unknown }).code
            report.rejected.push({ device: device.publicKey, code: typeof code === 'string' ? code : 'ERROR', reason: message(error) })
          }
        }
      }
    }

    // Round `cycle + 1`: submissions (encoded like on the wire), then sampling from the seed.
    const submitRound = roundInfo(cycle + 1, cycle)
    const submitted: { node: HarnessNode; encoded: Uint8Array; root: { cid: string; digest: Hex }; dag?: RoundDag }[] = []
    for (const node of nodes) {
      try {
        if (scale) {
          // A SCALE submission is the root of the node's round DAG (an empty round is not submitted).
          let leaves: unknown
          if (scale.ingest) {
            const payloads = inboxes.get(node.address)?.payloads.get(cycle) ?? []
            leaves = task.scale?.ingest?.leaves && payloads.length > 0 ? await task.scale.ingest.leaves(payloads.map((p) => new Uint8Array(p)), submitRound, node.context(submitRound)) : payloads
          } else {
            if (!task.submission) throw new SdkError('INVALID_TASK', 'the task has no submission()')
            leaves = await task.submission(submitRound, node.context(submitRound))
          }
          if (!Array.isArray(leaves)) throw new SdkError('INVALID_VALUE', 'the leaves of a round DAG must be an array')
          if (leaves.length === 0) continue
          const dag = buildRoundDag(leaves)
          for (const [cid, bytes] of dag.blocks) node.store.blocks.set(cid, bytes)
          submitted.push({ node, encoded: encodeValue({ root: dag.root, leafCount: dag.size }), root: { cid: dag.root, digest: dag.digest }, dag })
          continue
        }
        if (!task.submission) throw new SdkError('INVALID_TASK', 'the task has no submission()')
        const value = await task.submission(submitRound, node.context(submitRound))
        submitted.push({ node, encoded: encodeValue(value), root: submissionRoot(value) })
      } catch (error) {
        errors.push({ node: node.address, phase: 'submission', error: message(error) })
      }
    }
    const count = BigInt(submitted.length)
    const submissions: HarnessSubmission[] = submitted.map(({ node, encoded, root, dag }, index) => {
      const probabilityBps = auditProbabilityBps(node.score, dues, floorBps, decay)
      const sampled = isSampled(seed, taskId, BigInt(cycle), node.address, probabilityBps)
      const auditors = sampled
        ? auditorIndices(seed, taskId, BigInt(cycle), BigInt(index), auditorsPerSample, count).map(
            (i) => (submitted[Number(i)] as (typeof submitted)[number]).node.address,
          )
        : []
      return {
        node: node.address,
        submission: decodeValue(encoded),
        root,
        cheating: cheats(node.behaviour, cycle),
        score: node.score,
        probabilityBps,
        sampled,
        auditors,
        ...(dag ? { dag } : {}),
      }
    })

    // Audits (same round, the seed is known now).
    const auditRound = roundInfo(cycle + 1, cycle, seed)
    const audits: HarnessAudit[] = []
    await Promise.all(
      submissions.flatMap((entry) =>
        entry.auditors.map(async (auditorAddress) => {
          const auditor = byAddress.get(auditorAddress.toLowerCase()) as HarnessNode
          const audit: HarnessAudit = { submitter: entry.node, auditor: auditorAddress }
          audits.push(audit)
          try {
            let verdict: AuditVerdict
            if (entry.dag) {
              const positions = sampleLeafPositions(seed, entry.node, entry.dag.size, scale?.samples ?? 16)
              audit.positions = positions
              verdict = await fishermanAudit(entry.dag, positions, entry.node, auditor, auditRound)
            } else {
              // Each auditor gets its own copy, decoded from the submitted bytes like a fetched block.
              const copy = decodeValue(encodeValue(entry.submission))
              if (!task.audit) throw new SdkError('INVALID_TASK', 'the task has no audit()')
              verdict = await task.audit(copy, auditRound, entry.node, auditor.context(auditRound))
            }
            if (!verdict || (verdict.ok !== true && !(verdict.ok === false && typeof verdict.reason === 'string'))) {
              throw new SdkError('INVALID_VALUE', 'audit must return { ok: true } or { ok: false, reason }')
            }
            audit.verdict = verdict
          } catch (error) {
            audit.error = message(error)
            errors.push({ node: auditorAddress, phase: 'audit', error: message(error) })
          }
        }),
      ),
    )
    const failedSet = new Set(audits.filter((a) => a.verdict && !a.verdict.ok).map((a) => a.submitter))
    const failed = submissions.map((s) => s.node).filter((node) => failedSet.has(node))

    // Reputation: an upheld audit resets the score, a passed submission adds one.
    for (const entry of submissions) {
      const node = byAddress.get(entry.node.toLowerCase()) as HarnessNode
      node.score = failedSet.has(entry.node) ? 0n : node.score + 1n
    }

    // Round `cycle + 2`: the selected distributor computes the list; every other node recomputes it.
    const distributionRound = roundInfo(cycle + 2, cycle, seed)
    const statuses = submissions.map((s) => ({ node: s.node, passed: !failedSet.has(s.node), root: s.root.digest }))
    let distributor: Address | undefined
    let distribution: DistributionShare[] = []
    let distributionAgreed = true
    if (submissions.length > 0) {
      const weights = submissions.map((s) => reputationWeight(stake, s.score))
      const selected = selectDistributor(seed, taskId, BigInt(cycle), 0n, cumulativeWeights(weights))
      distributor = (submissions[Number(selected)] as HarnessSubmission).node
      const lists = new Map<Address, DistributionShare[]>()
      for (const entry of submissions) {
        const node = byAddress.get(entry.node.toLowerCase()) as HarnessNode
        try {
          lists.set(node.address, await task.distribution(structuredClone(statuses), { ...bounty }, distributionRound, node.context(distributionRound)))
        } catch (error) {
          errors.push({ node: node.address, phase: 'distribution', error: message(error) })
        }
      }
      distribution = lists.get(distributor) ?? []
      const canonical = canonicalList(distribution)
      distributionAgreed = lists.has(distributor) && [...lists.values()].every((list) => canonicalList(list) === canonical)
    }

    const cheating = new Set(submissions.filter((s) => s.cheating).map((s) => s.node))
    const report: CycleReport = {
      cycle,
      seed,
      submissions,
      audits,
      failed,
      caught: failed.filter((node) => cheating.has(node)),
      falselyFlagged: failed.filter((node) => !cheating.has(node)),
      missed: [...cheating].filter((node) => !failedSet.has(node)),
      ...(distributor ? { distributor } : {}),
      distribution,
      distributionAgreed,
      errors,
      ...(ingest ? { ingest } : {}),
    }
    cycles.push(report)
    return report
  }

  return {
    nodes,
    node(address) {
      const node = byAddress.get(String(address).toLowerCase())
      if (!node) throw new SdkError('UNKNOWN_NODE', 'no simulated node with that address', { details: { address } })
      return node
    },
    runCycle,
    async run() {
      while (nextCycle < options.rounds) await runCycle()
      const unique = (pick: (cycle: CycleReport) => Address[]) => [...new Set(cycles.flatMap(pick))]
      return {
        cycles: [...cycles],
        caught: unique((c) => c.caught),
        falselyFlagged: unique((c) => c.falselyFlagged),
        missed: unique((c) => c.missed),
      }
    },
  }
}

function cheats(behaviour: Behaviour, cycle: number): boolean {
  return behaviour.mode === 'cheater' && cycle >= (behaviour.cheatFromRound ?? 0)
}

function behaviourOf(behaviours: HarnessOptions['behaviours'], index: number, address: Address): Behaviour {
  if (!behaviours) return { mode: 'honest' }
  if (Array.isArray(behaviours)) return behaviours[index] ?? { mode: 'honest' }
  for (const [key, value] of Object.entries(behaviours)) {
    if (key === String(index) || key.toLowerCase() === address.toLowerCase()) return value
  }
  return { mode: 'honest' }
}

function canonicalList(list: readonly DistributionShare[]): string {
  return list
    .map((e) => `${e.node.toLowerCase()}:${e.reward}:${e.bonus}`)
    .sort()
    .join('|')
}
