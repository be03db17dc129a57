// HAM as a merge of graphs is commutative, idempotent and associative (fast-check), so replicas that
// receive the same writes in any order, any number of times, hold the same graph.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { mergeGraph, unionGraph, type Graph, type Value } from '@coop/protocol'

const MACHINE = 1_000_000 // every generated state is below it: nothing defers here (deferral has its own tests)

const valueArb: fc.Arbitrary<Value> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -5, max: 5 }),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -10, max: 10 }).filter((n) => !Object.is(n, -0)),
  fc.string({ maxLength: 3 }),
  fc.constantFrom('a', 'b', 'ab', 'hello'),
  fc.constantFrom('x', 'y').map((soul) => ({ '#': soul })),
)
// few souls, keys and states, so conflicts and exact state ties are common
const writeArb = fc.record({ soul: fc.constantFrom('s1', 's2'), key: fc.constantFrom('a', 'b', 'c'), state: fc.integer({ min: 1, max: 4 }), value: valueArb })
const graphArb: fc.Arbitrary<Graph> = fc.array(writeArb, { maxLength: 8 }).map((writes) => {
  const graph: Graph = {}
  for (const w of writes) {
    const node = (graph[w.soul] ??= { _: { '#': w.soul, '>': {} } })
    node._['>'][w.key] = w.state
    node[w.key] = w.value
  }
  return graph
})

/** current ⊔ delta by HAM. */
function merge(current: Graph, delta: Graph): Graph {
  return unionGraph(current, mergeGraph(current, delta, MACHINE).applied)
}

/** A canonical form: JSON with sorted souls and keys. */
function canonical(graph: Graph): string {
  const souls = Object.keys(graph).sort()
  return JSON.stringify(
    souls.map((soul) => {
      const node = graph[soul]!
      const keys = Object.keys(node).filter((k) => k !== '_').sort()
      return [soul, keys.map((k) => [k, node._['>'][k], node[k]])]
    }),
  )
}

test('merge is commutative: a ⊔ b = b ⊔ a', () => {
  fc.assert(fc.property(graphArb, graphArb, (a, b) => canonical(merge(a, b)) === canonical(merge(b, a))), { numRuns: 2000 })
})

test('merge is idempotent: a ⊔ a = a and (a ⊔ b) ⊔ b = a ⊔ b', () => {
  fc.assert(
    fc.property(graphArb, graphArb, (a, b) => {
      assert.equal(canonical(merge(a, a)), canonical(a))
      const ab = merge(a, b)
      assert.equal(canonical(merge(ab, b)), canonical(ab))
      assert.deepEqual(mergeGraph(ab, b, MACHINE).applied, {}, 'a delta already merged applies nothing')
    }),
    { numRuns: 2000 },
  )
})

test('merge is associative: (a ⊔ b) ⊔ c = a ⊔ (b ⊔ c)', () => {
  fc.assert(fc.property(graphArb, graphArb, graphArb, (a, b, c) => canonical(merge(merge(a, b), c)) === canonical(merge(a, merge(b, c)))), {
    numRuns: 2000,
  })
})

test('any order of single-key deliveries (with duplicates) gives the same graph', () => {
  fc.assert(
    fc.property(fc.array(writeArb, { minLength: 1, maxLength: 12 }), fc.func(fc.integer()), (writes, order) => {
      const deliveries = writes.flatMap((w, i) => (order(i) % 3 === 0 ? [w, w] : [w]))
      const shuffled = [...deliveries].sort((x, y) => order(deliveries.indexOf(x)) - order(deliveries.indexOf(y)))
      const apply = (list: typeof writes) =>
        list.reduce<Graph>((graph, w) => merge(graph, { [w.soul]: { _: { '#': w.soul, '>': { [w.key]: w.state } }, [w.key]: w.value } }), {})
      assert.equal(canonical(apply(deliveries)), canonical(apply(shuffled)))
    }),
    { numRuns: 1000 },
  )
})
