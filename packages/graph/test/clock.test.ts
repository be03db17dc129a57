import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { ClockSync, clockAdjustment, tau } from '../src/clock/index.ts'
import { GraphStore } from '../src/graph-store.ts'

// A simulated network: one global "true" time, each node a machine clock running at its own rate from
// its own skew, links with their own one-way latencies. A time request advances true time by the
// request's latency, reads the other node's synchronised clock, then advances by the reply's latency.
class Network {
  trueTime = 0
  readonly nodes = new Map<string, { sync: ClockSync; skew: number; rate: number }>()
  latency: (from: string, to: string) => number = () => 20

  add(name: string, skew: number, rate = 1, options: { gain?: number; maxStepMs?: number } = {}): ClockSync {
    const node = { skew, rate, sync: undefined as unknown as ClockSync }
    node.sync = new ClockSync({
      local: () => this.trueTime * node.rate + node.skew,
      askTime: async (peer) => {
        this.trueTime += this.latency(name, peer)
        const answer = this.nodes.get(peer)!.sync.now()
        this.trueTime += this.latency(peer, name)
        return answer
      },
      peers: () => [...this.nodes.keys()].filter((n) => n !== name),
      ...options,
    })
    this.nodes.set(name, node)
    return node.sync
  }

  times(): number[] {
    return [...this.nodes.values()].map((n) => n.sync.now())
  }

  spread(): number {
    const t = this.times()
    return Math.max(...t) - Math.min(...t)
  }
}

describe('seed A1.1 τ(t) = t − ((e − (e − s)/2 + a)/2)', () => {
  test('τ at the midpoint is half of (our clock − theirs); the adjustment adds half the difference', () => {
    // we ask at s = 1000, they answer a = 5050 (they are 4000 ahead), reply arrives at e = 1100 (rtt 100)
    const sample = { s: 1000, a: 5050, e: 1100 }
    assert.equal(tau(1050, sample), (1050 - 5050) / 2)
    assert.equal(clockAdjustment(sample), 2000)
    // already in sync: nothing to do
    assert.equal(clockAdjustment({ s: 0, a: 50, e: 100 }), 0)
  })

  test('property: applying the adjustment halves the gap to the other clock (symmetric routing)', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e7, max: 1e7, noNaN: true }), fc.double({ min: 0, max: 5000, noNaN: true }), fc.double({ min: 0, max: 1e9, noNaN: true }), (skew, oneWay, s) => {
        const a = s + oneWay + skew // their clock when they read it
        const e = s + 2 * oneWay
        const adjusted = s + oneWay + clockAdjustment({ s, a, e })
        assert.ok(Math.abs(a - adjusted - skew / 2) < 1e-6 * Math.max(1, Math.abs(skew), s))
      }),
      { numRuns: 300, seed: 11 },
    )
  })
})

describe('ClockSync on a simulated network', () => {
  test('two peers 5 s apart: each exchange adds half the difference (one each: a quarter of the gap is left)', async () => {
    const net = new Network()
    const a = net.add('a', 0)
    const b = net.add('b', 5000)
    await a.syncWith('b')
    assert.ok(Math.abs(a.offset - 2500) < 1e-9)
    assert.ok(Math.abs(net.spread() - 2500) < 1e-6)
    await b.syncWith('a')
    assert.ok(Math.abs(b.offset + 1250) < 1e-9)
    assert.ok(Math.abs(net.spread() - 1250) < 1e-6, `spread ${net.spread()}`)
  })

  test('one peer syncing to another: the gap halves every exchange (geometric convergence)', async () => {
    const net = new Network()
    net.latency = () => 35
    const a = net.add('a', -8000)
    net.add('b', 2000)
    const gaps: number[] = []
    for (let round = 0; round < 16; round++) {
      await a.syncWith('b')
      gaps.push(net.spread())
    }
    for (let i = 1; i < gaps.length; i++) assert.ok(Math.abs(gaps[i]! - gaps[i - 1]! / 2) < 1e-6, `gap ${i}: ${gaps[i]} vs ${gaps[i - 1]}`)
    assert.ok(gaps.at(-1)! < 1)
  })

  test('asymmetric routing: converges, off by half the latency asymmetry (the seed assumes symmetric routing)', async () => {
    const net = new Network()
    net.latency = (from) => (from === 'a' ? 80 : 20) // a→b slower than b→a
    const a = net.add('a', 0)
    net.add('b', 3000)
    for (let round = 0; round < 30; round++) await a.syncWith('b')
    // their reading happens 80 ms after s, our midpoint assumes 50 ms: a ends (80 − 20)/2 = 30 ms behind
    assert.ok(Math.abs(net.spread() - 30) < 0.01, `spread ${net.spread()}`)
  })

  test('five peers with random skews (±10 s) and random latencies converge to within a few ms', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: -10_000, max: 10_000 }), { minLength: 5, maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: 150 }), { minLength: 25, maxLength: 25 }),
        async (skews, latencies) => {
          const net = new Network()
          const names = skews.map((_, i) => `n${i}`)
          // symmetric per link (the seed's assumption), different between links
          net.latency = (from, to) => {
            const [i, j] = [names.indexOf(from), names.indexOf(to)].sort()
            return latencies[i! * 5 + j!]!
          }
          const syncs = skews.map((skew, i) => net.add(names[i]!, skew, 1, { gain: 0.5 }))
          const initial = net.spread()
          for (let round = 0; round < 30; round++) for (const sync of syncs) await sync.syncRound()
          assert.ok(net.spread() < 5, `spread ${net.spread()} ms from ${initial} ms`)
        },
      ),
      { numRuns: 15, seed: 7 },
    )
  })

  test('inertial mass: a cluster of four pulls a lone outlier more than it is pulled', async () => {
    const net = new Network()
    const cluster = [0, 10, 20, 30].map((skew, i) => net.add(`c${i}`, skew, 1, { gain: 0.5 }))
    const outlier = net.add('far', 10_000, 1, { gain: 0.5 })
    for (let round = 0; round < 40; round++) for (const sync of [...cluster, outlier]) await sync.syncRound()
    assert.ok(net.spread() < 5)
    const agreed = outlier.now() - net.trueTime
    // the clocks meet nearer the cluster (15 ms) than the outlier (10 s) …
    assert.ok(Math.abs(agreed - 15) < Math.abs(agreed - 10_000), `agreed at ${agreed}`)
    // … while one peer against one meets half way
    const pair = new Network()
    const one = pair.add('one', 15, 1, { gain: 0.5 })
    const other = pair.add('other', 10_000, 1, { gain: 0.5 })
    for (let round = 0; round < 40; round++) for (const sync of [one, other]) await sync.syncRound()
    const halfway = one.now() - pair.trueTime
    assert.ok(Math.abs(halfway - 5007.5) < 1000, `one-to-one met at ${halfway}`)
    assert.ok(agreed < halfway - 500)
  })

  test('drifting clocks (±200 ppm) stay within a few ms when syncing every second', async () => {
    const net = new Network()
    const syncs = [
      net.add('a', 0, 1 + 200e-6, { gain: 0.5 }),
      net.add('b', 500, 1 - 200e-6, { gain: 0.5 }),
      net.add('c', -500, 1, { gain: 0.5 }),
    ]
    let worst = 0
    for (let second = 0; second < 600; second++) {
      for (const sync of syncs) await sync.syncRound()
      if (second > 20) worst = Math.max(worst, net.spread())
      net.trueTime += 1000
    }
    assert.ok(worst < 2, `worst spread ${worst} ms`) // unsynced they would be 240 ms apart after 10 minutes
  })

  test('guards: a slow exchange is not applied, a lying peer moves us at most maxStepMs, bad answers are typed errors', async () => {
    const net = new Network()
    net.latency = () => 6000
    const a = net.add('a', 0, 1, { maxStepMs: 100 })
    net.add('b', 1e9)
    const slow = await a.syncWith('b')
    assert.equal(slow.applied, false)
    assert.equal(a.offset, 0)
    net.latency = () => 10
    const bounded = await a.syncWith('b')
    assert.equal(bounded.adjustment, 100)
    assert.equal(a.offset, 100)
    const broken = new ClockSync({ askTime: async () => Number.NaN, peers: () => ['x'] })
    await assert.rejects(broken.syncWith('x'), (e: unknown) => (e as { code?: string }).code === 'MALFORMED')
    const { errors } = await broken.syncRound()
    assert.equal(errors.length, 1)
  })

  test('opt-in for the graph: a GraphStore can run on the synchronised clock', async () => {
    const net = new Network()
    const a = net.add('a', -60_000)
    net.add('b', 0)
    await a.syncWith('b')
    await a.syncWith('b')
    const store = await GraphStore.open({ clock: a.now })
    const state = net.nodes.get('b')!.sync.now() // b writes "now" by its clock; a is 15 s behind b
    const result = await store.put({ s: { _: { '#': 's', '>': { k: state } }, k: 'v' } })
    assert.deepEqual(Object.keys(result.deferred), ['s']) // still ahead of a's clock: deferred (HAM §2.4)
    for (let i = 0; i < 20; i++) await a.syncWith('b')
    const again = await GraphStore.open({ clock: a.now })
    const synced = await again.put({ s: { _: { '#': 's', '>': { k: net.nodes.get('b')!.sync.now() - 1 } }, k: 'v' } })
    assert.deepEqual(Object.keys(synced.applied), ['s']) // after sync, b's "now" is not in a's future
    await store.close()
    await again.close()
  })
})
