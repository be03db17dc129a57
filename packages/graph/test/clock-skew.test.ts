// Seed 004 §2.4: Mallory writes with far-future states to always win. HAM defers such a write until the
// machine's clock reaches its state, so it gains nothing over honest peers: honest writes apply at
// once, Mallory's stays invisible (and unacknowledged as applied) until its time, when HAM treats it
// like any other write. Deferrals are persisted and survive a restart. Beyond maxDeferMs a put is refused.

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { GraphStore, isGraphError, type Graph } from '@coop/graph'
import { SimNetwork } from './sim-network.ts'

const dir = mkdtempSync(join(tmpdir(), 'coop-graph-skew-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const coin = (owner: string, state: number): Graph => ({ coin: { _: { '#': 'coin', '>': { owner: state } }, owner } })

test('a far-future write is deferred: honest writes keep winning until its time, and it is not applied early anywhere', async () => {
  const HOUR = 3_600_000
  // replica 0 and 1 honest, replica 2 is Mallory, whose clock claims to be an hour ahead
  const net = await SimNetwork.create({ size: 3, now: 1_000_000, skews: [0, 0, HOUR], latency: 5 })
  await net.write(0, 'coin', 'owner', 'alice')
  await net.advance(10)
  await net.write(2, 'coin', 'owner', 'mallory') // state = now + 1 h
  const mallorysState = net.clock(2)
  await net.advance(10) // delivered to 0 and 1: deferred there
  for (const i of [0, 1]) {
    assert.equal(net.replica(i).value('coin', 'owner'), 'alice', `replica ${i} did not apply the future write`)
    assert.deepEqual(net.replica(i).deferred(), [{ soul: 'coin', key: 'owner', value: 'mallory', state: mallorysState }])
  }
  // honest writes made after Mallory's still apply immediately everywhere (she preempts no one)
  for (let minute = 1; minute <= 30; minute++) {
    await net.advance(60_000)
    await net.write(minute % 2, 'coin', 'owner', `honest-${minute}`)
    await net.advance(10)
    assert.equal(net.replica(0).value('coin', 'owner'), `honest-${minute}`)
    assert.equal(net.replica(1).value('coin', 'owner'), `honest-${minute}`)
  }
  // when the machines reach Mallory's state her write matures — as an ordinary write of that time
  await net.advance(mallorysState - net.now)
  assert.equal(net.replica(0).value('coin', 'owner'), 'mallory')
  assert.equal(net.replica(1).value('coin', 'owner'), 'mallory')
  // and anyone writing after that time wins over it, as over any write
  await net.advance(1)
  await net.write(1, 'coin', 'owner', 'bob')
  await net.advance(10)
  assert.equal(net.replica(0).value('coin', 'owner'), 'bob')
  await net.close()
})

test('the ack of a deferred write says deferred, not applied', async () => {
  const store = await GraphStore.open({ clock: () => 1000 })
  await store.put(coin('alice', 900))
  const result = await store.put(coin('mallory', 1_000_000))
  assert.deepEqual(result.applied, {})
  assert.deepEqual(result.deferred, coin('mallory', 1_000_000))
  assert.equal(store.value('coin', 'owner'), 'alice')
  assert.deepEqual(store.graphSince(-Infinity), coin('alice', 900), 'a deferred write is not served to peers either')
  const resent = await store.put(coin('mallory', 1_000_000))
  assert.deepEqual(resent.deferred, coin('mallory', 1_000_000), 'a resent deferred write is still reported deferred')
  assert.equal(store.deferred().length, 1, 'but waits once')
})

test('a deferral survives a restart and matures at its time, not before', async () => {
  const path = join(dir, 'skew.db')
  let now = 10_000
  const first = await GraphStore.open({ path, clock: () => now })
  await first.put(coin('alice', 9_000))
  await first.put(coin('mallory', 50_000))
  await first.close()

  now = 40_000 // restarted before the state: still deferred
  const second = await GraphStore.open({ path, clock: () => now })
  assert.equal(second.value('coin', 'owner'), 'alice')
  assert.deepEqual(await second.matureDeferrals(), {})
  assert.equal(second.deferred().length, 1)
  await second.put(coin('carol', 45_000))
  now = 50_000
  const changed = await second.matureDeferrals()
  assert.deepEqual(changed, coin('mallory', 50_000))
  await second.close()

  const third = await GraphStore.open({ path, clock: () => now })
  assert.equal(third.value('coin', 'owner'), 'mallory')
  assert.deepEqual(third.deferred(), [])
  await third.close()
})

test('the deferral timer matures a write on the real clock and reports it as a change', async () => {
  const path = join(dir, 'timer.db')
  const store = await GraphStore.open({ path })
  const at = Date.now() + 150
  const seen = new Promise<Graph>((resolve) => store.on('change', resolve))
  const result = await store.put(coin('later', at))
  assert.deepEqual(result.deferred, coin('later', at))
  assert.deepEqual(await seen, coin('later', at))
  assert.ok(Date.now() >= at, 'not before its state')
  assert.equal(store.value('coin', 'owner'), 'later')
  await store.close()
  const reopened = await GraphStore.open({ path })
  assert.equal(reopened.value('coin', 'owner'), 'later')
  assert.deepEqual(reopened.deferred(), [])
  await reopened.close()
})

test('states beyond maxDeferMs are refused whole with FUTURE_STATE, nothing stored', async () => {
  const store = await GraphStore.open({ clock: () => 1000, maxDeferMs: 60_000 })
  const delta: Graph = { coin: { _: { '#': 'coin', '>': { owner: 1000, note: 1000 + 60_001 } }, owner: 'x', note: 'far' } }
  await assert.rejects(store.put(delta), (e) => isGraphError(e, 'FUTURE_STATE'))
  await assert.rejects(store.set('coin', 'owner', 'y', 1000 + 60_001), (e) => isGraphError(e, 'FUTURE_STATE'))
  assert.equal(store.size, 0)
  assert.deepEqual(store.deferred(), [])
  const within = await store.put(coin('soon', 1000 + 60_000))
  assert.deepEqual(within.deferred, coin('soon', 61_000))
  const defaults = await GraphStore.open({ clock: () => 1000 })
  await assert.rejects(defaults.put(coin('year', 1000 + 366 * 24 * 3_600_000)), (e) => isGraphError(e, 'FUTURE_STATE'), 'default bound is 30 days')
  assert.equal(defaults.size, 0)
  await store.close()
  await defaults.close()
})
