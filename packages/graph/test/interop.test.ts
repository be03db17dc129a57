// Interop with gun from npm, unmodified, over loopback WebSocket: gun as a client of a Coop relay,
// and a Coop relay as a client of a gun server — data both ways, and conflicting writes resolved
// to the same value on both sides (incl. an equal-state tie broken lexically by both).
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, describe, it } from 'node:test'

import { startGraphRelay, type GraphRelay } from '../src/relay.ts'
import { releaseTimers, closeGun, coopPeer, Gun, gunOnce, gunPeer, gunValue, one, tempDir, waitFor, type GunChain } from './wire-helpers.ts'
import { connectGraphWebSocket } from '../src/wire/websocket-client.ts'

const dir = tempDir('interop')
const cleanups: Array<() => Promise<void> | void> = []
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
  dir.remove()
  releaseTimers()
})

describe('gun client ↔ Coop relay', () => {
  let relay: GraphRelay
  let gun: GunChain

  it('gun writes → the Coop relay stores them (same values and states) and acks', async () => {
    relay = await startGraphRelay({})
    cleanups.push(() => relay.close())
    gun = gunPeer([relay.url], dir.path)
    cleanups.push(() => closeGun(gun))

    const ack = await new Promise<Record<string, unknown>>((resolve) => gun.get('alice').put({ name: 'Alice', age: 30 }, resolve))
    assert.equal(ack.err, undefined)
    assert.ok(ack.ok, 'the put is acked by the relay')
    const stored = relay.store.get('alice')
    assert.equal(stored?.name, 'Alice')
    assert.equal(stored?.age, 30)
    const gunNode = gun.back(-1)._.graph.alice
    assert.deepEqual({ ...stored!._['>'] }, { ...gunNode._['>'] }, 'HAM states travel unchanged')

    // nested objects: gun links a child node; both arrive
    await new Promise((resolve) => gun.get('carol').put({ address: { city: 'Paris' } }, resolve))
    await waitFor('carol linked node', () => {
      const link = relay.store.get('carol')?.address as { '#': string } | undefined
      return link !== undefined && relay.store.get(link['#'])?.city === 'Paris'
    })
  })

  it('Coop writes → gun sees them with once (node and key) and on (later changes)', async () => {
    await relay.mesh.put(one('bob', 'name', 'Bob', Date.now()))
    const bob = (await gunOnce(gun.get('bob'))) as Record<string, unknown>
    assert.equal(bob.name, 'Bob')
    assert.equal(await gunOnce(gun.get('bob').get('name')), 'Bob')

    const seen: unknown[] = []
    gun.get('alice').get('age').on((age: unknown) => seen.push(age))
    await waitFor('gun on alice.age initial', () => seen.includes(30))
    await relay.mesh.put(one('alice', 'age', 31, Date.now()))
    await waitFor('gun on sees alice.age = 31', () => seen.includes(31))
    // a second gun client, through the relay, sees gun's and Coop's writes alike
    const other = gunPeer([relay.url], dir.path)
    cleanups.push(() => closeGun(other))
    const alice = (await gunOnce(other.get('alice'))) as Record<string, unknown>
    assert.equal(alice.name, 'Alice')
    assert.equal(alice.age, 31)
  })

  it('gun writes reach a Coop peer behind the relay, and that peer’s writes reach gun', async () => {
    const far = await coopPeer()
    cleanups.push(() => far.close())
    const link = connectGraphWebSocket({ mesh: far.mesh, url: relay.url, backoff: { initialMs: 50 } })
    cleanups.push(() => link.close())
    await link.whenConnected()
    await waitFor('far peer has alice (resync from the relay)', () => far.store.get('alice')?.age === 31)
    gun.get('dave').put({ mood: 'happy' })
    await waitFor('far peer has dave', () => far.store.get('dave')?.mood === 'happy')
    const seen: unknown[] = []
    gun.get('erin').get('city').on((city: unknown) => seen.push(city))
    await far.mesh.put(one('erin', 'city', 'Lyon', Date.now()))
    await waitFor('gun sees erin.city from the far peer', () => seen.includes('Lyon'))
  })
})

describe('Coop relay ↔ gun server: relayed gets, conflicting writes converge on both sides', () => {
  it('concurrent writes to the same keys end with the same values in gun and Coop', async () => {
    const http = createServer()
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    const port = (http.address() as AddressInfo).port
    const server = Gun({ web: http, multicast: false, axe: false, radisk: false, localStorage: false, stats: false, file: `${dir.path}/gun-server` })
    cleanups.push(async () => {
      closeGun(server)
      http.closeAllConnections()
      await new Promise((resolve) => http.close(resolve))
    })
    const url = `ws://127.0.0.1:${port}/gun`
    server.get('upstream').put({ only: 'in gun' }) // (no ack: this gun server has no storage)
    await waitFor('gun server holds it', () => gunValue(server, 'upstream', 'only') === 'in gun')
    const relay = await startGraphRelay({ peers: [url], backoff: { initialMs: 50 } })
    cleanups.push(() => relay.close())
    await relay.peers[0]!.whenConnected()

    // A gun client of the Coop relay asks for a node only the gun server has: the relay forwards
    // the get upstream and routes the answer back.
    const client = gunPeer([relay.url], dir.path)
    cleanups.push(() => closeGun(client))
    assert.equal(((await gunOnce(client.get('upstream'))) as Record<string, unknown>).only, 'in gun')
    assert.equal(relay.store.value('upstream', 'only'), 'in gun', 'the relay keeps what passed through')

    const keys = 20
    const writes: Array<Promise<unknown>> = []
    for (let i = 0; i < keys; i++) {
      server.get('race').get(`k${i}`).put(`gun-${i}`)
      writes.push(relay.mesh.put(one('race', `k${i}`, `coop-${i}`, Date.now())))
    }
    await Promise.all(writes)
    const agree = (): boolean => {
      for (let i = 0; i < keys; i++) {
        const ours = relay.store.value('race', `k${i}`)
        if (ours === undefined || ours !== gunValue(server, 'race', `k${i}`)) return false
        if (relay.store.state('race', `k${i}`) !== server.back(-1)._.graph.race._['>'][`k${i}`]) return false
      }
      return true
    }
    await waitFor('gun and Coop agree on every raced key', agree)

    // Equal states: a second Coop peer writes "banana"@S into the gun server, the relay writes
    // "apple"@S; both sides must keep "banana" (the lexically larger JSON), whichever came first.
    const second = await coopPeer()
    cleanups.push(() => second.close())
    const link = connectGraphWebSocket({ mesh: second.mesh, url, backoff: { initialMs: 50 } })
    cleanups.push(() => link.close())
    await link.whenConnected()
    const state = Date.now() - 1_000
    await Promise.all([second.mesh.put(one('tie', 'fruit', 'banana', state)), relay.mesh.put(one('tie', 'fruit', 'apple', state))])
    await waitFor('tie resolved on both sides', () => gunValue(server, 'tie', 'fruit') === 'banana' && relay.store.value('tie', 'fruit') === 'banana')
    assert.equal(relay.store.state('tie', 'fruit'), state)
    await waitFor('the second Coop peer agrees', () => second.store.value('tie', 'fruit') === 'banana')
  })
})
