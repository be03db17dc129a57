import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { GraphStore, isGraphError, toGraph, type Graph } from '@coop/graph'

const dir = mkdtempSync(join(tmpdir(), 'coop-graph-store-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let files = 0
const dbPath = () => join(dir, `g${files++}.db`)

function node(soul: string, entries: Record<string, [unknown, number]>): Graph {
  const out: Graph = { [soul]: { _: { '#': soul, '>': {} } } }
  for (const [key, [value, state]] of Object.entries(entries)) {
    out[soul]!._['>'][key] = state
    out[soul]![key] = value as never
  }
  return out
}

test('put applies newer keys, reports older and future ones, and get/value/state read them', async () => {
  const now = 1000
  const store = await GraphStore.open({ clock: () => now })
  const first = await store.put(node('a', { x: [1, 10], y: ['hi', 10] }))
  assert.deepEqual(first.applied, node('a', { x: [1, 10], y: ['hi', 10] }))
  const second = await store.put(node('a', { x: [2, 5], y: ['yo', 20], z: [true, 5000] }))
  assert.deepEqual(second.applied, node('a', { y: ['yo', 20] }))
  assert.deepEqual(second.historical, node('a', { x: [2, 5] }))
  assert.deepEqual(second.deferred, node('a', { z: [true, 5000] }))
  assert.equal(store.value('a', 'x'), 1)
  assert.equal(store.value('a', 'y'), 'yo')
  assert.equal(store.value('a', 'z'), undefined, 'a deferred key is not applied')
  assert.equal(store.state('a', 'y'), 20)
  assert.deepEqual(store.get('a', 'y'), { _: { '#': 'a', '>': { y: 20 } }, y: 'yo' })
  assert.equal(store.get('a', 'nope'), undefined)
  assert.equal(store.get('nope'), undefined)
  assert.deepEqual(store.get('a'), { _: { '#': 'a', '>': { x: 10, y: 20 } }, x: 1, y: 'yo' })
  const duplicate = await store.put(node('a', { y: ['yo', 20] }))
  assert.deepEqual(duplicate, { applied: {}, deferred: {}, historical: {} }, 'an exact duplicate changes nothing and is in no bucket')
  await store.close()
})

test('keys named like Object.prototype members are ordinary keys', async () => {
  const store = await GraphStore.open({ clock: () => 1000 })
  assert.equal(store.value('a', 'constructor'), undefined)
  await store.put(node('a', { x: [1, 1] }))
  assert.equal(store.value('a', 'constructor'), undefined)
  assert.equal(store.state('a', 'toString'), undefined)
  const protoNamed = JSON.parse('{"constructor":["c",5],"toString":[null,5],"hasOwnProperty":[false,5]}') as Record<string, [unknown, number]>
  const result = await store.put(node('a', protoNamed))
  assert.deepEqual(result.applied, node('a', protoNamed))
  assert.equal(store.value('a', 'constructor'), 'c')
  assert.equal(store.value('a', 'toString'), null)
  assert.deepEqual(store.graphSince(4), node('a', protoNamed))
  assert.equal(await store.set('a', 'valueOf', 1, 7), 'applied')
  assert.equal(store.value('a', 'valueOf'), 1)
})

test('set stamps with a strictly increasing state clock and reports outcomes', async () => {
  let now = 5000
  const store = await GraphStore.open({ clock: () => now })
  assert.equal(await store.set('s', 'k', 'one'), 'applied')
  const s1 = store.state('s', 'k')!
  assert.equal(await store.set('s', 'k', 'two'), 'applied')
  assert.ok(store.state('s', 'k')! > s1, 'same-millisecond writes are ordered')
  assert.equal(await store.set('s', 'k', 'old', 1), 'historical')
  assert.equal(await store.set('s', 'k', 'two', store.state('s', 'k')), 'unchanged')
  assert.equal(await store.set('s', 'k', 'later', now + 100), 'deferred')
  assert.equal(store.value('s', 'k'), 'two')
  now += 100
  assert.deepEqual(await store.matureDeferrals(), node('s', { k: ['later', 5100] }))
  assert.equal(store.value('s', 'k'), 'later')
  await assert.rejects(store.set('s', '_', 1), (e) => isGraphError(e, 'MALFORMED'))
  await assert.rejects(store.set('', 'k', 1), (e) => isGraphError(e, 'INVALID_SOUL'))
  await assert.rejects(store.set('s', 'k', Number.NaN), (e) => isGraphError(e, 'INVALID_VALUE'))
  await assert.rejects(store.set('s', 'k', 1, Number.POSITIVE_INFINITY), (e) => isGraphError(e, 'INVALID_STATE'))
  assert.equal(store.value('s', 'k'), 'later')
  await store.close()
})

test('graphSince returns only the keys written after a state', async () => {
  const store = await GraphStore.open({ clock: () => 10_000 })
  await store.put(node('a', { old: [1, 100], new: [2, 300] }))
  await store.put(node('b', { old: [3, 50] }))
  await store.put(node('c', { new: [{ '#': 'a' }, 301] }))
  assert.deepEqual(store.graphSince(200), { ...node('a', { new: [2, 300] }), ...node('c', { new: [{ '#': 'a' }, 301] }) })
  assert.deepEqual(store.graphSince(400), {})
  assert.equal(Object.keys(store.graph()).length, 3)
  await store.close()
})

test('change events report what was applied, also when a deferral matures', async () => {
  let now = 100
  const store = await GraphStore.open({ clock: () => now })
  const seen: Graph[] = []
  const off = store.on('change', (applied) => seen.push(applied))
  await store.put(node('a', { x: [1, 50], later: [2, 150] }))
  await store.put(node('a', { x: [0, 10] }))
  assert.deepEqual(seen, [node('a', { x: [1, 50] })])
  now = 150
  await store.matureDeferrals()
  assert.deepEqual(seen[1], node('a', { later: [2, 150] }))
  off()
  await store.set('a', 'x', 9)
  assert.equal(seen.length, 2)
  await store.close()
})

test('a durable store keeps every key, deferral and history across close and reopen', async () => {
  const path = dbPath()
  let now = 1000
  const store = await GraphStore.open({ path, clock: () => now, keepHistory: true })
  assert.equal(store.durable, true)
  await store.put(toGraph('user', { name: 'ann', address: { city: 'Oslo' } }, 900))
  await store.put(node('user', { name: ['bo', 950] }))
  await store.put(node('user', { name: ['al', 920] })) // historical
  const deferred = await store.put(node('user', { mood: ['future', 5000] }))
  assert.deepEqual(deferred.deferred, node('user', { mood: ['future', 5000] }))
  await store.close()
  await assert.rejects(store.put(node('user', { a: [1, 1] })), (e) => isGraphError(e, 'CLOSED'))

  const reopened = await GraphStore.open({ path, clock: () => now, keepHistory: true })
  assert.equal(reopened.value('user', 'name'), 'bo')
  assert.deepEqual(reopened.value('user', 'address'), { '#': 'user/address' })
  assert.equal(reopened.value('user/address', 'city'), 'Oslo')
  assert.equal(reopened.value('user', 'mood'), undefined)
  assert.deepEqual(reopened.deferred(), [{ soul: 'user', key: 'mood', value: 'future', state: 5000 }])
  assert.deepEqual(reopened.history('user', 'name'), [
    { value: 'ann', state: 900 },
    { value: 'al', state: 920 },
  ])
  await reopened.close()

  now = 6000 // the deferral's time came while the store was closed: applied at open
  const later = await GraphStore.open({ path, clock: () => now })
  assert.equal(later.value('user', 'mood'), 'future')
  assert.deepEqual(later.deferred(), [])
  await later.close()
  const again = await GraphStore.open({ path, clock: () => now })
  assert.equal(again.value('user', 'mood'), 'future', 'the matured deferral was written through')
  assert.deepEqual(again.deferred(), [])
  await again.close()
})

test('concurrent puts share transactions and every ack means durable', async () => {
  const path = dbPath()
  const store = await GraphStore.open({ path })
  const acks = await Promise.all(Array.from({ length: 500 }, (_, i) => store.put(node(`n${i % 7}`, { [`k${i}`]: [i, 1000 + i] }))))
  assert.equal(acks.length, 500)
  const sets = await Promise.all(Array.from({ length: 500 }, (_, i) => store.set('sets', `k${i}`, i, 10 + i)))
  assert.ok(sets.every((o) => o === 'applied'))
  await store.close()
  const reopened = await GraphStore.open({ path })
  for (let i = 0; i < 500; i++) {
    assert.equal(reopened.value(`n${i % 7}`, `k${i}`), i)
    assert.equal(reopened.value('sets', `k${i}`), i)
  }
  await reopened.close()
})

test('when a put or set resolves, its keys (and its deferrals) are already committed: another connection sees them', async () => {
  const path = dbPath()
  const store = await GraphStore.open({ path, clock: () => 1000 })
  const { DatabaseSync } = await import('node:sqlite')
  const reader = new DatabaseSync(path, { readOnly: true })
  const keyRow = reader.prepare('SELECT value, state FROM nodes WHERE soul = ? AND key = ?')
  const deferredRows = reader.prepare('SELECT value, state FROM deferred WHERE soul = ? AND key = ?')
  const committed = (soul: string, key: string) => {
    const row = keyRow.get(soul, key)
    return row === undefined ? undefined : { ...row }
  }
  const acks: Promise<void>[] = []
  for (let i = 0; i < 60; i++) {
    acks.push(store.put(node('acked', { [`k${i}`]: [i, 100 + i] })).then(() => assert.deepEqual(committed('acked', `k${i}`), { value: String(i), state: 100 + i })))
    acks.push(store.set('acked', `s${i}`, `v${i}`, 200 + i).then(() => assert.deepEqual(committed('acked', `s${i}`), { value: `"v${i}"`, state: 200 + i })))
  }
  // a deferred key is not applied, but its deferral is durable when the put resolves
  acks.push(
    store.put(node('later', { x: ['soon', 5000] })).then((result) => {
      assert.deepEqual(result.deferred, node('later', { x: ['soon', 5000] }))
      assert.equal(committed('later', 'x'), undefined)
      assert.deepEqual(deferredRows.all('later', 'x').map((row) => ({ ...row })), [{ value: '"soon"', state: 5000 }])
    }),
  )
  await Promise.all(acks)
  reader.close()
  await store.close()
})

test('keepHistory off records no history; on, in memory too', async () => {
  const plain = await GraphStore.open({ clock: () => 1000 })
  await plain.put(node('a', { x: [1, 10] }))
  await plain.put(node('a', { x: [2, 20] }))
  await plain.put(node('a', { x: [0, 5] }))
  assert.deepEqual(plain.history('a', 'x'), [])
  const keeping = await GraphStore.open({ clock: () => 1000, keepHistory: true })
  await keeping.put(node('a', { x: [1, 10] }))
  await keeping.put(node('a', { x: [2, 20] }))
  await keeping.put(node('a', { x: [0, 5] }))
  await keeping.put(node('a', { x: ['a', 20] })) // '"a"' < '2': loses the tie, kept as history
  assert.deepEqual(keeping.history('a', 'x'), [
    { value: 0, state: 5 },
    { value: 1, state: 10 },
    { value: 'a', state: 20 },
  ])
})

test('verify sees each delta and stores only what it returns; its errors reject the put', async () => {
  const store = await GraphStore.open({
    clock: () => 1000,
    verify: async (delta) => {
      const allowed: Graph = {}
      for (const soul of Object.keys(delta)) if (!soul.startsWith('~')) allowed[soul] = delta[soul]!
      if (Object.keys(delta).includes('~bad')) {
        const { GraphError } = await import('@coop/graph')
        throw new GraphError('BAD_SIGNATURE', 'forged')
      }
      return allowed
    },
  })
  const result = await store.put({ ...node('open', { a: [1, 1] }), ...node('~pub', { a: [2, 1] }) })
  assert.deepEqual(result.applied, node('open', { a: [1, 1] }))
  assert.equal(store.get('~pub'), undefined)
  await assert.rejects(store.put({ ...node('x', { a: [1, 1] }), ...node('~bad', { a: [1, 1] }) }), (e) => isGraphError(e, 'BAD_SIGNATURE'))
  assert.equal(store.get('x'), undefined, 'nothing of a rejected delta is stored')
})

test('a corrupt or foreign database file is a typed STORAGE error', async () => {
  const path = dbPath()
  const { writeFileSync } = await import('node:fs')
  writeFileSync(path, 'this is not sqlite'.repeat(100))
  await assert.rejects(GraphStore.open({ path }), (e) => isGraphError(e, 'STORAGE'))
})
