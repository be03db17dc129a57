import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { putKey } from '@coop/protocol'
import { isGraphError } from '../src/errors.ts'
import { GraphStore } from '../src/graph-store.ts'
import type { Graph } from '../src/types.ts'
import { pair } from '../src/sea/index.ts'
import { accountsOf, authUser, createUser, readUserValue } from '../src/sea/user.ts'
import { pubOfSoul, signUserDelta, signUserValue, userSoul } from '../src/sea/user-space.ts'
import { userGraphVerifier, verifyUserDelta } from '../src/sea/verify-user-delta.ts'
import { gunCallback, gunPeer, gunRead, gunReceive } from './sea-gun.ts'

const peers: Array<{ close(): void }> = []
after(() => {
  for (const peer of peers) peer.close()
  // gun leaves ~9 s ack timers behind it cannot cancel; once every result is reported, do not wait for them.
  setTimeout(() => process.exit(), 500).unref()
})

const rejectsWith = (code: string) => (error: unknown) => {
  assert.ok(isGraphError(error), `expected a GraphError ${code}, got ${String(error)}`)
  assert.equal(error.code, code)
  return true
}

const verifiedStore = () => GraphStore.open({ verify: userGraphVerifier() })
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('user space souls', () => {
  test("pubOfSoul is gun's SEA.opt.pub", () => {
    const pub = 'AbC_d-1.xYz_2'
    assert.equal(pubOfSoul(`~${pub}`), pub)
    assert.equal(pubOfSoul(`~${pub}/profile/name`), pub)
    assert.equal(pubOfSoul(`app~${pub}.more`), pub)
    assert.equal(pubOfSoul('~@alice'), '.alice') // gun's quirk, kept: alias souls are handled before this rule
    assert.equal(pubOfSoul('plain'), undefined)
    assert.equal(pubOfSoul('~onlyone'), undefined)
  })
})

describe('accounts: create / auth, both ways with gun', () => {
  test('an account created by ours authenticates in gun, with the same keys; our signed puts read back in gun', async () => {
    const store = await verifiedStore()
    const alice = await createUser(store, 'alice', 'correct horse')
    assert.deepEqual(accountsOf(store, 'alice'), [userSoul(alice.pub)])
    assert.equal(store.value(userSoul(alice.pub), 'pub'), alice.pub) // plain, as gun
    await alice.put('', { bio: 'hello from coop' })
    await alice.put('profile', { name: 'Alice', age: 30 })
    await alice.put('', { profile: { '#': alice.soul('profile') } })

    const peer = gunPeer()
    peers.push(peer)
    gunReceive(peer.gun, store.graph())
    await delay(100)
    const ack: any = await gunCallback((cb) => peer.gun.user().auth('alice', 'correct horse', cb))
    assert.equal(ack.err, undefined)
    assert.equal(ack.sea.pub, alice.pub)
    assert.equal(ack.sea.priv, alice.pair.priv)
    assert.equal(ack.sea.epriv, alice.pair.epriv)
    assert.equal(await gunRead(peer.gun, userSoul(alice.pub), 'bio'), 'hello from coop')
    assert.equal(await gunRead(peer.gun, alice.soul('profile'), 'name'), 'Alice')
    await store.close()
  })

  test('an account created by gun authenticates with ours; its signed puts pass our verifier', async () => {
    const peer = gunPeer()
    peers.push(peer)
    const user = peer.gun.user()
    const created: any = await gunCallback((cb) => user.create('bob', 'battery staple', cb))
    assert.equal(created.err, undefined)
    const authed: any = await gunCallback((cb) => user.auth('bob', 'battery staple', cb))
    assert.equal(authed.err, undefined)
    await gunCallback((cb) => user.get('status').put('online', cb))
    await delay(50)
    const gunGraph = JSON.parse(JSON.stringify(peer.gun._.graph)) as Graph
    const userData: Graph = {}
    for (const soul of Object.keys(gunGraph)) if (soul.startsWith('~')) userData[soul] = gunGraph[soul]!

    const verdict = await verifyUserDelta(userData)
    assert.deepEqual(verdict.rejected, [])
    const store = await verifiedStore()
    await store.put(userData)
    const bob = await authUser(store, 'bob', 'battery staple')
    assert.equal(bob.pub, created.pub)
    assert.equal(await bob.read('', 'status'), 'online')
    assert.equal(await readUserValue(store, userSoul(bob.pub), 'alias'), 'bob')
    await assert.rejects(authUser(store, 'bob', 'wrong password'), rejectsWith('AUTH_FAILED'))
    await assert.rejects(authUser(store, 'nobody', 'battery staple'), rejectsWith('AUTH_FAILED'))
    await store.close()
  })

  test('bad account input: USER_EXISTS, short password, empty alias — nothing stored', async () => {
    const store = await verifiedStore()
    await createUser(store, 'carol', 'long enough', { iterations: 1000 })
    const size = store.size
    await assert.rejects(createUser(store, 'carol', 'long enough', { iterations: 1000 }), rejectsWith('USER_EXISTS'))
    await assert.rejects(createUser(store, 'dave', 'short'), rejectsWith('MALFORMED'))
    await assert.rejects(createUser(store, '', 'long enough'), rejectsWith('MALFORMED'))
    assert.equal(store.size, size)
    await store.close()
  })

  test('auth skips a forged account an attacker linked to the same alias', async () => {
    const store = await verifiedStore()
    const real = await createUser(store, 'erin', 'erin password', { iterations: 1000 })
    // the attacker makes their own account under the same alias (allowed: aliases are not unique, as in gun)
    const attacker = await GraphStore.open({ verify: userGraphVerifier() })
    await createUser(attacker, 'erin', 'attacker password', { iterations: 1000 })
    await store.put(attacker.graph())
    assert.equal(accountsOf(store, 'erin').length, 2)
    const erin = await authUser(store, 'erin', 'erin password', { iterations: 1000 })
    assert.equal(erin.pub, real.pub)
    await store.close()
    await attacker.close()
  })
})

describe('the user-space verifier (GraphStore verify hook)', () => {
  test('unsigned, forged, replayed and certificate writes to ~pub souls: BAD_SIGNATURE, nothing stored', async () => {
    const store = await verifiedStore()
    const owner = await pair()
    const intruder = await pair()
    const soul = userSoul(owner.pub)
    const state = Date.now()
    const attempt = async (value: string | number, key = 'name', at = state) => {
      const delta: Graph = {}
      putKey(delta, soul, key, value, at)
      await assert.rejects(store.put(delta), rejectsWith('BAD_SIGNATURE'))
    }
    await attempt('plain unsigned')
    await attempt(5)
    await attempt(await signUserValue(soul, 'name', 'x', state, intruder)) // signed by someone else
    const genuine = await signUserValue(soul, 'name', 'x', state, owner)
    await attempt(genuine, 'other') // replayed under another key
    await attempt(genuine, 'name', state + 1) // replayed with another state
    await attempt(genuine.replace('"x"', '"y"')) // value changed
    await attempt(JSON.stringify({ ':': 'x', '~': JSON.parse(genuine)['~'], '*': intruder.pub }))
    await attempt('not-the-pub', 'pub')
    // correctly signed, but not a graph value (an object): INVALID_VALUE
    const objectDelta: Graph = {}
    putKey(objectDelta, soul, 'obj', await signUserValue(soul, 'obj', { a: 1 } as never, state, owner), state)
    await assert.rejects(store.put(objectDelta), rejectsWith('INVALID_VALUE'))
    assert.equal(store.size, 0)
    // the genuine one is stored
    const ok: Graph = {}
    putKey(ok, soul, 'name', genuine, state)
    await store.put(ok)
    assert.equal(await readUserValue(store, soul, 'name'), 'x')
    await store.close()
  })

  test('a delta mixing good and bad writes: rejected whole by default; filter mode keeps the good part', async () => {
    const owner = await pair()
    const soul = userSoul(owner.pub)
    const state = Date.now()
    const delta: Graph = {}
    putKey(delta, soul, 'good', 'yes', state)
    putKey(delta, 'public/board', 'note', 'anyone may write here', state)
    const signed = await signUserDelta(delta, owner)
    putKey(signed, soul, 'bad', 'unsigned', state)

    const strict = await verifiedStore()
    await assert.rejects(strict.put(signed), (error: unknown) => rejectsWith('BAD_SIGNATURE')(error) && (error as any).details.rejected === 1)
    assert.equal(strict.size, 0)
    await strict.close()

    const seen: unknown[] = []
    const lenient = await GraphStore.open({ verify: userGraphVerifier({ mode: 'filter', onRejected: (r) => seen.push(...r) }) })
    await lenient.put(signed)
    assert.equal(await readUserValue(lenient, soul, 'good'), 'yes')
    assert.equal(lenient.value(soul, 'bad'), undefined)
    assert.equal(lenient.value('public/board', 'note'), 'anyone may write here')
    assert.equal(seen.length, 1)
    await lenient.close()
  })

  test("alias rules as gun's: ~@ lists only link to themselves; content-addressed souls must hash to their key", async () => {
    const keys = await pair()
    const state = Date.now()
    const check = async (soul: string, key: string, value: any) => (await verifyUserDelta({ [soul]: { _: { '#': soul, '>': { [key]: state } }, [key]: value } } as Graph)).rejected.length === 0
    assert.equal(await check('~@frank', `~${keys.pub}`, { '#': `~${keys.pub}` }), true)
    assert.equal(await check('~@frank', `~${keys.pub}`, { '#': '~someone.else' }), false)
    assert.equal(await check('~@frank', `~${keys.pub}`, null), false)
    assert.equal(await check('~@', 'frank', { '#': '~@frank' }), true) // gun's check.alias: link === '~@' + key
    assert.equal(await check('~@', 'frank', { '#': '~@george' }), false)
    const hash = Buffer.from(await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode('immutable text')))
    assert.equal(await check('#', hash.toString('base64'), 'immutable text'), true)
    assert.equal(await check('#', `post#${hash.toString('hex')}`, 'immutable text'), true)
    assert.equal(await check('#', hash.toString('base64'), 'changed text'), false)
  })
})
