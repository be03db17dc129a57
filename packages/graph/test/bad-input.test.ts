// Bad input over the wire: malformed JSON, oversized frames, invalid souls/values/states, prototype
// keys, far-future states, forged SEA signatures — each answered with a typed error (GUN's `err`
// ack or `dam: "!"`, carrying the GraphError code), nothing stored, the connection kept; repeated
// abuse closes it. Over WebSocket (a raw client) and over libp2p (raw length-prefixed frames).
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'

import { WebSocket } from 'ws'

import type { GraphError } from '../src/errors.ts'
import { startGraphRelay, type GraphRelay } from '../src/relay.ts'
import { pair } from '../src/sea/pair.ts'
import { signUserDelta, userSoul } from '../src/sea/user-space.ts'
import type { Graph } from '../src/types.ts'
import { encodeLengthPrefixed } from '../src/wire/length-prefixed.ts'
import { GRAPH_PROTOCOL, serveGraphOverLibp2p } from '../src/wire/libp2p-stream.ts'
import { coopPeer, libp2pNode, one, waitFor } from './wire-helpers.ts'

const cleanups: Array<() => Promise<void> | void> = []
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
})

type Heard = Record<string, unknown>

/** A raw WebSocket client that records every message it hears (batches flattened). */
async function rawClient(url: string): Promise<{ socket: WebSocket; heard: Heard[]; closed: Promise<number>; next(match: (message: Heard) => boolean): Promise<Heard> }> {
  const socket = new WebSocket(url)
  const heard: Heard[] = []
  const waiters: Array<{ match: (message: Heard) => boolean; resolve: (message: Heard) => void }> = []
  socket.on('message', (data) => {
    const parsed = JSON.parse(String(data)) as Heard | Heard[]
    for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
      heard.push(message)
      for (const waiter of [...waiters]) {
        if (!waiter.match(message)) continue
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve(message)
      }
    }
  })
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)))
  await new Promise((resolve, reject) => {
    socket.once('open', resolve)
    socket.once('error', reject)
  })
  cleanups.push(() => socket.terminate())
  return {
    socket,
    heard,
    closed,
    next(match) {
      const found = heard.find(match)
      if (found !== undefined) return Promise.resolve(found)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no matching message')), 5_000)
        waiters.push({ match, resolve: (message) => (clearTimeout(timer), resolve(message)) })
      })
    },
  }
}

const ackOf = (id: string) => (message: Heard) => message['@'] === id
const damError = (code: string) => (message: Heard) => message.dam === '!' && String(message.err).startsWith(code)

describe('bad input over WebSocket', () => {
  let relay: GraphRelay
  const rejected: GraphError[] = []

  it('malformed JSON: dam "!" MALFORMED, connection kept', async () => {
    relay = await startGraphRelay({ mesh: { limits: { maxFrameBytes: 64 * 1024 }, maxStrikes: 50 } })
    cleanups.push(() => relay.close())
    relay.mesh.on('rejected', (_peer, error) => rejected.push(error))
    const client = await rawClient(relay.url)
    client.socket.send('{"#":"x1","put":{"a":')
    const reply = await client.next(damError('MALFORMED'))
    assert.match(String(reply.err), /not JSON/)
    client.socket.send('42')
    await client.next((message) => message.dam === '!' && String(message.err).includes('neither a message'))
    // still usable
    client.socket.send(JSON.stringify({ '#': 'ok1', put: one('fine', 'k', 1, Date.now()) }))
    assert.equal((await client.next(ackOf('ok1'))).ok, 1)
    assert.equal(relay.store.value('fine', 'k'), 1)
    assert.equal(rejected[0]?.code, 'MALFORMED')
  })

  it('oversized frame: TOO_LARGE before parsing, nothing stored, connection kept; beyond the hard cap ws closes it (1009)', async () => {
    const client = await rawClient(relay.url)
    const big = JSON.stringify({ '#': 'big1', put: one('big', 'k', 'x'.repeat(70 * 1024), Date.now()) })
    client.socket.send(big)
    await client.next(damError('TOO_LARGE'))
    assert.equal(relay.store.get('big'), undefined)
    client.socket.send(JSON.stringify({ '#': 'ok2', put: one('fine', 'k2', 2, Date.now()) }))
    assert.equal((await client.next(ackOf('ok2'))).ok, 1)
    client.socket.send('x'.repeat(300 * 1024)) // > 4 × 64 KiB
    assert.equal(await client.closed, 1009)
  })

  it('invalid souls, values, states and meta: err ack with the code, nothing stored, good messages of the same batch kept', async () => {
    const client = await rawClient(relay.url)
    const now = Date.now()
    const batch = [
      { '#': 'bad-soul', put: { '': { _: { '#': '', '>': { k: now } }, k: 1 } } },
      { '#': 'proto', put: JSON.parse(`{"__proto__":{"_":{"#":"__proto__",">":{"polluted":${now}}},"polluted":true}}`) },
      { '#': 'bad-value', put: { v: { _: { '#': 'v', '>': { k: now } }, k: [1, 2] } } },
      { '#': 'bad-link', put: { l: { _: { '#': 'l', '>': { k: now } }, k: { '#': 'x', extra: 1 } } } },
      { '#': 'no-state', put: { s: { _: { '#': 's', '>': {} }, k: 1 } } },
      { '#': 'soul-mismatch', put: { m: { _: { '#': 'other', '>': { k: now } }, k: 1 } } },
      { '#': 'future', put: one('future', 'k', 'from 2100', Date.UTC(2100, 0, 1)) },
      { '#': 'bad-get', get: { '.': 'k' } },
      { '#': 'good', put: one('good', 'k', 'kept', now) },
    ]
    const size = relay.store.size
    client.socket.send(JSON.stringify(batch))
    const expected: Record<string, string> = {
      'bad-soul': 'INVALID_SOUL',
      proto: 'INVALID_SOUL',
      'bad-value': 'INVALID_VALUE',
      'bad-link': 'INVALID_VALUE',
      'no-state': 'INVALID_STATE',
      'soul-mismatch': 'MALFORMED',
      future: 'FUTURE_STATE',
      'bad-get': 'INVALID_SOUL',
    }
    for (const [id, code] of Object.entries(expected)) {
      const reply = await client.next(ackOf(id))
      assert.ok(String(reply.err).startsWith(`${code}:`), `${id}: ${String(reply.err)}`)
      assert.equal(reply.ok, undefined)
    }
    assert.equal((await client.next(ackOf('good'))).ok, 1)
    assert.equal(relay.store.size, size + 1, 'only the good message was stored')
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
    assert.equal(client.socket.readyState, WebSocket.OPEN)
  })

  it('forged SEA signature: BAD_SIGNATURE, nothing stored; the genuine write is stored', async () => {
    const client = await rawClient(relay.url)
    const alice = await pair()
    const soul = userSoul(alice.pub)
    const signed = await signUserDelta(one(soul, 'name', 'Alice', Date.now()), alice)
    const forged: Graph = structuredClone(signed)
    const value = JSON.parse(forged[soul]!.name as string) as { ':': string; '~': string }
    forged[soul]!.name = JSON.stringify({ ':': 'Mallory', '~': value['~'] })
    client.socket.send(JSON.stringify({ '#': 'forged', put: forged }))
    assert.match(String((await client.next(ackOf('forged'))).err), /^BAD_SIGNATURE:/)
    assert.equal(relay.store.get(soul), undefined)
    client.socket.send(JSON.stringify({ '#': 'genuine', put: signed }))
    assert.equal((await client.next(ackOf('genuine'))).ok, 1)
    assert.equal(relay.store.value(soul, 'name'), signed[soul]!.name)
  })

  it('repeated abuse closes the connection (1008); one mistake does not', async () => {
    const strict = await startGraphRelay({ mesh: { maxStrikes: 5 } })
    cleanups.push(() => strict.close())
    const client = await rawClient(strict.url)
    for (let i = 0; i < 10; i++) client.socket.send('nope')
    assert.equal(await client.closed, 1008)
    const other = await rawClient(strict.url)
    other.socket.send('nope')
    other.socket.send(JSON.stringify({ '#': 'after', put: one('s', 'k', 1, Date.now()) }))
    assert.equal((await other.next(ackOf('after'))).ok, 1)
  })
})

describe('bad input over libp2p', () => {
  it('an oversized frame is skipped unread (TOO_LARGE, stream kept); a broken length prefix ends the stream', async () => {
    const [server, client] = await Promise.all([libp2pNode(), libp2pNode()])
    cleanups.push(() => server.stop(), () => client.stop())
    const peer = await coopPeer({ mesh: { limits: { maxFrameBytes: 1024 } } })
    cleanups.push(() => peer.close())
    const rejected: string[] = []
    peer.mesh.on('rejected', (_peer, error) => rejected.push(error.code))
    const service = await serveGraphOverLibp2p(server, peer.mesh)
    cleanups.push(() => service.close())

    const stream = await client.dialProtocol(server.getMultiaddrs()[0]!, GRAPH_PROTOCOL)
    const encoder = new TextEncoder()
    stream.send(encodeLengthPrefixed(encoder.encode(JSON.stringify({ '#': 'huge', put: one('huge', 'k', 'y'.repeat(4096), Date.now()) }))))
    stream.send(encodeLengthPrefixed(encoder.encode(JSON.stringify({ '#': 'small', put: one('small', 'k', 1, Date.now()) }))))
    await waitFor('the frame after the oversized one is stored', () => peer.store.value('small', 'k') === 1)
    assert.deepEqual(rejected, ['TOO_LARGE'])
    assert.equal(peer.store.get('huge'), undefined)
    assert.equal(stream.status, 'open')

    stream.send(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))
    await waitFor('stream ended', () => stream.status !== 'open')
    assert.equal(rejected.at(-1), 'MALFORMED')
  })
})
