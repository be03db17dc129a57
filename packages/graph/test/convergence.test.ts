// Random writes on 3–5 replicas with random partitions, delays, duplicates and reorderings: once the
// network heals and replicas resync (only what changed since before the partitions), all replicas hold
// the same graph — and it is the HAM winner of all writes, key by key.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { lexicallyAfter, type Graph, type Value } from '@coop/graph'
import { SimNetwork } from './sim-network.ts'

const valueArb: fc.Arbitrary<Value> = fc.oneof(
  fc.constantFrom<Value>(null, true, false, 0, 1, -1, 2.5, '', 'a', 'b', 'hello', 'Z'),
  fc.constantFrom('x', 'y').map((soul) => ({ '#': soul })),
)

type Op =
  | { kind: 'write'; replica: number; soul: string; key: string; value: Value; tie: boolean }
  | { kind: 'deliver'; pick: number; duplicate: boolean }
  | { kind: 'cut' | 'restore'; a: number; b: number }
  | { kind: 'advance'; ms: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('write' as const), replica: fc.nat(4), soul: fc.constantFrom('s1', 's2', 's3'), key: fc.constantFrom('a', 'b'), value: valueArb, tie: fc.boolean() }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat(), duplicate: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('cut' as const, 'restore' as const), a: fc.nat(4), b: fc.nat(4) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 30 }) }) },
)

/** The HAM winner of a list of writes to one key: highest state, then lexically greatest value. */
function winner(writes: Array<{ value: Value; state: number }>): { value: Value; state: number } {
  return writes.reduce((best, w) => (w.state > best.state || (w.state === best.state && lexicallyAfter(w.value, best.value)) ? w : best))
}

test('replicas converge under random partitions, delays, duplicates and reorderings', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 3, max: 5 }),
      fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 5, maxLength: 5 }),
      fc.integer({ min: 1, max: 10 }),
      fc.array(opArb, { minLength: 1, maxLength: 60 }),
      async (size, skews, latency, ops) => {
        const START = 10_000
        const net = await SimNetwork.create({ size, now: START, skews: skews.slice(0, size), latency })
        const written = new Map<string, Array<{ value: Value; state: number }>>()
        let lastTieState = START
        for (const op of ops) {
          if (op.kind === 'write') {
            const replica = op.replica % size
            // `tie` reuses one state across replicas, so equal states (lexical tie-breaks) are common
            const state = op.tie ? lastTieState : net.clock(replica)
            if (!op.tie) lastTieState = state
            await net.write(replica, op.soul, op.key, op.value, state)
            const id = `${op.soul}.${op.key}`
            written.set(id, [...(written.get(id) ?? []), { value: op.value, state }])
          } else if (op.kind === 'deliver') {
            if (net.queue.length > 0) await net.deliver(op.pick % net.queue.length, op.duplicate)
          } else if (op.kind === 'cut') {
            if (op.a % size !== op.b % size) net.cut(op.a % size, op.b % size)
          } else if (op.kind === 'restore') {
            net.restore(op.a % size, op.b % size)
          } else if (op.kind === 'advance') {
            await net.advance(op.ms)
          }
        }
        // heal: restore every link, resync what changed since before anything was written (minus the
        // largest skew: states are writers' clocks), deliver everything, let deferrals mature
        for (let a = 0; a < size; a++) for (let b = 0; b < size; b++) net.restore(a, b)
        net.resync(START - 21)
        await net.advance(latency)
        await net.advance(100) // past every skewed state: deferrals mature and are relayed
        await net.advance(latency)

        const graphs = net.replicas.map((store) => canonical(store.graph()))
        for (const graph of graphs) assert.equal(graph, graphs[0])
        for (const [id, writes] of written) {
          const [soul, key] = id.split('.') as [string, string]
          const best = winner(writes)
          for (const store of net.replicas) {
            assert.deepEqual(store.value(soul, key), best.value, id)
            assert.equal(store.state(soul, key), best.state, id)
          }
        }
        for (const store of net.replicas) assert.deepEqual(store.deferred(), [])
        await net.close()
      },
    ),
    { numRuns: 300 },
  )
})

function canonical(graph: Graph): string {
  return JSON.stringify(
    Object.keys(graph)
      .sort()
      .map((soul) => {
        const node = graph[soul]!
        return [soul, Object.keys(node).filter((k) => k !== '_').sort().map((k) => [k, node._['>'][k], node[k]])]
      }),
  )
}
