import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { isGraphError } from '../src/errors.ts'
import { GraphStore } from '../src/graph-store.ts'
import { Counter, counterValue } from '../src/crdt/index.ts'

const SOUL = 'counter/visits'

/** Replicas with their own clocks: true time `t` plus a per-replica skew, advanced by the test. */
async function replicas(skews: number[]) {
  const clock = { t: 1_700_000_000_000 }
  const stores = await Promise.all(skews.map((skew) => GraphStore.open({ clock: () => clock.t + skew })))
  const counters = stores.map((store, i) => new Counter(store, SOUL, `replica-${i}`))
  return { clock, stores, counters }
}

async function syncAll(stores: GraphStore[]): Promise<void> {
  for (const from of stores) for (const to of stores) if (from !== to) await to.put(from.graph())
}

describe('counter CRDT (seed A1.2: c = Σ λ\'(n), one cell per replica)', () => {
  test('increments and decrements on three replicas converge to the same count after sync', async () => {
    const { clock, stores, counters } = await replicas([0, 0, 0])
    const [a, b, c] = counters as [Counter, Counter, Counter]
    await a.increment()
    await a.increment(5)
    await b.decrement(2)
    await c.add(0.5)
    assert.equal(a.value(), 6)
    assert.equal(b.value(), -2)
    clock.t += 10 // (writes in the same millisecond are stamped ms + n/999: a moment later they are no longer ahead)
    await syncAll(stores)
    for (const counter of counters) assert.equal(counter.value(), 4.5)
    assert.equal(counterValue(stores[0]!.get(SOUL)), 4.5)
    assert.deepEqual(counters.map((x) => x.contribution()), [6, -2, 0.5])
    // the cells are plain graph keys: what a gun peer would see and sync
    assert.deepEqual(Object.keys(stores[0]!.get(SOUL)!).sort(), ['_', 'replica-0', 'replica-1', 'replica-2'])
    for (const store of stores) await store.close()
  })

  test('property: random ops, partial syncs, duplicates and reorderings on 3–5 replicas → every replica counts the true total', async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), replica: fc.nat(4), by: fc.integer({ min: -20, max: 20 }) }),
      fc.record({ kind: fc.constant('sync' as const), from: fc.nat(4), to: fc.nat(4), since: fc.boolean() }),
      fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 50 }) }),
    )
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: -30, max: 30 }), { minLength: 3, maxLength: 5 }), fc.array(op, { maxLength: 80 }), async (skews, ops) => {
        const { clock, stores, counters } = await replicas(skews)
        const n = stores.length
        let total = 0
        const snapshots: Array<{ to: number; graph: ReturnType<GraphStore['graph']> }> = []
        for (const step of ops) {
          if (step.kind === 'add') {
            await counters[step.replica % n]!.add(step.by)
            total += step.by
          } else if (step.kind === 'sync') {
            const from = stores[step.from % n]!
            // either a fresh full graph or an old snapshot delivered late (reordering / duplicates)
            if (step.since && snapshots.length > 0) {
              const late = snapshots.shift()!
              await stores[late.to % n]!.put(late.graph)
            } else {
              const graph = from.graph()
              snapshots.push({ to: step.to, graph })
              await stores[step.to % n]!.put(graph)
            }
          } else {
            clock.t += step.ms
          }
        }
        // heal: every replica's clock passes every state written (deferred cells mature), then full exchange
        clock.t += 1000
        for (const store of stores) await store.matureDeferrals()
        await syncAll(stores)
        await syncAll(stores)
        for (const store of stores) await store.matureDeferrals()
        for (const counter of counters) assert.equal(counter.value(), total)
        for (const store of stores) await store.close()
      }),
      { numRuns: 60, seed: 2024 },
    )
  })

  test('a replica whose clock runs behind its own earlier writes still counts every increment', async () => {
    const clock = { t: 2_000_000 }
    const store = await GraphStore.open({ clock: () => clock.t })
    const counter = new Counter(store, SOUL, 'me')
    await counter.add(3)
    clock.t -= 10_000 // the machine clock is set back
    await counter.add(4)
    await counter.add(5)
    assert.equal(counter.value(), 12)
    clock.t += 20_000
    await store.matureDeferrals()
    assert.equal(counterValue(store.get(SOUL)), 12)
    await store.close()
  })

  test('durable: the count survives a restart; bad amounts are typed errors and change nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coop-counter-'))
    try {
      const path = join(dir, 'graph.db')
      let store = await GraphStore.open({ path })
      const counter = new Counter(store, SOUL, 'disk')
      for (let i = 0; i < 10; i++) await counter.increment()
      await counter.decrement(3)
      await store.close()
      store = await GraphStore.open({ path })
      const reopened = new Counter(store, SOUL, 'disk')
      assert.equal(reopened.value(), 7)
      await reopened.increment()
      assert.equal(reopened.value(), 8)
      await assert.rejects(reopened.add(Number.NaN), (e: unknown) => isGraphError(e, 'INVALID_VALUE'))
      await assert.rejects(reopened.add(Infinity), (e: unknown) => isGraphError(e, 'INVALID_VALUE'))
      assert.equal(reopened.value(), 8)
      assert.throws(() => new Counter(store, SOUL, ''), (e: unknown) => isGraphError(e, 'MALFORMED'))
      await store.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('onChange reports the new count when another replica\'s cell arrives', async () => {
    const { stores, counters } = await replicas([0, 0])
    const seen: number[] = []
    const off = counters[0]!.onChange((value) => seen.push(value))
    await counters[1]!.add(7)
    await stores[0]!.put(stores[1]!.graph())
    await counters[0]!.add(1)
    off()
    assert.deepEqual(seen, [7, 8])
    for (const store of stores) await store.close()
  })

  test('a refused write leaves the own cell where it was (closed store, invalid soul; concurrent adds too)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coop-counter-refused-'))
    try {
      const store = await GraphStore.open({ path: join(dir, 'graph.db') })
      const counter = new Counter(store, SOUL, 'r')
      const pending = counter.add(1) // not yet committed: close() flushes it
      await store.close()
      await pending
      await assert.rejects(counter.add(2), (error) => isGraphError(error, 'CLOSED'))
      assert.equal(counter.contribution(), 1)
      assert.equal(counter.value(), 1)

      const memory = await GraphStore.open()
      const bad = new Counter(memory, '', 'r') // the store refuses the soul on every write
      const settled = await Promise.allSettled([bad.add(1), bad.add(2), bad.add(4)])
      assert.deepEqual(settled.map((result) => result.status), ['rejected', 'rejected', 'rejected'])
      assert.equal(bad.contribution(), 0)
      const good = new Counter(memory, SOUL, 'r')
      await good.add(3)
      await assert.rejects(good.add(Number.NaN), (error) => isGraphError(error, 'INVALID_VALUE'))
      assert.equal(good.contribution(), 3)
      await memory.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('after a restart, an own write still deferred on disk counts: the next increment builds on it and survives its maturing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coop-counter-deferred-'))
    const path = join(dir, 'graph.db')
    const clock = { t: 1_700_000_100_000 }
    try {
      // The replica's clock ran 60 s fast, then was corrected: its cell carries a state from the "future".
      let store = await GraphStore.open({ path, clock: () => clock.t + 60_000 })
      await new Counter(store, SOUL, 'r').add(5)
      await store.close()

      store = await GraphStore.open({ path, clock: () => clock.t })
      const counter = new Counter(store, SOUL, 'r')
      assert.equal(await counter.add(1), 6)
      assert.equal(store.deferred().length, 1, 'the increment waits as a deferral (its state is past the corrected clock)')
      await store.close()

      // Restart while that write is still deferred: it is on disk, not in the applied cell (5).
      store = await GraphStore.open({ path, clock: () => clock.t })
      assert.equal(store.value(SOUL, 'r'), 5)
      assert.equal(store.deferred().length, 1)
      const restarted = new Counter(store, SOUL, 'r')
      assert.equal(restarted.value(), 6)
      assert.equal(await restarted.add(1), 7)
      clock.t += 120_000
      await store.matureDeferrals()
      assert.equal(store.value(SOUL, 'r'), 7, 'the matured deferral did not overwrite the later increment')
      assert.equal(restarted.value(), 7)
      await store.close()
      store = await GraphStore.open({ path, clock: () => clock.t })
      assert.equal(new Counter(store, SOUL, 'r').value(), 7)
      await store.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
