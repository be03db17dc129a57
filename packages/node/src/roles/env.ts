// What every role gets: the node's services and one task's parameters, runtime and caches.
import type { EventEmitter } from 'node:events'

import type { TaskParams } from '@coop/chain'
import type { CoopHost, VerifiedMessage } from '@coop/p2p'
import type { ContentStore, RoundInfo, TaskRuntime } from '@coop/sdk'
import { encodeValue } from '@coop/sdk'
import type { Address, Hex } from 'viem'

import type { NodeChain } from '../chain/client.ts'
import type { TxOutcome, TxSender } from '../chain/tx.ts'
import type { NodeConfig } from '../config.ts'
import type { Logger } from '../logger.ts'
import type { NodeMetrics } from '../metrics.ts'
import type { PeerDirectory } from '../p2p/peers.ts'
import { digestOfCid } from '../runtime/program.ts'
import type { SchedulerParams } from '../scheduler/phases.ts'
import type { DeviceIngest } from '../scale/ingest.ts'
import type { RoundStore } from '../scale/round-store.ts'
import type { SubmissionBatcher } from '../scale/batcher.ts'
import type { ScaleService } from '../scale/service.ts'
import type { NodeStore } from '../state/store.ts'

export type NodeServices = {
  name: string
  address: Address
  config: NodeConfig
  chain: NodeChain
  store: NodeStore
  sender: TxSender
  host: CoopHost
  content: ContentStore
  /** SCALE round DAGs (own and replicas): packages/node/src/scale/round-store.ts */
  rounds: RoundStore
  /** Device payload ingest of the node's ingest tasks: packages/node/src/scale/ingest.ts */
  ingest: DeviceIngest
  /** SCALE heads, replication, pruning and recovery: packages/node/src/scale/service.ts (set once the node is up) */
  scale?: ScaleService
  /** Collects signed submissions and posts them as batches (scale/batcher.ts; set once the node is up) */
  batcher?: SubmissionBatcher
  peers: PeerDirectory
  metrics: NodeMetrics
  events: EventEmitter
  logger: Logger
  signal: AbortSignal
}

export type TaskEnv = {
  node: NodeServices
  taskId: bigint
  /** Decimal task id (state keys, topics). */
  id: string
  params: TaskParams
  startTime: bigint
  scheduler: SchedulerParams
  runtime: TaskRuntime
  logger: Logger
}

/** Node event objects (WS): bigints as decimal strings. */
export type NodeEvent = { type: 'round' | 'submission' | 'audit' | 'vote' | 'distribution' | 'claim' | 'slash'; taskId: string; cycle: string; [key: string]: unknown }

export const same = (a: string | undefined | null, b: string | undefined | null): boolean =>
  typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase()

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve()
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true })
  })

export const ZERO32: Hex = `0x${'0'.repeat(64)}`
export const isZero = (hex: string | undefined | null) => !hex || BigInt(hex) === 0n

/** RoundInfo for a program call about `cycle` made in `round`. */
export function roundInfo(env: TaskEnv, round: bigint, cycle: bigint, seed?: Hex): RoundInfo {
  const length = env.params.roundLength
  return {
    taskId: env.taskId,
    round: Number(round),
    cycle: Number(cycle),
    startTime: Number(env.startTime + round * length),
    roundLength: Number(length),
    ...(seed && !isZero(seed) ? { seed } : {}),
  }
}

export function jsonSafe(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_key, item) => (typeof item === 'bigint' ? item.toString() : item instanceof Uint8Array ? `0x${Buffer.from(item).toString('hex')}` : item)))
}

export function emit(env: { node: NodeServices } | NodeServices, event: NodeEvent): void {
  const node = 'node' in env ? env.node : env
  const safe = jsonSafe(event) as NodeEvent
  node.events.emit('event', safe)
  node.events.emit(safe.type, safe)
}

/** Calls the task program, counting failures. */
export async function callProgram(env: TaskEnv, method: 'work' | 'submission' | 'audit' | 'distribution' | 'setup', ...args: unknown[]): Promise<unknown> {
  try {
    return await env.runtime.call(method, ...args)
  } catch (error) {
    env.node.metrics.sandboxErrors.inc({ task: env.id, method })
    throw error
  }
}

/** A signed p2p request to the node registered as `node`. */
export async function requestNode(env: TaskEnv | NodeServices, node: Address, protocol: string, body: unknown, timeoutMs = 3_000): Promise<VerifiedMessage> {
  const services = 'node' in env ? env.node : env
  const multiaddr = await services.peers.multiaddrOf(node)
  if (!multiaddr) throw new Error(`node ${node} has no registered p2p address`)
  try {
    const message = await services.host.request(multiaddr, protocol, body, { timeoutMs })
    services.metrics.p2pRequests.inc({ protocol, result: 'ok' })
    if (!same(message.from, node)) throw new Error(`answer signed by ${message.from}, not ${node}`)
    return message
  } catch (error) {
    services.metrics.p2pRequests.inc({ protocol, result: 'error' })
    // The registry may have changed (restart on a new port): look it up again next time.
    void services.peers.multiaddrOf(node, { fresh: true }).catch(() => undefined)
    throw error
  }
}

/** dag-cbor encodable copy of anything (falls back to a string). */
export function encodable(value: unknown): unknown {
  if (value === undefined) return null
  try {
    encodeValue(value)
    return value
  } catch {
    return JSON.stringify(jsonSafe(value) ?? null)
  }
}

/** Stores evidence in the content store; returns its CID and the digest that goes on-chain. */
export async function putEvidence(env: TaskEnv, evidence: Record<string, unknown>): Promise<{ cid: string; digest: Hex }> {
  const cid = await env.node.content.put(encodable(evidence))
  return { cid, digest: digestOfCid(cid) }
}

/** Tallies a settled transaction in the log and metrics; returns whether it is confirmed. */
export function confirmed(outcome: TxOutcome): boolean {
  return outcome.intent.status === 'confirmed'
}
