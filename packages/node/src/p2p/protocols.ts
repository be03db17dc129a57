// The node's p2p protocols (served under /coop/<name> by @coop/p2p, every message signed):
//   submission/1.0.0  { taskId, cycle }        → { taskId, cycle, value }   our submission, for auditors
//   list/1.0.0        { taskId, cycle, cid? }   → { taskId, cycle, cid, list } a distribution list (JSON)
//   block/1.0.0       { cid }                   → { cid, bytes }             any block of our content store
//   route/1.0.0       { taskId, path, body }    → { result }                 a task program route (ctx.request)
// and the gossip topic coop/task/<id>/rounds (signed round announcements).
import type { CoopHost, VerifiedMessage } from '@coop/p2p'
import type { ContentStore } from '@coop/sdk'
import { decodeValue } from '@coop/sdk'

import type { NodeStore } from '../state/store.ts'

export const PROTOCOLS = {
  submission: 'submission/1.0.0',
  list: 'list/1.0.0',
  block: 'block/1.0.0',
  route: 'route/1.0.0',
} as const

export const roundsTopic = (taskId: bigint | string) => `coop/task/${taskId}/rounds`

export class ProtocolError extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.code = code
  }
}

export type RouteCall = (taskId: string, request: { method: string; path: string; query: Record<string, string>; body: unknown }) => Promise<unknown>

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

function taskIdOf(body: Record<string, unknown>): string {
  const raw = typeof body.taskId === 'bigint' || typeof body.taskId === 'number' ? String(body.taskId) : body.taskId
  if (typeof raw !== 'string' || !/^\d{1,78}$/.test(raw)) throw new ProtocolError('BAD_REQUEST', 'taskId must be a decimal string')
  return BigInt(raw).toString()
}

function cycleOf(body: Record<string, unknown>): number {
  const cycle = typeof body.cycle === 'bigint' ? Number(body.cycle) : body.cycle
  if (typeof cycle !== 'number' || !Number.isSafeInteger(cycle) || cycle < 0) throw new ProtocolError('BAD_REQUEST', 'cycle must be a non-negative integer')
  return cycle
}

export function registerProtocols(options: {
  host: CoopHost
  store: NodeStore
  content: ContentStore
  /** Tasks this node serves. */
  hasTask: (taskId: string) => boolean
  route: RouteCall
}): void {
  const { host, store, content } = options
  const body = (request: VerifiedMessage) => {
    if (!isObject(request.body)) throw new ProtocolError('BAD_REQUEST', 'body must be an object')
    return request.body
  }
  const task = (b: Record<string, unknown>) => {
    const taskId = taskIdOf(b)
    if (!options.hasTask(taskId)) throw new ProtocolError('UNKNOWN_TASK', `this node does not run task ${taskId}`)
    return taskId
  }

  host.handle(PROTOCOLS.submission, async (request) => {
    const b = body(request)
    const taskId = task(b)
    const cycle = cycleOf(b)
    const submission = store.getSubmission(taskId, cycle)
    if (!submission) throw new ProtocolError('NOT_FOUND', `no submission for task ${taskId} cycle ${cycle}`)
    return { taskId, cycle, value: decodeValue(submission.value) }
  })

  host.handle(PROTOCOLS.list, async (request) => {
    const b = body(request)
    const taskId = task(b)
    const cycle = cycleOf(b)
    const cid = typeof b.cid === 'string' ? b.cid : undefined
    const list = store.getList(taskId, cycle, cid ? { listCid: cid } : {})
    if (!list) throw new ProtocolError('NOT_FOUND', `no distribution list for task ${taskId} cycle ${cycle}`)
    return { taskId, cycle, cid: list.listCid, list: list.listJson }
  })

  host.handle(PROTOCOLS.block, async (request) => {
    const b = body(request)
    if (typeof b.cid !== 'string') throw new ProtocolError('BAD_REQUEST', 'cid must be a string')
    const bytes = await content.getBlock(b.cid)
    if (!bytes) throw new ProtocolError('NOT_FOUND', `no block ${b.cid}`)
    return { cid: b.cid, bytes }
  })

  host.handle(PROTOCOLS.route, async (request) => {
    const b = body(request)
    const taskId = task(b)
    if (typeof b.path !== 'string' || b.path.length > 1024) throw new ProtocolError('BAD_REQUEST', 'path must be a string')
    const result = await options.route(taskId, { method: 'P2P', path: b.path, query: { from: request.from }, body: b.body ?? null })
    return { result: result ?? null }
  })
}
