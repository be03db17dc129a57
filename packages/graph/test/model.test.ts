// Data model: what a graph may hold, nested objects → linked nodes, and bad input → typed errors with
// nothing stored.

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import fc from 'fast-check'
import { createStateClock, GraphStore, isGraphError, toGraph, validateDelta, type Graph, type GraphErrorCode } from '@coop/graph'

const dir = mkdtempSync(join(tmpdir(), 'coop-graph-model-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const ok = (soul: string, key: string, value: unknown, state = 1): Graph => ({ [soul]: { _: { '#': soul, '>': { [key]: state } }, [key]: value as never } })

test('toGraph turns nested objects into linked nodes with GUN’s souls', () => {
  const graph = toGraph('users/ann', { name: 'Ann', age: 41, admin: false, nick: null, address: { city: 'Oslo', geo: { lat: 59.9 } }, boss: { '#': 'users/bo' } }, 7)
  assert.deepEqual(graph, {
    'users/ann': {
      _: { '#': 'users/ann', '>': { name: 7, age: 7, admin: 7, nick: 7, address: 7, boss: 7 } },
      name: 'Ann',
      age: 41,
      admin: false,
      nick: null,
      address: { '#': 'users/ann/address' },
      boss: { '#': 'users/bo' },
    },
    'users/ann/address': { _: { '#': 'users/ann/address', '>': { city: 7, geo: 7 } }, city: 'Oslo', geo: { '#': 'users/ann/address/geo' } },
    'users/ann/address/geo': { _: { '#': 'users/ann/address/geo', '>': { lat: 7 } }, lat: 59.9 },
  })
  validateDelta(graph)
})

test('toGraph keeps a nested node’s own soul, and links an object met twice (cycles) to one node', () => {
  const shared: Record<string, unknown> = { _: { '#': 'things/shared' }, n: 1 }
  const root: Record<string, unknown> = { a: shared, b: shared }
  shared.back = root
  const graph = toGraph('root', root as never, 3)
  assert.deepEqual(graph.root, { _: { '#': 'root', '>': { a: 3, b: 3 } }, a: { '#': 'things/shared' }, b: { '#': 'things/shared' } })
  assert.deepEqual(graph['things/shared'], { _: { '#': 'things/shared', '>': { n: 3, back: 3 } }, n: 1, back: { '#': 'root' } })
})

test('toGraph rejects arrays, NaN, Infinity, functions with INVALID_VALUE', () => {
  for (const bad of [{ list: [1, 2] }, { n: Number.NaN }, { n: Number.POSITIVE_INFINITY }, { nested: { n: -Infinity } }, { f: () => 1 }, { big: 10n }]) {
    assert.throws(() => toGraph('s', bad as never, 1), (e) => isGraphError(e, 'INVALID_VALUE'), JSON.stringify(Object.keys(bad)))
  }
  assert.throws(() => toGraph('', {}, 1), (e) => isGraphError(e, 'INVALID_SOUL'))
  assert.throws(() => toGraph('s', {}, Number.NaN), (e) => isGraphError(e, 'INVALID_STATE'))
})

const BAD: Array<[string, unknown, GraphErrorCode]> = [
  ['not an object', 'hello', 'MALFORMED'],
  ['an array', [], 'MALFORMED'],
  ['null', null, 'MALFORMED'],
  ['a node that is a string', { s: 'x' }, 'MALFORMED'],
  ['no meta', { s: { a: 1 } }, 'MALFORMED'],
  ['meta soul differs', { s: { _: { '#': 't', '>': { a: 1 } }, a: 1 } }, 'MALFORMED'],
  ['no states', { s: { _: { '#': 's' }, a: 1 } }, 'MALFORMED'],
  ['a key without state', { s: { _: { '#': 's', '>': {} }, a: 1 } }, 'INVALID_STATE'],
  ['a string state', { s: { _: { '#': 's', '>': { a: '1' } }, a: 1 } }, 'INVALID_STATE'],
  ['a NaN state', { s: { _: { '#': 's', '>': { a: Number.NaN } }, a: 1 } }, 'INVALID_STATE'],
  ['an empty soul', { '': { _: { '#': '', '>': { a: 1 } }, a: 1 } }, 'INVALID_SOUL'],
  ['a soul too long', ok('x'.repeat(2049), 'a', 1), 'INVALID_SOUL'],
  ['NaN', ok('s', 'a', Number.NaN), 'INVALID_VALUE'],
  ['Infinity', ok('s', 'a', Number.POSITIVE_INFINITY), 'INVALID_VALUE'],
  ['-Infinity', ok('s', 'a', Number.NEGATIVE_INFINITY), 'INVALID_VALUE'],
  ['an array value', ok('s', 'a', [1]), 'INVALID_VALUE'],
  ['a nested object value', ok('s', 'a', { b: 1 }), 'INVALID_VALUE'],
  ['a link with extra keys', ok('s', 'a', { '#': 'x', b: 1 }), 'INVALID_VALUE'],
  ['a link to an empty soul', ok('s', 'a', { '#': '' }), 'INVALID_SOUL'],
  ['a link to a number', ok('s', 'a', { '#': 5 }), 'INVALID_VALUE'],
  ['undefined', ok('s', 'a', undefined), 'INVALID_VALUE'],
  ['an oversize string', ok('s', 'a', 'x'.repeat(1024 * 1024 + 1)), 'TOO_LARGE'],
  ['an oversize key', ok('s', 'k'.repeat(2049), 1), 'TOO_LARGE'],
  ['__proto__ as a soul', JSON.parse('{"__proto__":{"_":{"#":"__proto__",">":{"a":1}},"a":1}}'), 'INVALID_SOUL'],
  ['__proto__ as a key', JSON.parse('{"s":{"_":{"#":"s",">":{"__proto__":1}},"__proto__":1}}'), 'MALFORMED'],
]

test('bad input is a typed GraphError, and a store keeps nothing of it (memory and durable)', async () => {
  const stores = [await GraphStore.open({ clock: () => 100 }), await GraphStore.open({ path: join(dir, 'bad.db'), clock: () => 100 })]
  for (const store of stores) {
    for (const [what, delta, code] of BAD) {
      // a good node next to the bad one: all or nothing
      const withGood = delta !== null && typeof delta === 'object' && !Array.isArray(delta) ? { good: { _: { '#': 'good', '>': { a: 1 } }, a: 1 }, ...delta } : delta
      await assert.rejects(store.put(withGood as Graph), (e) => isGraphError(e, code) && e.shortMessage.length > 0, what)
      assert.equal(store.get('good'), undefined, what)
    }
    assert.equal(store.size, 0)
    await store.close()
  }
  const reopened = await GraphStore.open({ path: join(dir, 'bad.db') })
  assert.equal(reopened.size, 0)
  await reopened.close()
})

test('limits are configurable: too many keys per put, shorter values', async () => {
  const store = await GraphStore.open({ clock: () => 100, limits: { maxKeysPerPut: 2, maxValueLength: 3 } })
  await assert.rejects(store.put({ s: { _: { '#': 's', '>': { a: 1, b: 1, c: 1 } }, a: 1, b: 1, c: 1 } }), (e) => isGraphError(e, 'TOO_LARGE'))
  await assert.rejects(store.put(ok('s', 'a', 'four')), (e) => isGraphError(e, 'TOO_LARGE'))
  await store.put(ok('s', 'a', 'ok!'))
  assert.equal(store.value('s', 'a'), 'ok!')
})

test('random junk never throws anything but a GraphError and never stores', async () => {
  const store = await GraphStore.open({ clock: () => 100 })
  await fc.assert(
    fc.asyncProperty(fc.jsonValue(), async (junk) => {
      try {
        await store.put(junk as Graph)
      } catch (error) {
        assert.ok(isGraphError(error), String(error))
      }
    }),
    { numRuns: 500 },
  )
  // everything stored is well-formed
  validateDelta(store.graph())
})

test('the state clock is strictly increasing within a millisecond, like Gun.state()', () => {
  let t = 1000
  const state = createStateClock(() => t)
  const a = state()
  const b = state()
  const c = state()
  assert.equal(a, 1000)
  assert.ok(b > a && c > b && c < 1001)
  t = 1005
  assert.equal(state(), 1005)
})
