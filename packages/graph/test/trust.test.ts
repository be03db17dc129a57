import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { putKey } from '@coop/protocol'
import { isGraphError } from '../src/errors.ts'
import { GraphStore } from '../src/graph-store.ts'
import type { Graph } from '../src/types.ts'
import { groupSoul } from '../src/sea/group.ts'
import { createUser, type User } from '../src/sea/user.ts'
import { signUserDelta, signUserValue } from '../src/sea/user-space.ts'
import { userGraphVerifier } from '../src/sea/verify-user-delta.ts'
import {
  createRelayFilter,
  readTrustTable,
  removeTrust,
  setTrust,
  shareTrustTable,
  shouldRelay,
  TRUST_GROUP,
  trustScores,
  weightedTrust,
} from '../src/trust/index.ts'

const FAST = { iterations: 1000 } // account creation is not under test here
const close = (a: number, b: number) => Math.abs(a - b) < 1e-12

describe('weightedTrust (seed §4.3 item 5: discounts by degrees of separation)', () => {
  const web = new Map<string, Map<string, number>>([
    ['me', new Map([['a', 1], ['b', 0.5], ['x', 0]])],
    ['a', new Map([['c', 0.8], ['x', 1], ['me', 1]])],
    ['b', new Map([['c', 1]])],
    ['c', new Map([['d', 1]])],
    ['d', new Map([['e', 1]])],
  ])
  const edges = (pub: string) => web.get(pub)

  test('path weight = product of edge weights × decay^(degrees − 1); best path wins; bounded by maxDegrees', () => {
    const scores = weightedTrust('me', edges)
    assert.deepEqual(scores.get('me'), { weight: 1, degrees: 0, path: ['me'] })
    assert.deepEqual(scores.get('a'), { weight: 1, degrees: 1, path: ['me', 'a'] })
    assert.equal(scores.get('b')!.weight, 0.5)
    assert.ok(close(scores.get('c')!.weight, 0.4)) // me→a→c: 1·0.8·½ beats me→b→c: 0.5·1·½
    assert.deepEqual(scores.get('c')!.path, ['me', 'a', 'c'])
    assert.ok(close(scores.get('d')!.weight, 0.2)) // three hops: 0.8·¼
    assert.equal(scores.get('d')!.degrees, 3)
    assert.equal(scores.has('e'), false) // four degrees away
    assert.ok(close(weightedTrust('me', edges, { maxDegrees: 4 }).get('e')!.weight, 0.1))
    assert.ok(close(weightedTrust('me', edges, { decay: 1 }).get('d')!.weight, 0.8))
  })

  test("the root's own entries are final: an explicit 0 is not raised by friends who trust that key", () => {
    assert.deepEqual(weightedTrust('me', edges).get('x'), { weight: 0, degrees: 1, path: ['me', 'x'] })
  })

  test('properties: weights in [0,1], never above the recomputed path product, monotone in decay, degrees ≤ max', () => {
    const names = ['r', 'a', 'b', 'c', 'd', 'e', 'f']
    const arbitraryWeb = fc.array(fc.tuple(fc.constantFrom(...names), fc.constantFrom(...names), fc.double({ min: 0, max: 1, noNaN: true })), { maxLength: 30 })
    fc.assert(
      fc.property(arbitraryWeb, fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 5 }), (triples, decay, maxDegrees) => {
        const graph = new Map<string, Map<string, number>>()
        for (const [from, to, w] of triples) if (from !== to) (graph.get(from) ?? graph.set(from, new Map()).get(from)!).set(to, w)
        const lookup = (pub: string) => graph.get(pub)
        const scores = weightedTrust('r', lookup, { decay, maxDegrees })
        const lower = weightedTrust('r', lookup, { decay: decay / 2, maxDegrees })
        for (const [pub, score] of scores) {
          assert.ok(score.weight >= 0 && score.weight <= 1)
          assert.ok(score.degrees <= maxDegrees)
          assert.equal(score.path.length, score.degrees + 1)
          let product = 1
          for (let i = 1; i < score.path.length; i++) product *= graph.get(score.path[i - 1]!)!.get(score.path[i]!)!
          assert.ok(close(score.weight, product * decay ** Math.max(0, score.degrees - 1)), `weight of ${pub} is its path's`)
          assert.ok((lower.get(pub)?.weight ?? 0) <= score.weight + 1e-12)
        }
      }),
      { numRuns: 200, seed: 43 },
    )
  })
})

describe('trust tables (encrypted, in the user graph) and the relay policy', () => {
  async function world() {
    const store = await GraphStore.open({ verify: userGraphVerifier() })
    const users: Record<string, User> = {}
    for (const name of ['alice', 'bob', 'carol', 'dave', 'erin', 'mallory', 'stranger']) users[name] = await createUser(store, name, `${name} password`, FAST)
    const { alice, bob, carol, dave, erin, mallory } = users as Record<string, User>
    await setTrust(alice!, bob!, 1, { share: true }) // alice shows her table to bob
    await setTrust(alice!, mallory!.pub, 0) // alice explicitly distrusts mallory
    await setTrust(bob!, carol!, 0.8)
    await setTrust(bob!, mallory!, 1)
    await shareTrustTable(bob!, alice!) // bob shows his table to alice
    await setTrust(carol!, dave!, 1)
    await shareTrustTable(carol!, alice!)
    await setTrust(dave!, erin!, 1)
    await shareTrustTable(dave!, alice!)
    return { store, ...(users as Record<'alice' | 'bob' | 'carol' | 'dave' | 'erin' | 'mallory' | 'stranger', User>) }
  }

  test('the table is stored encrypted with opaque keys; the owner and those it was shared with read it', async () => {
    const { store, alice, bob, carol, mallory } = await world()
    const data = store.get(groupSoul(alice.pub, TRUST_GROUP, 'data'))!
    const raw = JSON.stringify(data)
    assert.ok(!raw.includes(bob.pub) && !raw.includes(mallory.pub), 'no trusted key in clear')
    assert.deepEqual(await readTrustTable(store, alice.pair, alice.pub), new Map([[bob.pub, 1], [mallory.pub, 0]]))
    assert.deepEqual(await readTrustTable(store, bob.pair, alice.pub), new Map([[bob.pub, 1], [mallory.pub, 0]]))
    await assert.rejects(readTrustTable(store, carol.pair, alice.pub), (e: unknown) => isGraphError(e, 'NOT_A_MEMBER'))
    // un-trusting bob re-keys: bob can no longer read alice's table
    await removeTrust(alice, bob.pub)
    await assert.rejects(readTrustTable(store, bob.pair, alice.pub), (e: unknown) => isGraphError(e, 'NOT_A_MEMBER'))
    assert.deepEqual(await readTrustTable(store, alice.pair, alice.pub), new Map([[mallory.pub, 0]]))
    await assert.rejects(setTrust(alice, bob.pub, 2), (e: unknown) => isGraphError(e, 'MALFORMED'))
    await store.close()
  })

  test('weighted trust over the stored tables, and "relay only data signed by trusted keys"', async () => {
    const { store, alice, bob, carol, dave, erin, mallory, stranger } = await world()
    const scores = await trustScores(store, alice.pair)
    assert.equal(scores.get(bob.pub)!.weight, 1)
    assert.ok(close(scores.get(carol.pub)!.weight, 0.4))
    assert.ok(close(scores.get(dave.pub)!.weight, 0.2))
    assert.equal(scores.has(erin.pub), false)
    assert.equal(scores.get(mallory.pub)!.weight, 0)

    const state = Date.now()
    const plain: Graph = {}
    for (const user of [bob, carol, dave, mallory, stranger]) putKey(plain, user.soul('posts'), 'latest', `hello from ${user.alias}`, state)
    let delta: Graph = {}
    for (const user of [bob, carol, dave, mallory, stranger]) {
      const own: Graph = { [user.soul('posts')]: plain[user.soul('posts')]! }
      Object.assign(delta, await signUserDelta(own, user.pair))
    }
    putKey(delta, 'public/board', 'note', 'unsigned', state)
    // a forgery: mallory's signature on bob's soul
    putKey(delta, bob.soul('wall'), 'msg', await signUserValue(bob.soul('wall'), 'msg', 'fake', state, mallory.pair), state)

    const verdict = await shouldRelay(delta, { trust: scores, minWeight: 0.3 })
    assert.deepEqual(Object.keys(verdict.allowed).sort(), [bob.soul('posts'), carol.soul('posts')].sort())
    const refusedBy = (code: string) => verdict.refused.filter((r) => r.error.code === code).map((r) => r.soul).sort()
    assert.deepEqual(refusedBy('BAD_SIGNATURE'), [bob.soul('wall')])
    assert.deepEqual(refusedBy('UNTRUSTED'), [dave.soul('posts'), mallory.soul('posts'), stranger.soul('posts'), 'public/board'].sort())
    assert.equal(verdict.weights.get(mallory.pub), 0)

    const looser = await shouldRelay(delta, { trust: scores, minWeight: 0.1, relayPublic: true })
    assert.deepEqual(Object.keys(looser.allowed).sort(), [bob.soul('posts'), carol.soul('posts'), dave.soul('posts'), 'public/board'].sort())

    // as a filter in front of a relay's store: only the trusted part is stored
    const refused: unknown[] = []
    const relayStore = await GraphStore.open({ verify: createRelayFilter({ trust: scores, minWeight: 0.3 }, (r) => refused.push(...r)) })
    await relayStore.put(delta)
    assert.deepEqual([...relayStore.souls()].sort(), [bob.soul('posts'), carol.soul('posts')].sort())
    assert.equal(refused.length, 5)
    await relayStore.close()
    await store.close()
  })
})
