// Seed 004 §2.5, replayed step by step: Alice (A) and Bob (B), one-way latency 2, machine states
// 50…67. The seed's numbered steps are quoted in the comments; the asserts check what each step says.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ham } from '@coop/protocol'
import { GraphStore, type Graph, type GraphNode } from '@coop/graph'

type Message = { to: 'A' | 'B'; at: number; delta: Graph }

test('split-brain (seed §2.5): A and B diverge during a partition and converge on "hello alice" at s59', async () => {
  let S = 0 // Newtonian time; both machines' clocks read it (the seed's S)
  const L = 2 // "3. Peer A and B are separated by a one way L latency of 2."
  const A = await GraphStore.open({ clock: () => S, keepHistory: true })
  const B = await GraphStore.open({ clock: () => S, keepHistory: true })
  const peers = { A, B }
  const inFlight: Message[] = []
  let up = true
  const push = (to: 'A' | 'B', delta: Graph) => {
    if (up) inFlight.push({ to, at: S + L, delta: structuredClone(delta) }) // "fails to push it" when down
  }
  const arrive = async (to: 'A' | 'B') => {
    const due = inFlight.filter((m) => m.to === to && m.at === S)
    for (const message of due) inFlight.splice(inFlight.indexOf(message), 1)
    return Promise.all(due.map((message) => peers[to].put(message.delta)))
  }
  const n1 = (value: string, state: number): Graph => ({ n1: { _: { '#': 'n1', '>': { text: state } }, text: value } })
  const text = (peer: GraphStore) => [peer.value('n1', 'text'), peer.state('n1', 'text')]

  // "1./2. Suppose peer Alice, A [and Bob, B] has data at state s_0 of "hello", named as n_1, and S of 50."
  S = 50
  await A.put(n1('hello', 0))
  await B.put(n1('hello', 0))

  // "4. At S of 50, A changes n_1 to "hello world" with s_50 and pushes it across the network."
  const write50 = await A.put(n1('hello world', 50))
  assert.deepEqual(write50.applied, n1('hello world', 50))
  push('B', write50.applied)

  // "5. At S of 52, B receives n_1 at s_50, and calculates v = Δ(s_50).
  //  6. Where S ≥ s_50 > s_0, then v = λ(0) = 0, the update is applied immediately and acknowledged."
  S = 52
  assert.deepEqual(ham(S, 50, B.state('n1', 'text'), 'hello world', 'hello'), { converge: true, incoming: true })
  const [atB52] = await arrive('B')
  assert.deepEqual(atB52!.applied, n1('hello world', 50))
  const ackToA = { to: 'A' as const, at: S + L }

  // "7. At S of 52, now both A and B have n_1 of "hello world" at s_50."
  assert.deepEqual(text(A), ['hello world', 50])
  assert.deepEqual(text(B), ['hello world', 50])

  // "8. At S of 54, A receives the acknowledgement from B."
  S = 54
  assert.equal(ackToA.at, S)

  // "9. At S of 55 the network fails, splitting A and B from communication."
  S = 55
  up = false

  // "10. At S of 56, A changes n_1 to be "hello bob" with s_56 and fails to push it across the network."
  S = 56
  const write56 = await A.put(n1('hello bob', 56))
  push('B', write56.applied)
  // "11. At S of 59, B changes n_1 to be "hello alice" with s_59 and fails to push it across the network."
  S = 59
  const write59 = await B.put(n1('hello alice', 59))
  push('A', write59.applied)
  assert.equal(inFlight.length, 0, 'nothing crosses the partition')

  // "12. At S of 62, A has n_1 conflicting with B of n_1, this is inconsistent from a Newtonian view."
  S = 62
  assert.deepEqual(text(A), ['hello bob', 56])
  assert.deepEqual(text(B), ['hello alice', 59])

  // "13. At S of 63, the network is restored, both A and B ask the network for data on n_1.
  //  14. At S of 65, A acknowledges the ask from B, and B acknowledges the ask from A."
  S = 63
  up = true
  const asks = [{ from: 'A' as const, to: 'B' as const, at: S + L }, { from: 'B' as const, to: 'A' as const, at: S + L }]
  S = 65
  for (const ask of asks) {
    assert.equal(ask.at, S)
    const answer = peers[ask.to].get('n1') as GraphNode
    push(ask.from, { n1: answer })
  }

  // "15. At S of 67, A receives n_1 of "hello alice" at s_59, and calculates v = Δ(s_59).
  //  16. Where S ≥ s_59 > s_56, then v = λ(0) = 0, Alice writes n_1 at s_59 to be "hello alice".
  //  17. A at S of 67 now has n_1 of "hello alice" at s_59."
  S = 67
  assert.deepEqual(ham(S, 59, A.state('n1', 'text'), 'hello alice', 'hello bob'), { converge: true, incoming: true })
  const [atA67] = await arrive('A')
  assert.deepEqual(atA67!.applied, n1('hello alice', 59))
  assert.deepEqual(text(A), ['hello alice', 59])

  // "18. At S of 67, B receives n_1 of "hello bob" at s_56, and calculates v = Δ(s_56).
  //  19. Bob already has s_59, so s_59 > s_56 gives v = λ(s_56 − S) = −11.
  //  20. Because B trust A, B historically writes s_56 as "hello bob", but keeps s_59 as the operating state."
  assert.equal(56 - S, -11)
  assert.deepEqual(ham(S, 56, B.state('n1', 'text'), 'hello bob', 'hello alice'), { historical: true })
  const [atB67] = await arrive('B')
  assert.deepEqual(atB67!.applied, {})
  assert.deepEqual(atB67!.historical, n1('hello bob', 56))
  assert.deepEqual(B.history('n1', 'text'), [
    { value: 'hello', state: 0 },
    { value: 'hello world', state: 50 },
    { value: 'hello bob', state: 56 },
  ])
  assert.deepEqual(text(B), ['hello alice', 59])

  // "21. Now at S of 67, both A and B have n_1 as "hello alice" at s_59, consistent after 67 − 59 time."
  assert.deepEqual(text(A), ['hello alice', 59])
  assert.deepEqual(text(B), ['hello alice', 59])
  assert.deepEqual(A.graph(), B.graph())
  assert.equal(inFlight.length, 0)
  await A.close()
  await B.close()
})
