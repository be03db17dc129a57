// Replication of round DAGs (DESIGN.md §2, docs/scale.md): each round's DAG is held by at least k
// nodes (k = the task's scale.replication). After its submission is on-chain and the cycle's
// submitters are known, a node pushes its round's blocks to the first k − 1 nodes of the
// rendezvous ranking (@coop/protocol rankReplicas over the cycle's submitters), moving down the
// ranking past nodes that do not take them, and records each replica's signed ack. A replica takes
// a round only if its root is the owner's on-chain submission, hash-checks every block and walks
// the DAG from the root before it acks. A node that lost blocks fetches them back by CID from the
// nodes that hold them (`/coop/scale/blocks/1`, every block re-hashed). Replicas prune with the
// node's own retention rule (pruning.ts covers every held round).
//
//   /coop/scale/replica/1  { taskId, cycle, node, root, leafCount, part, last, blocks: [{ cid, bytes }] }
//                          → { taskId, cycle, node, root, leafCount, holder, stored: boolean } (signed: the ack)
//   /coop/scale/blocks/1   { cids: [cid…] (≤ 512) } → { blocks: [{ cid, bytes }] } (the ones held)
import type { CoopHost, VerifiedMessage } from '@coop/p2p'
import { rankReplicas, roundDagInterior, splitPoint } from '@coop/protocol'
import type { ContentStore } from '@coop/sdk'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { type Address, type Hex, bytesToHex, getAddress, isAddress, sha256 } from 'viem'

import { NodeError, errorMessage } from '../errors.ts'
import type { Logger } from '../logger.ts'
import type { RoundRecord, RoundStore } from './round-store.ts'
import type { ScaleState } from './scale-state.ts'

export const REPLICA_PROTOCOL = 'scale/replica/1'
export const BLOCKS_PROTOCOL = 'scale/blocks/1'
/** Blocks per replica push message (well under @coop/p2p's 4 MiB frames: leaves are ≤ 1 MiB each, so also bounded by bytes). */
export const PUSH_PART_BYTES = 2 * 1024 * 1024
/** CIDs per block fetch. */
export const MAX_FETCH_CIDS = 512
/** Bytes a replica stages in memory for unfinished pushes, over all owners. */
const MAX_STAGED_BYTES = 256 * 1024 * 1024
/** An unfinished push is dropped after this long without a part. */
const STAGE_TTL_MS = 60_000

/** What replication needs to know from the chain. */
export interface ReplicationChain {
  /** The cycle's submitters (the replica candidates), in on-chain order. */
  submitters(taskId: bigint, cycle: bigint): Promise<readonly Address[]>
  /** The owner's on-chain root (32-byte digest; zero if it did not submit). */
  submittedRoot(taskId: bigint, cycle: bigint, node: Address): Promise<Hex>
}

export interface ReplicationOptions {
  host: CoopHost
  rounds: RoundStore
  content: ContentStore
  scale: ScaleState
  chain: ReplicationChain
  /** p2p address of a node (the registry), '' when unknown. */
  multiaddrOf(node: Address): Promise<string>
  /** Whether this node runs the task (and so takes its replicas). */
  hasTask(taskId: string): boolean
  logger: Logger
  requestTimeoutMs?: number
}

type Staged = { root: string; leafCount: number; blocks: Map<string, Uint8Array>; bytes: number; nextPart: number; touched: number }

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** Whether `bytes` hash (sha2-256) to the CIDv1 `cid`; false for anything that is not such a CID. */
function hashesTo(cid: string, bytes: Uint8Array): boolean {
  try {
    const parsed = CID.parse(cid)
    return parsed.version === 1 && parsed.multihash.code === 0x12 && bytesToHex(parsed.multihash.digest) === sha256(bytes)
  } catch {
    return false
  }
}

function bad(message: string, details: Record<string, unknown> = {}): NodeError {
  return new NodeError('SCALE_BAD_REQUEST', message, { details })
}

export type ReplicateResult = { holders: Address[]; acked: Address[]; missing: number }

export class Replication {
  private readonly options: ReplicationOptions
  private readonly staged = new Map<string, Staged>()
  private stagedBytes = 0

  constructor(options: ReplicationOptions) {
    this.options = options
  }

  get self(): Address {
    return this.options.rounds.self
  }

  /** Registers `/coop/scale/replica/1` and `/coop/scale/blocks/1`. */
  serve(): void {
    this.options.host.handle(REPLICA_PROTOCOL, (request) => this.takeReplica(request))
    this.options.host.handle(BLOCKS_PROTOCOL, (request) => this.serveBlocks(request))
  }

  // ─── replica side ───

  private dropStale(now: number): void {
    for (const [key, entry] of this.staged) {
      if (now - entry.touched > STAGE_TTL_MS) {
        this.staged.delete(key)
        this.stagedBytes -= entry.bytes
      }
    }
  }

  private async takeReplica(request: VerifiedMessage): Promise<unknown> {
    const body = request.body
    if (!isObject(body)) throw bad('body must be an object')
    const taskId = typeof body.taskId === 'string' && /^\d{1,78}$/.test(body.taskId) ? BigInt(body.taskId) : undefined
    const cycle = typeof body.cycle === 'number' && Number.isSafeInteger(body.cycle) && body.cycle >= 0 ? body.cycle : undefined
    const owner = typeof body.node === 'string' && isAddress(body.node, { strict: false }) ? getAddress(body.node) : undefined
    const part = typeof body.part === 'number' && Number.isSafeInteger(body.part) && body.part >= 0 ? body.part : undefined
    const leafCount = typeof body.leafCount === 'number' && Number.isSafeInteger(body.leafCount) && body.leafCount >= 1 ? body.leafCount : undefined
    if (taskId === undefined || cycle === undefined || owner === undefined || part === undefined || leafCount === undefined || typeof body.root !== 'string' || !Array.isArray(body.blocks)) {
      throw bad('body must be { taskId, cycle, node, root, leafCount, part, last, blocks: [{ cid, bytes }] }')
    }
    const id = taskId.toString()
    if (!this.options.hasTask(id)) throw new NodeError('TASK_NOT_FOUND', `this node does not run task ${id}`)
    if (owner === this.self) throw new NodeError('REPLICA_REJECTED', 'a node does not replicate its own round to itself')
    let root: CID
    try {
      root = CID.parse(body.root)
    } catch (cause) {
      throw bad('root is not a CID', { root: body.root })
    }
    const ack = (stored: boolean, record: RoundRecord) => ({ taskId: id, cycle, node: owner, root: record.root, leafCount: record.leafCount, holder: this.self, stored })
    const held = this.options.rounds.getRound(id, cycle, owner)
    if (held?.root === root.toString() && held.status !== 'sealed') return ack(false, held) // idempotent: already held (or already pruned)
    const key = `${id}:${cycle}:${owner.toLowerCase()}`
    const now = Date.now()
    this.dropStale(now)
    let entry = this.staged.get(key)
    if (part === 0) {
      // Only the owner's on-chain root, only from a node of the cycle, only to a node of the cycle.
      const [submitters, onChain] = await Promise.all([this.options.chain.submitters(taskId, BigInt(cycle)), this.options.chain.submittedRoot(taskId, BigInt(cycle), owner)])
      const members = new Set(submitters.map((node) => node.toLowerCase()))
      if (!members.has(this.self.toLowerCase())) throw new NodeError('REPLICA_REJECTED', 'this node is not a submitter of the cycle, so not a replica candidate', { details: { taskId: id, cycle } })
      if (onChain.toLowerCase() !== bytesToHex(root.multihash.digest)) {
        throw new NodeError('REPLICA_REJECTED', 'the root is not the owner\'s on-chain submission', { details: { taskId: id, cycle, node: owner, root: root.toString(), onChain } })
      }
      if (entry) this.stagedBytes -= entry.bytes
      entry = { root: root.toString(), leafCount, blocks: new Map(), bytes: 0, nextPart: 0, touched: now }
      this.staged.set(key, entry)
    }
    if (!entry || entry.root !== root.toString() || entry.nextPart !== part) {
      throw bad('push part out of order (start again at part 0)', { expected: entry?.nextPart ?? 0, part })
    }
    for (const item of body.blocks) {
      if (!isObject(item) || typeof item.cid !== 'string' || !(item.bytes instanceof Uint8Array)) throw bad('a block is not { cid, bytes }')
      if (entry.blocks.has(item.cid)) continue
      if (!hashesTo(item.cid, item.bytes)) {
        // Nothing of this push is kept: the sender must start again with good blocks.
        this.staged.delete(key)
        this.stagedBytes -= entry.bytes
        throw new NodeError('REPLICA_REJECTED', 'a block does not hash to its CID', { details: { cid: item.cid } })
      }
      if (this.stagedBytes + item.bytes.length > MAX_STAGED_BYTES) {
        this.staged.delete(key)
        this.stagedBytes -= entry.bytes
        throw new NodeError('REPLICA_BUSY', 'too many replica bytes staged; retry later')
      }
      entry.blocks.set(item.cid, item.bytes)
      entry.bytes += item.bytes.length
      this.stagedBytes += item.bytes.length
    }
    entry.nextPart += 1
    entry.touched = now
    if (body.last !== true) return { taskId: id, cycle, node: owner, part, staged: entry.blocks.size }
    this.staged.delete(key)
    this.stagedBytes -= entry.bytes
    // The root block states the leaf count (a one-leaf DAG's root is the leaf): check it first.
    const rootBlock = entry.blocks.get(entry.root)
    const stated = rootBlock === undefined ? undefined : root.code === dagCbor.code ? (roundDagInterior(rootBlock)?.n ?? 1) : 1
    if (stated !== leafCount) throw new NodeError('REPLICA_REJECTED', 'the DAG does not have the announced leaf count', { details: { leafCount, stated: stated ?? null } })
    // importRound walks the DAG from the root (every block present, shapes right) before it writes anything.
    const record = await this.options.rounds.importRound({ taskId: id, cycle, node: owner, root: entry.root, blocks: entry.blocks })
    this.options.logger.debug({ taskId: id, cycle, owner, root: record.root, leaves: record.leafCount }, 'replica stored')
    return ack(true, record)
  }

  private async serveBlocks(request: VerifiedMessage): Promise<unknown> {
    const body = request.body
    if (!isObject(body) || !Array.isArray(body.cids) || body.cids.length > MAX_FETCH_CIDS || !body.cids.every((cid) => typeof cid === 'string')) {
      throw bad(`body must be { cids: [string] } with at most ${MAX_FETCH_CIDS} CIDs`)
    }
    const blocks: { cid: string; bytes: Uint8Array }[] = []
    let bytes = 0
    for (const cid of body.cids as string[]) {
      const block = await this.options.content.getBlock(cid).catch(() => undefined)
      if (!block) continue
      if (bytes + block.length > PUSH_PART_BYTES) break // the requester asks again for the rest
      blocks.push({ cid, bytes: block })
      bytes += block.length
    }
    return { blocks }
  }

  // ─── owner side ───

  private async request(node: Address, protocol: string, body: unknown): Promise<VerifiedMessage> {
    const multiaddr = await this.options.multiaddrOf(node)
    if (!multiaddr) throw new Error(`node ${node} has no registered p2p address`)
    const message = await this.options.host.request(multiaddr, protocol, body, { timeoutMs: this.options.requestTimeoutMs ?? 15_000 })
    if (getAddress(message.from) !== getAddress(node)) throw new Error(`answer signed by ${message.from}, not ${node}`)
    return message
  }

  /** Pushes one round to one replica, part by part; returns the signed ack. */
  private async push(holder: Address, record: RoundRecord & { root: string }, blocks: Map<string, Uint8Array>): Promise<VerifiedMessage> {
    const parts: { cid: string; bytes: Uint8Array }[][] = [[]]
    let size = 0
    for (const [cid, bytes] of blocks) {
      if (size + bytes.length > PUSH_PART_BYTES && (parts[parts.length - 1] as unknown[]).length > 0) {
        parts.push([])
        size = 0
      }
      ;(parts[parts.length - 1] as { cid: string; bytes: Uint8Array }[]).push({ cid, bytes })
      size += bytes.length
    }
    let answer: VerifiedMessage | undefined
    for (const [part, list] of parts.entries()) {
      answer = await this.request(holder, REPLICA_PROTOCOL, {
        taskId: record.taskId,
        cycle: record.cycle,
        node: this.self,
        root: record.root,
        leafCount: record.leafCount,
        part,
        last: part === parts.length - 1,
        blocks: list,
      })
      const ackBody = answer.body as Record<string, unknown> | null
      // A replica that already holds the round acks at once, whatever part it got.
      if (isObject(ackBody) && typeof ackBody.holder === 'string') break
    }
    const ack = answer?.body as Record<string, unknown> | null
    if (!isObject(ack) || ack.root !== record.root || ack.cycle !== record.cycle || ack.taskId !== record.taskId || typeof ack.node !== 'string' || getAddress(ack.node) !== this.self) {
      throw new Error('the replica did not ack this round')
    }
    return answer as VerifiedMessage
  }

  /**
   * Makes sure `k` nodes (this one included) hold this node's round of `cycle`: pushes to the
   * ranked candidates without an ack until k − 1 acks are recorded. Safe to call repeatedly.
   */
  async replicate(taskId: bigint, cycle: number, k: number): Promise<ReplicateResult> {
    const id = taskId.toString()
    const record = this.options.rounds.getRound(id, cycle)
    if (!record || record.status !== 'built' || !record.root) return { holders: [], acked: [], missing: 0 }
    const want = Math.max(0, k - 1)
    const acked = new Set(this.options.scale.acks(id, cycle, this.self).filter((ack) => ack.root === record.root).map((ack) => getAddress(ack.holder)))
    const ranking = rankReplicas(taskId, BigInt(cycle), this.self, await this.options.chain.submitters(taskId, BigInt(cycle)))
    const holders = ranking.slice(0, want)
    let blocks: Map<string, Uint8Array> | undefined
    for (const holder of ranking) {
      if (acked.size >= want) break
      if (acked.has(holder)) continue
      try {
        blocks ??= await this.options.rounds.roundBlocks(id, cycle)
        const answer = await this.push(holder, record as RoundRecord & { root: string }, blocks)
        this.options.scale.putAck({ taskId: id, cycle, node: this.self, holder, root: record.root, signed: answer.signed, ackedAt: Date.now() })
        acked.add(holder)
      } catch (error) {
        this.options.logger.info({ taskId: id, cycle, holder, err: errorMessage(error) }, 'replica push failed; trying the next candidate')
      }
    }
    return { holders, acked: [...acked], missing: Math.max(0, want - acked.size) }
  }

  // ─── recovery ───

  /** CIDs of a held round's blocks missing from the block store (from the round's block list). */
  async missingBlocks(record: RoundRecord): Promise<string[]> {
    return this.options.rounds.missingBlocks(record.taskId, record.cycle, record.node)
  }

  /**
   * Fetches a held round's missing blocks from the nodes that hold it: for our own round the
   * replicas that acked, then the ranking; for a replica the owner, then the other holders. The
   * DAG is walked from the root (so a lost block list does not matter) and every fetched block is
   * hash-checked by the content store. Returns the blocks restored; throws when some stay missing.
   */
  async recoverRound(record: RoundRecord): Promise<number> {
    if (!record.root) return 0
    const taskId = BigInt(record.taskId)
    const own = record.node === this.self
    const candidates = await this.options.chain.submitters(taskId, BigInt(record.cycle))
    const sources = [
      ...(own ? this.options.scale.acks(record.taskId, record.cycle, this.self).map((ack) => getAddress(ack.holder)) : [record.node]),
      ...rankReplicas(taskId, BigInt(record.cycle), record.node, candidates),
    ].filter((node, index, all) => node !== this.self && all.indexOf(node) === index)
    const { content } = this.options
    let restored = 0
    let level: { cid: CID; n: number }[] = [{ cid: CID.parse(record.root), n: record.leafCount }]
    while (level.length > 0) {
      const missing: string[] = []
      for (const entry of level) if (!(await content.has(entry.cid.toString()))) missing.push(entry.cid.toString())
      for (let start = 0; start < missing.length; ) {
        let batch = missing.slice(start, start + MAX_FETCH_CIDS)
        let got = 0
        for (const source of sources) {
          if (batch.length === 0) break
          try {
            const answer = await this.request(source, BLOCKS_PROTOCOL, { cids: batch })
            const blocks = (answer.body as { blocks?: unknown } | null)?.blocks
            if (!Array.isArray(blocks)) continue
            for (const item of blocks) {
              if (!isObject(item) || typeof item.cid !== 'string' || !(item.bytes instanceof Uint8Array) || !batch.includes(item.cid)) continue
              await content.putBlock(item.cid, item.bytes) // HASH_MISMATCH unless the bytes hash to the CID
              got += 1
            }
            batch = (await Promise.all(batch.map(async (cid) => ((await content.has(cid)) ? undefined : cid)))).filter((cid): cid is string => cid !== undefined)
          } catch (error) {
            this.options.logger.info({ taskId: record.taskId, cycle: record.cycle, source, err: errorMessage(error) }, 'block fetch failed; trying another holder')
          }
        }
        if (batch.length > 0 && got === 0) {
          throw new NodeError('SCALE_NOT_FOUND', 'blocks of a held round are missing and no holder returned them', { details: { taskId: record.taskId, cycle: record.cycle, node: record.node, missing: batch.length } })
        }
        restored += got
        if (batch.length === 0) start += MAX_FETCH_CIDS
        else missing.splice(start, MAX_FETCH_CIDS, ...batch) // a holder answered part of the batch: ask for the rest
      }
      const next: { cid: CID; n: number }[] = []
      for (const entry of level) {
        if (entry.n === 1) continue
        const bytes = await content.getBlock(entry.cid.toString())
        const node = bytes ? roundDagInterior(bytes) : undefined
        if (!node || node.n !== entry.n) throw new NodeError('SCALE_NOT_FOUND', 'an interior block of a held round does not match its shape', { details: { cid: entry.cid.toString() } })
        const k = splitPoint(entry.n)
        next.push({ cid: node.l, n: k }, { cid: node.r, n: entry.n - k })
      }
      level = next
    }
    return restored
  }

  /** Recovers every built round of the task (own and replicas) whose blocks are missing. */
  async recoverTask(taskId: string): Promise<{ rounds: number; blocks: number; failed: number }> {
    const result = { rounds: 0, blocks: 0, failed: 0 }
    for (const record of this.options.rounds.listRounds(taskId, { status: 'built' })) {
      if ((await this.missingBlocks(record)).length === 0) continue
      try {
        result.blocks += await this.recoverRound(record)
        result.rounds += 1
        this.options.logger.info({ taskId, cycle: record.cycle, node: record.node }, 'recovered the blocks of a round from its holders')
      } catch (error) {
        result.failed += 1
        this.options.logger.warn({ taskId, cycle: record.cycle, node: record.node, err: errorMessage(error) }, 'round recovery failed; will retry')
      }
    }
    return result
  }
}
