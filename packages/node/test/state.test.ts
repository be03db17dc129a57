// The node's SQLite state: schema, durability settings, intents unique per (kind, task, cycle,
// key), transactions, and the task kv.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'

import { NodeStore, openState } from '../src/state/store.ts'
import { migrations } from '../src/state/migrations.ts'

const dir = mkdtempSync(join(tmpdir(), 'coop-state-test-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
const fresh = () => openState(join(dir, `state-${n++}.sqlite`))

describe('NodeStore', () => {
  test('WAL, synchronous=FULL, migrations applied once and kept across reopen', () => {
    const path = join(dir, 'reopen.sqlite')
    const store = openState(path)
    assert.equal((store.db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal')
    assert.equal((store.db.prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous, 2)
    assert.equal(store.schemaVersion, migrations.length)
    store.ensureIntent({ kind: 'submit', taskId: '1', cycle: 0 }, { root: '0x01' })
    store.close()
    const again = new NodeStore(path)
    assert.equal(again.schemaVersion, migrations.length)
    assert.equal(again.getIntent({ kind: 'submit', taskId: '1', cycle: 0 })?.payload.root, '0x01')
    again.close()
  })

  test('a newer schema than the code is refused', () => {
    const path = join(dir, 'newer.sqlite')
    const store = openState(path)
    store.setMeta('schema_version', String(migrations.length + 1))
    store.close()
    assert.throws(() => openState(path), (error: Error & { code?: string }) => error.code === 'STATE_MIGRATION_FAILED')
  })

  test('one intent per (kind, taskId, cycle, key)', () => {
    const store = fresh()
    const first = store.ensureIntent({ kind: 'vote', taskId: '1', cycle: 2, key: '7' }, { side: 'uphold' })
    assert.equal(first.created, true)
    assert.equal(first.intent.status, 'pending')
    const second = store.ensureIntent({ kind: 'vote', taskId: '1', cycle: 2, key: '7' }, { side: 'reject' })
    assert.equal(second.created, false)
    assert.equal(second.intent.id, first.intent.id)
    assert.equal(second.intent.payload.side, 'uphold', 'the first intent wins; a later call cannot change what was intended')
    // The constraint is in the schema, not just in ensureIntent.
    assert.throws(
      () =>
        store.db
          .prepare("INSERT INTO intents (kind, task_id, cycle, key, status, created_at, updated_at) VALUES ('vote', '1', 2, '7', 'pending', 0, 0)")
          .run(),
      /UNIQUE/,
    )
    // Other keys, cycles, kinds and tasks are different actions.
    for (const ref of [
      { kind: 'vote', taskId: '1', cycle: 2, key: '8' },
      { kind: 'vote', taskId: '1', cycle: 3, key: '7' },
      { kind: 'resolve', taskId: '1', cycle: 2, key: '7' },
      { kind: 'vote', taskId: '2', cycle: 2, key: '7' },
    ] as const) {
      assert.equal(store.ensureIntent(ref).created, true)
    }
    assert.throws(() => store.db.prepare("UPDATE intents SET status = 'bogus' WHERE id = ?").run(first.intent.id), /CHECK/)
    store.close()
  })

  test('intent updates and filters', () => {
    const store = fresh()
    const { intent } = store.ensureIntent({ kind: 'submit', taskId: '1', cycle: 4 }, { root: '0xab' })
    const sent = store.updateIntent(intent.id, { status: 'sent', txHash: '0x12', rawTx: '0x34', nonce: 9 })
    assert.equal(sent.status, 'sent')
    assert.equal(sent.nonce, 9)
    assert.ok(sent.updatedAt >= intent.updatedAt)
    store.ensureIntent({ kind: 'claim', taskId: '1', cycle: 3, key: '1,2,3' })
    assert.deepEqual(store.listIntents({ status: ['sent'] }).map((i) => i.kind), ['submit'])
    assert.deepEqual(store.listIntents({ taskId: '1', kind: 'claim' }).map((i) => i.key), ['1,2,3'])
    assert.throws(() => store.updateIntent(999, { status: 'confirmed' }), /does not exist/)
    store.close()
  })

  test('transactions roll back as a whole', () => {
    const store = fresh()
    assert.throws(() =>
      store.transaction(() => {
        store.kvPut('1', 'a', 1)
        store.markStep('1', 0, 'work')
        throw new Error('crash')
      }),
    )
    assert.equal(store.kvGet('1', 'a'), undefined)
    assert.equal(store.hasStep('1', 0, 'work'), false)
    store.close()
  })

  test('task kv keeps plain data (bigint, bytes, maps) and lists by prefix literally', () => {
    const store = fresh()
    const value = { n: 10n ** 30n, bytes: new Uint8Array([1, 2, 3]), map: new Map([['a', 1]]), list: [1, 'two'] }
    store.kvPut('1', 'result/000001', value)
    store.kvPut('1', 'result/000002', 2)
    store.kvPut('1', 'result%x', 3)
    store.kvPut('2', 'result/000001', 4)
    assert.deepEqual(store.kvGet('1', 'result/000001'), value)
    assert.deepEqual(store.kvList('1', 'result/'), ['result/000001', 'result/000002'])
    assert.deepEqual(store.kvList('1', 'result%'), ['result%x'])
    store.kvDelete('1', 'result/000001')
    assert.deepEqual(store.kvList('1', 'result/'), ['result/000002'])
    store.close()
  })

  test('verdicts, audits, lists, submissions and steps', () => {
    const store = fresh()
    store.putVerdict({ taskId: '1', cycle: 2, kind: 'submission', subject: '0xABC', ok: false, reason: 'forged', evidenceCid: 'bafy' })
    assert.equal(store.getVerdict('1', 2, 'submission', '0xabc')?.reason, 'forged')
    store.upsertAudit({ auditId: '3', taskId: '1', cycle: 2, kind: 'submission', accused: '0xa', accuser: '0xb', evidenceCid: '0x00', deadline: 100, blockNumber: 5 })
    store.upsertAudit({ auditId: '3', taskId: '1', cycle: 2, kind: 'submission', accused: '0xa', accuser: '0xb', evidenceCid: '0x00', deadline: 100, blockNumber: 5 })
    assert.equal(store.listAudits({ taskId: '1', resolved: false }).length, 1)
    store.markAuditResolved('3', true)
    assert.deepEqual([store.getAudit('3')?.resolved, store.getAudit('3')?.upheld], [true, true])
    store.putList({ taskId: '1', cycle: 2, listCid: 'bafyL', merkleRoot: '0xAB', listJson: '{}', source: 'self' })
    assert.equal(store.getList('1', 2, { merkleRoot: '0xab' })?.listCid, 'bafyL')
    store.putSubmission({ taskId: '1', cycle: 2, value: new Uint8Array([9]), cid: 'bafyS', root: '0xCD' })
    assert.deepEqual(store.getSubmission('1', 2)?.value, new Uint8Array([9]))
    assert.equal(store.markStep('1', 2, 'work'), true)
    assert.equal(store.markStep('1', 2, 'work'), false)
    assert.deepEqual(store.cyclesWithStep('1', 'work'), [2])
    store.close()
  })

  test('open cycles and pruning: the state grows with the retention window, not with time', () => {
    const store = fresh()
    for (let cycle = 0; cycle < 10; cycle++) {
      const { intent } = store.ensureIntent({ kind: 'submit', taskId: '1', cycle }, { root: '0x01' })
      store.updateIntent(intent.id, { status: cycle === 9 ? 'sent' : 'confirmed' })
      store.markStep('1', cycle, 'work')
      store.putSubmission({ taskId: '1', cycle, value: new Uint8Array([cycle]), cid: `c${cycle}`, root: '0x01' })
      store.upsertAudit({ auditId: String(cycle), taskId: '1', cycle, kind: 'submission', accused: '0xa', accuser: '0xb', evidenceCid: '0x00', deadline: 1, blockNumber: 1 })
    }
    store.markStep('1', 2, 'closed')
    store.ensureIntent({ kind: 'stake', taskId: '1', cycle: -1, key: '0:100:0' })
    assert.deepEqual(store.openCycles('1', 0), [0, 1, 3, 4, 5, 6, 7, 8])
    assert.deepEqual(store.openCycles('1', 5), [5, 6, 7, 8])
    store.markAuditSettled('1')
    assert.deepEqual(store.listAudits({ taskId: '1', settled: false }).map((a) => a.auditId), ['0', '2', '3', '4', '5', '6', '7', '8', '9'])
    assert.ok(store.prune('1', 5) > 0)
    assert.deepEqual(store.openCycles('1', 0), [5, 6, 7, 8])
    assert.equal(store.getSubmission('1', 4), undefined)
    assert.ok(store.getSubmission('1', 5))
    assert.deepEqual(store.listAudits({ taskId: '1' }).map((a) => a.auditId), ['0', '2', '3', '4', '5', '6', '7', '8', '9'], 'unsettled audits are kept')
    assert.ok(store.getIntent({ kind: 'stake', taskId: '1', cycle: -1, key: '0:100:0' }), 'node-level intents are kept')
    assert.equal(store.getIntent({ kind: 'submit', taskId: '1', cycle: 9 })?.status, 'sent', 'open intents are kept')
    store.close()
  })
})
