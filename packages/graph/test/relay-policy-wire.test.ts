// Relays over the real WebSocket endpoint: user graphs are verified by default (a forged or unsigned
// ~pub write gets an err ack naming it and is not stored, the rest of the put is), a gun client's
// SEA user writes are accepted, and a trust relay (seed 004 §4.3) stores and passes on only data
// signed by keys it trusts enough — the untrusted writer hears UNTRUSTED for exactly its keys.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'

import { WebSocket } from 'ws'

import { GraphStore } from '../src/graph-store.ts'
import { startGraphRelay } from '../src/relay.ts'
import { pair } from '../src/sea/pair.ts'
import { User, readUserValue } from '../src/sea/user.ts'
import type { Graph } from '../src/types.ts'
import { openGraphClient } from '../src/wire/client.ts'
import { connectGraphWebSocket } from '../src/wire/websocket-client.ts'
import { closeGun, coopPeer, one, releaseTimers, waitFor } from './wire-helpers.ts'

const require = createRequire(import.meta.url)

const cleanups: Array<() => Promise<void> | void> = []
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
  releaseTimers()
})

type Heard = Record<string, unknown>

/** A raw WebSocket client: sends one put and returns the ack for it. */
async function rawPut(url: string, id: string, put: Graph): Promise<Heard> {
  const socket = new WebSocket(url)
  cleanups.push(() => socket.terminate())
  await new Promise((resolve, reject) => {
    socket.once('open', resolve)
    socket.once('error', reject)
  })
  const ack = new Promise<Heard>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for ${id}`)), 10_000)
    socket.on('message', (data) => {
      const parsed = JSON.parse(String(data)) as Heard | Heard[]
      for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
        if (message['@'] !== id) continue
        clearTimeout(timer)
        resolve(message)
      }
    })
  })
  socket.send(JSON.stringify({ '#': id, put }))
  const reply = await ack
  socket.close()
  return reply
}

/** A user whose signed writes are made on a scratch store (no PBKDF2: only the keys matter here). */
async function signer(alias: string): Promise<User> {
  const store = await GraphStore.open()
  cleanups.push(() => store.close())
  return new User(store, alias, await pair())
}

function merge(...graphs: Graph[]): Graph {
  const out: Graph = {}
  for (const graph of graphs) {
    for (const soul of Object.keys(graph)) {
      const node = (out[soul] ??= { _: { '#': soul, '>': {} } })
      for (const key of Object.keys(graph[soul]!)) {
        if (key === '_') continue
        node._['>'][key] = graph[soul]!._['>'][key]!
        node[key] = graph[soul]![key]!
      }
    }
  }
  return out
}

describe('a relay verifies user graphs by default', () => {
  it('a forged ~pub write over a raw WebSocket gets an err ack naming it (BAD_SIGNATURE) and nothing of it is stored', async () => {
    const relay = await startGraphRelay({})
    cleanups.push(() => relay.close())
    const alice = await signer('alice')
    const signed = await alice.put('profile', { name: 'Alice' })
    const soul = alice.soul('profile')
    const forged = structuredClone(signed)
    const packed = JSON.parse(forged[soul]!.name as string) as { ':': string; '~': string }
    forged[soul]!.name = JSON.stringify({ ':': 'Mallory', '~': packed['~'] })

    const reply = await rawPut(relay.url, 'forged', forged)
    assert.match(String(reply.err), /^BAD_SIGNATURE: Refused 1 write\(s\), stored nothing: /)
    assert.ok(String(reply.err).includes(`${soul}.name`), 'the err names the refused soul and key')
    assert.deepEqual(reply.refused, [{ '#': soul, '.': 'name', code: 'BAD_SIGNATURE' }])
    assert.equal(reply.ok, undefined)
    assert.equal(relay.store.get(soul), undefined)

    // Unsigned (a plain value in user space) is refused the same way.
    const unsigned = await rawPut(relay.url, 'unsigned', one(soul, 'name', 'plain', Date.now()))
    assert.match(String(unsigned.err), /^BAD_SIGNATURE:/)
    assert.equal(relay.store.get(soul), undefined)

    // The genuine write is stored and acked ok.
    const good = await rawPut(relay.url, 'good', signed)
    assert.equal(good.ok, 1)
    assert.equal(await readUserValue(relay.store, soul, 'name'), 'Alice')
  })

  it('a put mixing public, signed and forged writes: the allowed part is stored, the ack is an err naming only the forged key', async () => {
    const relay = await startGraphRelay({})
    cleanups.push(() => relay.close())
    const alice = await signer('alice')
    const mallory = await signer('mallory')
    const state = Date.now()
    const good = await alice.put('posts', { first: 'hello' })
    // mallory signs a write into alice's graph with her own key: a valid signature, the wrong key
    const intruder = await mallory.put('posts', { first: 'pwned' })
    const intruderValue = intruder[mallory.soul('posts')]!.first!
    const forged = one(alice.soul('posts'), 'second', intruderValue, intruder[mallory.soul('posts')]!._['>'].first!)
    const delta = merge(one('public/notes', 'text', 'anyone may write here', state), good, forged)

    const reply = await rawPut(relay.url, 'mixed', delta)
    assert.match(String(reply.err), /^BAD_SIGNATURE: Refused 1 write\(s\), stored the other 2: /)
    assert.deepEqual(reply.refused, [{ '#': alice.soul('posts'), '.': 'second', code: 'BAD_SIGNATURE' }])
    assert.equal(relay.store.value('public/notes', 'text'), 'anyone may write here')
    assert.equal(await readUserValue(relay.store, alice.soul('posts'), 'first'), 'hello')
    assert.equal(relay.store.value(alice.soul('posts'), 'second'), undefined)
  })

  it('a Coop client (coop graph put) hears the refusal as a typed GraphError', async () => {
    const relay = await startGraphRelay({})
    cleanups.push(() => relay.close())
    const client = await openGraphClient(relay.url, { timeoutMs: 5_000 })
    cleanups.push(() => client.close())
    const alice = await signer('alice')
    await assert.rejects(client.put(one(alice.soul('profile'), 'name', 'unsigned', Date.now())), { name: 'GraphError', code: 'BAD_SIGNATURE' })
    assert.equal(relay.store.get(alice.soul('profile')), undefined)
  })

  it('in-process writes on the relay store are verified too; verifyUserGraphs: false turns it all off', async () => {
    const relay = await startGraphRelay({})
    cleanups.push(() => relay.close())
    const alice = await signer('alice')
    await assert.rejects(relay.store.put(one(alice.soul(), 'name', 'unsigned', Date.now())), { code: 'BAD_SIGNATURE' })

    const open = await startGraphRelay({ verifyUserGraphs: false })
    cleanups.push(() => open.close())
    const reply = await rawPut(open.url, 'unchecked', one(alice.soul(), 'name', 'unsigned', Date.now()))
    assert.equal(reply.ok, 1)
    assert.equal(open.store.value(alice.soul(), 'name'), 'unsigned')
  })

  it('a gun client (npm gun with SEA) creates a user and writes signed data through a Coop relay: accepted and verifiable', async () => {
    const relay = await startGraphRelay({})
    cleanups.push(() => relay.close())
    const refused: string[] = []
    relay.mesh.on('rejected', (_peer, error) => refused.push(error.message))
    const Gun = require('gun')
    require('gun/sea')
    const dir = mkdtempSync(join(tmpdir(), 'coop-relay-gun-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const gun = Gun({ peers: [relay.url.replace(/^ws/, 'http')], multicast: false, axe: false, stats: false, file: join(dir, 'radata') })
    cleanups.push(() => closeGun(gun))
    const user = gun.user()
    const created = await new Promise<{ err?: string; pub?: string }>((resolve) => user.create('gun-alice', 'correct horse battery', resolve))
    assert.equal(created.err, undefined, created.err)
    const authed = await new Promise<{ err?: string }>((resolve) => user.auth('gun-alice', 'correct horse battery', resolve))
    assert.equal(authed.err, undefined, authed.err)
    const pub = user.is.pub as string
    await new Promise<void>((resolve, reject) => user.get('profile').put({ name: 'Alice from gun' }, (ack: { err?: string }) => (ack.err ? reject(new Error(ack.err)) : resolve())))

    // gun signs every user-space value, links included: the profile key holds a signed link.
    const profileSoul = `~${pub}/profile`
    await waitFor('the gun user’s signed writes at the relay', () => relay.store.value(`~${pub}`, 'profile') !== undefined && relay.store.value(profileSoul, 'name') !== undefined)
    assert.deepEqual(await readUserValue(relay.store, `~${pub}`, 'profile'), { '#': profileSoul })
    assert.equal(await readUserValue(relay.store, profileSoul, 'name'), 'Alice from gun')
    assert.equal(relay.store.value(`~${pub}`, 'pub'), pub)
    assert.deepEqual(relay.store.value('~@gun-alice', `~${pub}`), { '#': `~${pub}` })
    assert.deepEqual(refused, [], 'nothing a genuine gun user writes is refused')
  })
})

describe('a trust relay (relay only data signed by trusted keys, weighted trust)', () => {
  it('stores and passes on data signed by trusted keys; untrusted signers get UNTRUSTED for exactly their keys', async () => {
    const alice = await signer('alice') // trusted directly
    const bob = await signer('bob') // weight 0.3 (as a friend of a friend gets after decay): below minWeight
    const mallory = await signer('mallory') // unknown
    const trust = new Map([
      [alice.pub, 1],
      [bob.pub, 0.3],
    ])
    const relay = await startGraphRelay({ trust: { trust, minWeight: 0.5 } })
    cleanups.push(() => relay.close())
    // A second Coop peer replicating with the relay: sees what the relay relays, nothing else.
    const second = await coopPeer()
    cleanups.push(() => second.close())
    const link = connectGraphWebSocket({ mesh: second.mesh, url: relay.url, backoff: { initialMs: 50 } })
    cleanups.push(() => link.close())
    await link.whenConnected()

    const fromAlice = await alice.put('posts', { first: 'trusted news' })
    const fromBob = await bob.put('posts', { first: 'weak tie' })
    const fromMallory = await mallory.put('posts', { first: 'spam' })
    const reply = await rawPut(relay.url, 'mixed-trust', merge(fromAlice, fromBob, fromMallory, one('public/wall', 'x', 'unsigned public', Date.now())))
    assert.match(String(reply.err), /^UNTRUSTED: Refused 3 write\(s\), stored the other 1: /)
    const refused = (reply.refused as Array<{ '#': string; '.': string; code: string }>).map((entry) => `${entry['#']}.${entry['.']} ${entry.code}`).sort()
    assert.deepEqual(refused, [`${bob.soul('posts')}.first UNTRUSTED`, `${mallory.soul('posts')}.first UNTRUSTED`, 'public/wall.x UNTRUSTED'].sort())

    await waitFor('the trusted write relayed to the second peer', () => second.store.get(alice.soul('posts')) !== undefined)
    assert.equal(await readUserValue(second.store, alice.soul('posts'), 'first'), 'trusted news')
    assert.equal(relay.store.get(bob.soul('posts')), undefined)
    assert.equal(relay.store.get(mallory.soul('posts')), undefined)
    assert.equal(relay.store.get('public/wall'), undefined)
    assert.equal(second.store.get(mallory.soul('posts')), undefined)

    // A forgery under a trusted key is BAD_SIGNATURE, not merely untrusted.
    const forged = structuredClone(fromAlice)
    const packed = JSON.parse(forged[alice.soul('posts')]!.first as string) as { ':': string; '~': string }
    forged[alice.soul('posts')]!.first = JSON.stringify({ ':': 'fake news', '~': packed['~'] })
    forged[alice.soul('posts')]!._['>'].first! += 1
    const forgedReply = await rawPut(relay.url, 'forged-trusted', forged)
    assert.match(String(forgedReply.err), /^BAD_SIGNATURE:/)
    assert.equal(await readUserValue(relay.store, alice.soul('posts'), 'first'), 'trusted news')

    // Writes from the replicating peer go through the same policy.
    await second.mesh.put(await mallory.put('posts', { second: 'more spam' }))
    await second.mesh.put(await alice.put('posts', { second: 'more news' }))
    await waitFor('the trusted write from the second peer at the relay', () => relay.store.value(alice.soul('posts'), 'second') !== undefined)
    assert.equal(relay.store.get(mallory.soul('posts')), undefined)
  })
})
