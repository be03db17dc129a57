// SCALE round store: payload rows + replay watermark, sealing, round DAGs in the block store,
// leaf proofs (checked with the protocol's verifyInclusion), replicas, pruning that keeps roots.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'

import { buildRoundDag, signDevicePayload, verifyInclusion } from '@coop/protocol'
import { createContentStore } from '@coop/sdk'
import fc from 'fast-check'
import { privateKeyToAccount } from 'viem/accounts'

import { RoundStore, isRoundStoreError } from '../src/scale/round-store.ts'
import { openState } from '../src/state/store.ts'

const dir = mkdtempSync(join(tmpdir(), 'coop-round-store-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const self = privateKeyToAccount(`0x${'11'.repeat(32)}`).address
const other = privateKeyToAccount(`0x${'22'.repeat(32)}`).address
let n = 0
function fresh(name = `s${n++}`) {
  const state = openState(join(dir, name, 'state.sqlite'))
  const content = createContentStore(join(dir, name, 'content'))
  return { state, content, rounds: new RoundStore({ state, content, self }) }
}
const deviceKey = `0x${'33'.repeat(32)}` as const
const payload = (round: number, seq: number) => signDevicePayload(deviceKey, 'ed25519', { taskId: '1', round, seq, body: { t: seq } })

describe('RoundStore', () => {
  test('payloads: appended durably, replay watermark and positions survive a reopen; sealing refuses later ones', async () => {
    const name = 'reopen'
    let { state, rounds } = fresh(name)
    const items = [0, 1, 2].map((seq) => {
      const p = payload(4, seq)
      return { taskId: '1', cycle: 4, position: seq, cid: p.cid, device: p.payload.device, seq, bytes: p.bytes }
    })
    rounds.appendPayloads(items)
    assert.throws(() => rounds.appendPayloads([{ ...items[0]!, seq: 9 }]), (e) => isRoundStoreError(e, 'POSITION_TAKEN'))
    assert.equal(rounds.lastSeq('1', items[0]!.device), 2, 'a failed batch leaves the watermark as it was')
    state.close()
    ;({ state, rounds } = fresh(name))
    assert.equal(rounds.lastSeq('1', items[0]!.device), 2)
    assert.equal(rounds.payloadCount('1', 4), 3)
    const sealed = rounds.sealRound('1', 4)
    assert.equal(sealed.record.status, 'sealed')
    assert.deepEqual(sealed.payloads, items.map((i) => i.bytes))
    assert.ok(rounds.isSealed('1', 4))
    const late = payload(4, 3)
    assert.throws(
      () => rounds.appendPayloads([{ taskId: '1', cycle: 4, position: 3, cid: late.cid, device: late.payload.device, seq: 3, bytes: late.bytes }]),
      (e) => isRoundStoreError(e, 'ROUND_SEALED'),
    )
    const record = await rounds.buildOwnRound('1', 4, sealed.payloads, sealed.payloads.length)
    assert.equal(record.status, 'built')
    assert.equal(record.root, buildRoundDag(sealed.payloads).root)
    assert.equal(rounds.sealRound('1', 4).payloads.length, 0, 'payload bytes moved to the block store')
    const proof = await rounds.proveLeaf('1', 4, 1)
    assert.deepEqual(proof.leaf, items[1]!.bytes)
    assert.ok(verifyInclusion(record.digest!, 1, proof.leaf, proof.proof))
    state.close()
  })

  test('proveLeaf: every index of random DAGs verifies against the root, and only at its own index', async () => {
    const { state, rounds } = fresh()
    let cycle = 0
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.record({ x: fc.integer() })), { minLength: 1, maxLength: 40 }), async (leaves) => {
        const c = cycle++
        const record = await rounds.buildOwnRound('7', c, leaves)
        for (let i = 0; i < leaves.length; i++) {
          const proof = await rounds.proveLeaf('7', c, i)
          assert.ok(verifyInclusion(record.root!, i, proof.leaf, proof.proof))
          if (leaves.length > 1) {
            const j = (i + 1) % leaves.length
            const otherProof = await rounds.proveLeaf('7', c, j)
            if (otherProof.leafCid !== proof.leafCid) assert.equal(verifyInclusion(record.root!, j, proof.leaf, proof.proof), false)
          }
        }
        await assert.rejects(rounds.proveLeaf('7', c, leaves.length), (e) => isRoundStoreError(e, 'INDEX_OUT_OF_RANGE'))
      }),
      { numRuns: 25, seed: 42 },
    )
    await assert.rejects(rounds.proveLeaf('7', 999, 0), (e) => isRoundStoreError(e, 'ROUND_NOT_FOUND'))
    state.close()
  })

  test('replicas: importRound walks the whole DAG; a missing block is refused; same root is idempotent, another root is not', async () => {
    const source = fresh()
    const replica = fresh()
    const leaves = Array.from({ length: 11 }, (_, i) => new Uint8Array([i, i, i]))
    const built = await source.rounds.buildOwnRound('1', 2, leaves)
    const blocks = await source.rounds.roundBlocks('1', 2)
    assert.equal(blocks.size, 11 + 10)
    const partial = new Map(blocks)
    partial.delete([...partial.keys()][3]!)
    await assert.rejects(replica.rounds.importRound({ taskId: '1', cycle: 2, node: self, root: built.root!, blocks: partial }), (e) => isRoundStoreError(e, 'BLOCK_MISSING'))
    const imported = await replica.rounds.importRound({ taskId: '1', cycle: 2, node: other, root: built.root!, blocks })
    assert.equal(imported.leafCount, 11)
    assert.equal(imported.digest, built.digest)
    const proof = await replica.rounds.proveLeaf('1', 2, 7, other)
    assert.deepEqual(proof.leaf, leaves[7])
    const again = await replica.rounds.importRound({ taskId: '1', cycle: 2, node: other, root: built.root!, blocks })
    assert.equal(again.root, built.root)
    const different = buildRoundDag([new Uint8Array([9])])
    await assert.rejects(replica.rounds.putRound({ taskId: '1', cycle: 2, node: other, dag: different }), (e) => isRoundStoreError(e, 'BAD_ROUND'))
    source.state.close()
    replica.state.close()
  })

  test('deleteLeaves: frees blocks no live round shares, keeps root/digest/counts, proofs answer LEAVES_PRUNED', async () => {
    const { state, content, rounds } = fresh()
    const shared = new Uint8Array([1, 2, 3])
    const a = await rounds.buildOwnRound('1', 1, [shared, new Uint8Array([4])])
    await rounds.buildOwnRound('1', 2, [shared, new Uint8Array([5])])
    const before = (await content.stats()).blocks
    const freed = await rounds.deleteLeaves('1', 1)
    assert.equal(freed.blocks, 2, 'the unshared leaf and the root; the shared leaf stays')
    assert.equal((await content.stats()).blocks, before - 2)
    const pruned = rounds.getRound('1', 1)!
    assert.equal(pruned.status, 'pruned')
    assert.equal(pruned.root, a.root)
    assert.equal(pruned.digest, a.digest)
    assert.equal(pruned.leafCount, 2)
    await assert.rejects(rounds.proveLeaf('1', 1, 0), (e) => isRoundStoreError(e, 'LEAVES_PRUNED'))
    assert.ok(verifyInclusion((await rounds.proveLeaf('1', 2, 0)).root, 0, shared, (await rounds.proveLeaf('1', 2, 0)).proof))
    assert.deepEqual(await rounds.deleteLeaves('1', 1), { blocks: 0, bytes: 0 }, 'idempotent')
    assert.deepEqual(rounds.listRounds('1').map((r) => [r.cycle, r.status]), [[1, 'pruned'], [2, 'built']])
    state.close()
  })
})
