// The node's head keeper (src/scale/heads.ts) over a real SQLite state: heads rebuilt from the
// chain's facts alone and checked against the anchored digest, the cursor moving only over settled
// cycles, a cycle finalized out of order, the prev rule under a finalization racing the post, and
// the fetch fallback. The chain is a table of cycles here (getCycle / getSubmission answers, the
// blocks' times); scale-network.test.ts runs the same code on anvil.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

import { DistributionStatus } from '@coop/chain'
import { buildScaleHead, verifyHeadChain, type ChainCycleFacts, type EncodedScaleHead } from '@coop/protocol'
import { pino } from 'pino'
import { type Address, type Hex, getAddress } from 'viem'

import type { NodeError } from '../src/errors.ts'
import { acceptedSubmissions } from '../src/scale/chain-facts.ts'
import { keepHeads, previousAnchoredHead } from '../src/scale/heads.ts'
import { ScaleState } from '../src/scale/scale-state.ts'
import { openState } from '../src/state/store.ts'

const ZERO = `0x${'00'.repeat(32)}` as Hex
const hex32 = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as Hex
const nodes = [1, 2, 3].map((i) => getAddress(`0x${String(i).repeat(40)}`)) as Address[]
const TASK = 5n

/** `finalizedTime`: the timestamp of the block that finalized the row's list. */
type CycleRow = { status: number; scaleHead: Hex; merkleRoot: Hex; listCid: Hex; submitters: Address[]; poster: Address; convicted: Set<string>; finalizedTime?: bigint }

/** Round length 100 s from time 0: cycle c's distribution opens at (c + 2) * 100. */
const ROUND = 100n

function tableChain(rows: Map<bigint, CycleRow>) {
  const calls = { getCycle: 0 }
  const clock = { now: 0n }
  const chain = {
    addresses: { taskManager: getAddress(`0x${'7'.repeat(40)}`) },
    now: async () => clock.now,
    client: {
      // DistributionFinalized of a cycle sits in block 1000 + cycle; the block's time is the row's.
      async getContractEvents({ eventName, args }: { eventName: string; args: { cycle: bigint } }) {
        assert.equal(eventName, 'DistributionFinalized')
        return rows.get(args.cycle)?.finalizedTime === undefined ? [] : [{ blockNumber: 1000n + args.cycle }]
      },
      async getBlock({ blockNumber }: { blockNumber: bigint }) {
        return { timestamp: rows.get(blockNumber - 1000n)!.finalizedTime! }
      },
    },
    coop: {
      async roundStart({ round }: { round: bigint }) {
        return round * ROUND
      },
      async getCycle({ cycle }: { cycle: bigint }) {
        calls.getCycle++
        const row = rows.get(cycle)
        return { batchCount: 0, ...(row ?? { status: DistributionStatus.Pending, scaleHead: ZERO, merkleRoot: ZERO, listCid: ZERO, submitters: [], poster: nodes[0], convicted: new Set() }) } as never
      },
      async getSubmission({ cycle, node }: { cycle: bigint; node: Address }) {
        const row = rows.get(cycle)
        return { root: hex32(Number(cycle) * 100 + nodes.indexOf(node)), convicted: row?.convicted.has(node) ?? false } as never
      },
    },
  }
  return { chain: chain as never, calls, clock }
}

/** What an honest distributor anchors for `cycle` with `prev`; final at `finalizedTime` (default 50 s after it opened). */
function postHead(rows: Map<bigint, CycleRow>, cycle: bigint, prev: string | null, convicted: Address[] = [], finalizedTime = (cycle + 2n) * ROUND + 50n): EncodedScaleHead {
  const submissions = nodes.filter((n) => !convicted.includes(n)).map((node) => ({ node, root: hex32(Number(cycle) * 100 + nodes.indexOf(node)) }))
  const distribution = { merkleRoot: hex32(1000 + Number(cycle)), listCid: hex32(2000 + Number(cycle)) }
  const head = buildScaleHead({ task: TASK, cycle, prev, submissions, distribution })
  rows.set(cycle, { status: DistributionStatus.Final, scaleHead: head.digest, ...distribution, submitters: nodes, poster: nodes[1]!, convicted: new Set(convicted), finalizedTime })
  return head
}

test('the keeper rebuilds every final head from the chain, also when a cycle finalized after the next one\'s distribution opened', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'coop-scale-heads-'))
  const state = openState(join(dir, 'state.sqlite'))
  try {
    const scale = new ScaleState(state)
    const rows = new Map<bigint, CycleRow>()
    const { chain, calls, clock } = tableChain(rows)
    const logger = pino({ level: 'silent' }) as never
    const h0 = postHead(rows, 0n, null) // final at 250
    // Cycle 1 is still Posted when cycle 2's distribution opens (400) …
    rows.set(1n, { status: DistributionStatus.Posted, scaleHead: ZERO, merkleRoot: ZERO, listCid: ZERO, submitters: nodes, poster: nodes[0]!, convicted: new Set() })
    clock.now = 399n
    await assert.rejects(previousAnchoredHead(chain, TASK, 2n), (error: NodeError) => error.code === 'SCALE_HEAD_TOO_EARLY')
    clock.now = 400n
    assert.equal(await previousAnchoredHead(chain, TASK, 2n), h0.digest)
    // … and is finalized at 410, before cycle 2's poster reads the chain (the race a "Final when
    // posting" rule loses): the prev of cycle 2 is still cycle 0's head, for every reader.
    const h1 = postHead(rows, 1n, h0.cid, [nodes[2]!], 410n) // one submitter convicted: not in the head
    rows.set(1n, { ...rows.get(1n)!, status: DistributionStatus.Posted })
    clock.now = 430n
    assert.equal(await previousAnchoredHead(chain, TASK, 2n), h0.digest)
    const h2 = postHead(rows, 2n, h0.cid)
    let kept = await keepHeads({ taskId: TASK, chain, scale, currentRound: 4n, logger })
    assert.deepEqual(kept.map((h) => h.cycle), [0, 2])
    assert.equal(scale.compact(TASK.toString()).headCursor, 1, 'the cursor waits at the unsettled cycle 1')
    rows.set(1n, { ...rows.get(1n)!, status: DistributionStatus.Final })
    assert.equal(await previousAnchoredHead(chain, TASK, 2n), h0.digest, 'cycle 1 finalized after cycle 2 opened: never its prev')
    // Cycle 3: nobody submitted (no list, no head); cycle 4 failed; cycle 5 links cycle 2 (final at 460 < 700).
    rows.set(4n, { status: DistributionStatus.Failed, scaleHead: ZERO, merkleRoot: ZERO, listCid: ZERO, submitters: nodes, poster: nodes[0]!, convicted: new Set() })
    clock.now = 700n
    assert.equal(await previousAnchoredHead(chain, TASK, 5n), h2.digest)
    const h5 = postHead(rows, 5n, h2.cid)
    kept = await keepHeads({ taskId: TASK, chain, scale, currentRound: 7n, logger })
    assert.deepEqual(kept.map((h) => h.cycle).sort(), [1, 5])
    assert.equal(scale.compact(TASK.toString()).headCursor, 6)
    assert.deepEqual(scale.compact(TASK.toString()).lastHead, { cycle: 5, cid: h5.cid, digest: h5.digest })
    const history = scale.finalHeads(TASK.toString())
    assert.deepEqual(history.map((h) => h.digest), [h0, h1, h2, h5].map((h) => h.digest))
    // The kept history verifies against the chain's facts, with the prev rule's times.
    const facts: ChainCycleFacts[] = [...rows.entries()].map(([cycle, row]) => ({
      cycle,
      final: row.status === DistributionStatus.Final,
      scaleHead: row.scaleHead,
      submissions: row.submitters.filter((n) => !row.convicted.has(n)).map((node) => ({ node, root: hex32(Number(cycle) * 100 + nodes.indexOf(node)) })),
      merkleRoot: row.merkleRoot,
      listCid: row.listCid,
      distributionOpensAt: (cycle + 2n) * ROUND,
      ...(row.finalizedTime === undefined ? {} : { finalizedTime: row.finalizedTime }),
    }))
    assert.ok(verifyHeadChain(history.map((h) => h.bytes), facts, { task: TASK }).ok)
    // Without the times the verifier expects prev = the highest final cycle below, which cycle 2's
    // head is not (the times settle it: chain-facts.ts reads them).
    const loose = facts.map(({ finalizedTime: _f, distributionOpensAt: _o, ...rest }) => rest)
    const report = verifyHeadChain(history.map((h) => h.bytes), loose, { task: TASK })
    assert.deepEqual(report.cycles.filter((c) => !c.ok).map((c) => [c.cycle, c.failures.map((f) => f.code)]), [[2, ['PREV_MISMATCH']]])
    // Nothing new: a pass only reads from the cursor on.
    const before = calls.getCycle
    assert.deepEqual(await keepHeads({ taskId: TASK, chain, scale, currentRound: 7n, logger }), [])
    assert.ok(calls.getCycle - before <= 2)
  } finally {
    state.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a head the node cannot rebuild is fetched, checked against the anchor, and never taken when it does not match', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'coop-scale-heads-'))
  const state = openState(join(dir, 'state.sqlite'))
  try {
    const scale = new ScaleState(state)
    const rows = new Map<bigint, CycleRow>()
    const { chain } = tableChain(rows)
    const logger = pino({ level: 'silent' }) as never
    // The poster linked a prev this node never kept (it joined late): rebuilding cannot match.
    const foreignPrev = buildScaleHead({ task: TASK, cycle: 0, prev: null, submissions: [], distribution: { merkleRoot: hex32(9), listCid: hex32(9) } })
    rows.set(0n, { status: DistributionStatus.Failed, scaleHead: ZERO, merkleRoot: ZERO, listCid: ZERO, submitters: [], poster: nodes[0]!, convicted: new Set() })
    const h1 = postHead(rows, 1n, foreignPrev.cid)
    const wrong = buildScaleHead({ task: TASK, cycle: 1, prev: null, submissions: [], distribution: { merkleRoot: hex32(1), listCid: hex32(1) } })
    let kept = await keepHeads({ taskId: TASK, chain, scale, currentRound: 3n, logger, fetchHead: async () => wrong.bytes })
    assert.deepEqual(kept, [])
    assert.equal(scale.getHead(TASK.toString(), 1), undefined)
    assert.equal(scale.compact(TASK.toString()).headCursor, 1, 'not settled: retried next pass')
    const asked: { cycle: bigint; poster: Address; digest: Hex }[] = []
    kept = await keepHeads({ taskId: TASK, chain, scale, currentRound: 3n, logger, fetchHead: async (cycle, poster, digest) => (asked.push({ cycle, poster, digest }), h1.bytes) })
    assert.deepEqual(asked, [{ cycle: 1n, poster: nodes[1], digest: h1.digest }])
    assert.deepEqual(kept.map((h) => [h.cycle, h.digest, h.status]), [[1, h1.digest, 'final']])
    assert.equal(scale.compact(TASK.toString()).headCursor, 2)
  } finally {
    state.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a head lists batched submitters like direct ones (roots from their batch), never convicted ones', async () => {
  const [direct, batched, convicted] = nodes as [Address, Address, Address]
  const zero = ZERO
  const coop = {
    async getCycleSubmitters() {
      return {
        submitters: [
          { node: direct, batch: undefined },
          { node: batched, batch: { entry: { root: hex32(22) } } }, // not materialized: no Submission record yet
          { node: convicted, batch: { entry: { root: hex32(33) } } },
        ],
      }
    },
    async getSubmission({ node }: { node: Address }) {
      if (node === direct) return { root: hex32(11), convicted: false }
      if (node === convicted) return { root: hex32(33), convicted: true }
      return { root: zero, convicted: false }
    },
  }
  assert.deepEqual(await acceptedSubmissions(coop, TASK, 3n, { submitters: [direct], batchCount: 2 }), [
    { node: direct, root: hex32(11) },
    { node: batched, root: hex32(22) },
  ])
  // Without batches only the direct submitters are read (no getCycleSubmitters call).
  const directOnly = { ...coop, getCycleSubmitters: async () => assert.fail('no batches: not called') }
  assert.deepEqual(await acceptedSubmissions(directOnly, TASK, 3n, { submitters: [direct, convicted], batchCount: 0 }), [{ node: direct, root: hex32(11) }])
})
