import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import type { Stream } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import * as lp from 'it-length-prefixed'
import { createLibp2p, type Libp2p } from 'libp2p'
import { hexToBytes } from 'viem'

import {
  PEER_KEY_FILE,
  createCoopHost,
  isP2pError,
  signEnvelope,
  verifyEnvelope,
  type CoopHost,
  type P2pErrorCode,
  type VerifiedMessage,
} from '../src/index.ts'
import { Hosts, accountOf, eventually, forgeEnvelope, newKey, validUnsigned } from './helpers.ts'

const isCode = (code: P2pErrorCode) => (error: unknown) => {
  assert.ok(isP2pError(error), `expected P2pError ${code}, got ${String(error)}`)
  assert.equal(error.code, code, error.message)
  return true
}

/** A plain libp2p node (no Coop services) used to speak raw bytes and raw gossip to a host. */
async function rawNode(): Promise<Libp2p<{ identify: ReturnType<ReturnType<typeof identify>>; pubsub: GossipSub }>> {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), pubsub: gossipsub({ allowPublishToZeroTopicPeers: true }) },
  })
}

function varint(value: number): Uint8Array {
  const out: number[] = []
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80)
    value = Math.floor(value / 0x80)
  }
  out.push(value)
  return Uint8Array.from(out)
}

/** Resolves when the stream is closed (by either side), with the error if it was reset/aborted. */
function closed(stream: Stream): Promise<Error | undefined> {
  if (stream.status !== 'open') return Promise.resolve(undefined)
  return new Promise((resolve) => stream.addEventListener('close', (event) => resolve(event.error), { once: true }))
}

describe('request/response', () => {
  const hosts = new Hosts()
  let a: CoopHost
  let b: CoopHost
  let release: () => void = () => {}
  const seen: VerifiedMessage[] = []

  before(async () => {
    a = await hosts.start()
    b = await hosts.start()
    a.handle('echo/1.0.0', async (request) => {
      seen.push(request)
      return { echo: request.body, requester: request.from, peer: request.peerId }
    })
    a.handle('fail/1.0.0', async () => {
      throw Object.assign(new Error('no such cycle'), { code: 'UNKNOWN_CYCLE' })
    })
    a.handle('unsendable/1.0.0', async () => ({ fn: () => 1 }))
    a.handle('slow/1.0.0', () => new Promise((resolve) => (release = () => resolve('late'))))
  })
  after(async () => {
    release()
    await hosts.stopAll()
  })

  test('round trip: signed both ways, requester and responder recovered', async () => {
    const response = await b.request(a.multiaddrs()[0]!, 'echo/1.0.0', { cycle: 7, root: new Uint8Array([9]) })
    assert.equal(response.type, '/coop/echo/1.0.0#response')
    assert.equal(response.from, a.address)
    assert.equal(response.peerId, a.peerId)
    assert.deepEqual(response.body, { echo: { cycle: 7, root: new Uint8Array([9]) }, requester: b.address, peer: b.peerId })
    const request = seen.at(-1)!
    assert.equal(request.type, '/coop/echo/1.0.0')
    assert.equal(request.from, b.address)
    // both sides keep the exact signed bytes, which verify again on their own
    assert.equal((await verifyEnvelope(response.signed)).from, a.address)
    assert.equal((await verifyEnvelope(request.signed)).from, b.address)
    assert.ok(a.stats().received >= 1 && a.stats().sent >= 1)
    assert.ok(b.stats().received >= 1 && b.stats().sent >= 1)
  })

  test('concurrent requests each get their own answer', async () => {
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => b.request(a.multiaddrs()[0]!, 'echo/1.0.0', i)))
    assert.deepEqual(
      responses.map((response) => (response.body as { echo: number }).echo),
      Array.from({ length: 20 }, (_, i) => i),
    )
  })

  test('handler error → REMOTE_ERROR carrying the remote code and message', async () => {
    await assert.rejects(b.request(a.multiaddrs()[0]!, 'fail/1.0.0', null), (error: unknown) => {
      isCode('REMOTE_ERROR')(error)
      const { details } = error as { details: Record<string, unknown> }
      assert.equal(details.remoteCode, 'UNKNOWN_CYCLE')
      assert.equal(details.remoteMessage, 'no such cycle')
      assert.equal(details.from, a.address)
      assert.ok(details.signed instanceof Uint8Array, 'the signed refusal is kept')
      return true
    })
    // a result that cannot be encoded is answered with an error, not silence
    await assert.rejects(b.request(a.multiaddrs()[0]!, 'unsendable/1.0.0', null), isCode('REMOTE_ERROR'))
  })

  test('timeout → TIMEOUT (and a caller abort is reported the same way)', async () => {
    const started = Date.now()
    await assert.rejects(b.request(a.multiaddrs()[0]!, 'slow/1.0.0', null, { timeoutMs: 300 }), isCode('TIMEOUT'))
    assert.ok(Date.now() - started < 2_000)
    await assert.rejects(b.request(a.multiaddrs()[0]!, 'slow/1.0.0', null, { signal: AbortSignal.timeout(100) }), isCode('TIMEOUT'))
  })

  test('unhandled protocol → NO_HANDLER, unreachable peer → DIAL_FAILED, bad arguments → TypeError', async () => {
    await assert.rejects(b.request(a.multiaddrs()[0]!, 'nobody/1.0.0', null), isCode('NO_HANDLER'))
    const nobody = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    await assert.rejects(b.request(`/ip4/127.0.0.1/tcp/1/p2p/${nobody}`, 'echo/1.0.0', null), isCode('DIAL_FAILED'))
    await assert.rejects(b.request('not a multiaddr', 'echo/1.0.0', null), isCode('DIAL_FAILED'))
    await assert.rejects(b.dial('/ip4/127.0.0.1/tcp/1'), isCode('DIAL_FAILED'))
    await assert.rejects(b.request(a.multiaddrs()[0]!, '../etc', null), TypeError)
    assert.throws(() => b.subscribe('/coop/x', () => {}), TypeError)
    await assert.rejects(createCoopHost({ privateKey: '0x1234' }), TypeError)
    // and the host still serves
    assert.equal(((await b.request(a.multiaddrs()[0]!, 'echo/1.0.0', 'ok')).body as { echo: string }).echo, 'ok')
  })
})

describe('a host under abuse on its request protocol', () => {
  const hosts = new Hosts()
  let host: CoopHost
  let good: CoopHost
  let attacker: Awaited<ReturnType<typeof rawNode>>
  let calls = 0
  const MAX = 64 * 1024
  const PROTOCOL = '/coop/echo/1.0.0'

  before(async () => {
    host = await hosts.start({ maxMessageBytes: MAX, requestTimeoutMs: 500 })
    good = await hosts.start()
    host.handle('echo/1.0.0', async (request) => {
      calls += 1
      return request.body
    })
    attacker = await rawNode()
  })
  after(async () => {
    await attacker.stop()
    await hosts.stopAll()
  })

  async function open(): Promise<Stream> {
    return attacker.dialProtocol(multiaddr(host.multiaddrs()[0]!), PROTOCOL)
  }

  async function expectDropped(code: P2pErrorCode, send: (stream: Stream) => Promise<void>): Promise<Error | undefined> {
    const before = host.stats().dropped[code]
    const callsBefore = calls
    const stream = await open()
    const done = closed(stream)
    await send(stream)
    await eventually(() => host.stats().dropped[code] === before + 1)
    const error = await done
    assert.equal(calls, callsBefore, 'the handler never sees a bad request')
    return error
  }

  test('garbage in a well-formed frame → MALFORMED, stream reset', async () => {
    const error = await expectDropped('MALFORMED', async (stream) => {
      stream.send(lp.encode.single(crypto.getRandomValues(new Uint8Array(300))))
      await stream.close()
    })
    assert.ok(error, 'the host resets the stream')
  })

  test('unframed garbage, an empty stream and a truncated frame → MALFORMED', async () => {
    await expectDropped('MALFORMED', async (stream) => {
      stream.send(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))
      await stream.close()
    })
    await expectDropped('MALFORMED', async (stream) => stream.close())
    await expectDropped('MALFORMED', async (stream) => {
      stream.send(Uint8Array.from([...varint(100), 1, 2, 3]))
      await stream.close()
    })
  })

  test('an oversize frame is refused from its length prefix → MESSAGE_TOO_LARGE', async () => {
    const error = await expectDropped('MESSAGE_TOO_LARGE', async (stream) => {
      // announce MAX + 1 bytes, send 16 of them, and keep the stream open: the host must not wait for the rest
      stream.send(Uint8Array.from([...varint(MAX + 1), ...new Uint8Array(16)]))
    })
    assert.ok(error, 'the host resets the stream')
  })

  test('a validly framed but badly signed envelope → BAD_SIGNATURE', async () => {
    const mallory = accountOf(newKey())
    const victim = accountOf(newKey())
    const forged = await forgeEnvelope(mallory, validUnsigned(mallory, { type: PROTOCOL, from: hexToBytes(victim.address) }))
    await expectDropped('BAD_SIGNATURE', async (stream) => {
      stream.send(lp.encode.single(forged))
      await stream.close()
    })
  })

  test('a signed envelope that is stale, or meant for another context → STALE / MALFORMED', async () => {
    const key = newKey()
    const stale = await signEnvelope(key, { type: PROTOCOL, body: 1, sentAt: Date.now() - 10 * 60_000 })
    await expectDropped('STALE', async (stream) => {
      stream.send(lp.encode.single(stale))
      await stream.close()
    })
    const gossip = await signEnvelope(key, { type: 'coop/task/1/rounds', body: 1 })
    await expectDropped('MALFORMED', async (stream) => {
      stream.send(lp.encode.single(gossip))
      await stream.close()
    })
  })

  test('a stream that never sends a complete request → TIMEOUT', async () => {
    await expectDropped('TIMEOUT', async (stream) => {
      stream.send(varint(100))
    })
  })

  test('after all that the host still answers good requests', async () => {
    const response = await good.request(host.multiaddrs()[0]!, 'echo/1.0.0', 'still here')
    assert.equal(response.body, 'still here')
    // and a raw but correct request gets a signed answer
    const stream = await open()
    stream.send(lp.encode.single(await signEnvelope(newKey(), { type: PROTOCOL, body: 'raw' })))
    await stream.close()
    const chunks: Uint8Array[] = []
    for await (const frame of lp.decode(stream)) chunks.push(frame.subarray())
    assert.equal(chunks.length, 1)
    const answer = await verifyEnvelope(chunks[0]!)
    assert.equal(answer.from, host.address)
    assert.equal(answer.body, 'raw')
  })
})

describe('a requester facing a bad responder', () => {
  const hosts = new Hosts()
  let requester: CoopHost
  let responder: Awaited<ReturnType<typeof rawNode>>
  let target: string
  const MAX = 64 * 1024

  before(async () => {
    requester = await hosts.start({ maxMessageBytes: MAX })
    responder = await rawNode()
    target = responder.getMultiaddrs()[0]!.toString()
    const answer = (name: string, respond: (stream: Stream) => void | Promise<void>) =>
      responder.handle(`/coop/${name}/1.0.0`, async (stream) => {
        try {
          await respond(stream)
        } catch {
          stream.abort(new Error('test responder failed'))
        }
      })
    const mallory = accountOf(newKey())
    await answer('silent', (stream) => stream.close())
    await answer('reset', (stream) => stream.abort(new Error('go away')))
    await answer('garbage', async (stream) => {
      stream.send(lp.encode.single(Uint8Array.from([1, 2, 3])))
      await stream.close()
    })
    await answer('huge', (stream) => {
      stream.send(Uint8Array.from([...varint(MAX + 1), 0, 0, 0]))
    })
    await answer('forged', async (stream) => {
      const forged = await forgeEnvelope(mallory, validUnsigned(mallory, { type: '/coop/forged/1.0.0#response', from: hexToBytes(requester.address) }))
      stream.send(lp.encode.single(forged))
      await stream.close()
    })
    await answer('replay', async (stream) => {
      // echo the requester's own signed request back: valid signature, wrong context
      for await (const frame of lp.decode(stream)) {
        stream.send(lp.encode.single(frame.subarray()))
        break
      }
      await stream.close()
    })
  })
  after(async () => {
    await responder.stop()
    await hosts.stopAll()
  })

  test('no answer or a reset → REMOTE_ERROR', async () => {
    await assert.rejects(requester.request(target, 'silent/1.0.0', null), isCode('REMOTE_ERROR'))
    await assert.rejects(requester.request(target, 'reset/1.0.0', null), isCode('REMOTE_ERROR'))
  })

  test('bad answers are rejected with their code and counted as dropped', async () => {
    const cases: Array<[string, P2pErrorCode]> = [
      ['garbage/1.0.0', 'MALFORMED'],
      ['huge/1.0.0', 'MESSAGE_TOO_LARGE'],
      ['forged/1.0.0', 'BAD_SIGNATURE'],
      ['replay/1.0.0', 'MALFORMED'],
    ]
    for (const [protocol, code] of cases) {
      const before = requester.stats().dropped[code]
      await assert.rejects(requester.request(target, protocol, { ask: protocol }, { timeoutMs: 2_000 }), isCode(code), protocol)
      assert.equal(requester.stats().dropped[code], before + 1, protocol)
    }
  })
})

describe('gossip', () => {
  const hosts = new Hosts()
  const TOPIC = 'coop/task/1/rounds'
  let a: CoopHost
  let b: CoopHost
  let c: CoopHost
  const got = new Map<string, VerifiedMessage[]>()
  const record = (name: string) => (message: VerifiedMessage) => {
    got.set(name, [...(got.get(name) ?? []), message])
  }

  before(async () => {
    a = await hosts.start()
    // b and c only know a: c hears b's gossip through a
    b = await hosts.start({ bootstrap: a.multiaddrs() })
    c = await hosts.start({ bootstrap: a.multiaddrs() })
    a.subscribe(TOPIC, record('a'))
    b.subscribe(TOPIC, record('b'))
    c.subscribe(TOPIC, record('c'))
    c.subscribe(TOPIC, () => {
      throw new Error('a throwing handler does not stop the others')
    })
  })
  after(async () => {
    await hosts.stopAll()
  })

  test('published by one host, delivered to every subscriber with the verified sender', async () => {
    let n = 0
    await eventually(
      async () => {
        await b.publish(TOPIC, { round: 1, n: n++ })
        return (got.get('a')?.length ?? 0) > 0 && (got.get('c')?.length ?? 0) > 0
      },
      { intervalMs: 200 },
    )
    for (const name of ['a', 'c']) {
      for (const message of got.get(name)!) {
        assert.equal(message.type, TOPIC)
        assert.equal(message.from, b.address)
        assert.equal(message.peerId, b.peerId)
        assert.equal((message.body as { round: number }).round, 1)
      }
    }
    assert.equal(got.get('b'), undefined, 'no echo to the publisher')
    assert.ok(a.stats().received > 0 && b.stats().sent > 0)
  })

  test('invalid gossip is dropped, counted and not forwarded; valid gossip from any signer passes', async () => {
    const attacker = await rawNode()
    try {
      await attacker.dial(multiaddr(a.multiaddrs()[0]!))
      attacker.services.pubsub.subscribe(TOPIC)
      await eventually(() => attacker.services.pubsub.getSubscribers(TOPIC).some((peer) => peer.toString() === a.peerId))
      const before = a.stats().dropped
      const countA = got.get('a')?.length ?? 0
      const countC = got.get('c')?.length ?? 0

      await attacker.services.pubsub.publish(TOPIC, Uint8Array.from([1, 2, 3]))
      const mallory = accountOf(newKey())
      const forged = await forgeEnvelope(mallory, validUnsigned(mallory, { type: TOPIC, from: hexToBytes(b.address) }))
      await attacker.services.pubsub.publish(TOPIC, forged)
      await attacker.services.pubsub.publish(TOPIC, await signEnvelope(newKey(), { type: 'coop/other-topic', body: 1 }))
      await eventually(() => {
        const now = a.stats().dropped
        return now.MALFORMED === before.MALFORMED + 2 && now.BAD_SIGNATURE === before.BAD_SIGNATURE + 1
      })
      const honest = accountOf(newKey())
      await attacker.services.pubsub.publish(TOPIC, await signEnvelope(honest, { type: TOPIC, body: 'hello' }))
      await eventually(() => (got.get('a')?.length ?? 0) === countA + 1 && (got.get('c')?.length ?? 0) === countC + 1)
      assert.equal(got.get('a')!.at(-1)!.from, honest.address)
      assert.equal(got.get('c')!.at(-1)!.from, honest.address)
      assert.equal(c.stats().dropped.MALFORMED + c.stats().dropped.BAD_SIGNATURE, 0, 'invalid messages never reached c')
    } finally {
      await attacker.stop()
    }
  })
})

describe('identity and lifecycle', () => {
  let dataDir: string
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'coop-p2p-'))
  })
  after(async () => {
    await rm(dataDir, { recursive: true, force: true })
  })

  test('peer id is stable across restarts with the same dataDir; bootstrap peers re-dial it', async () => {
    const first = await createCoopHost({ privateKey: newKey(), dataDir })
    const peerId = first.peerId
    const address = first.multiaddrs()[0]!
    assert.ok(address.endsWith(`/p2p/${peerId}`))
    assert.equal((await stat(join(dataDir, PEER_KEY_FILE))).mode & 0o777, 0o600)

    const follower = await createCoopHost({ privateKey: newKey(), bootstrap: [address] })
    const heard: unknown[] = []
    follower.subscribe('coop/restart', (message) => heard.push(message.body))
    try {
      await first.stop()
      assert.deepEqual(first.multiaddrs(), [])
      // same dataDir, same port: same multiaddr, and the follower's bootstrap loop finds it again
      const port = multiaddr(address).getComponents().find((component) => component.name === 'tcp')!.value!
      const second = await createCoopHost({ privateKey: newKey(), dataDir, listen: [`/ip4/127.0.0.1/tcp/${port}`] })
      try {
        assert.equal(second.peerId, peerId)
        assert.equal(second.multiaddrs()[0], address)
        let n = 0
        await eventually(
          async () => {
            await second.publish('coop/restart', n++)
            return heard.length > 0
          },
          { intervalMs: 200, timeoutMs: 15_000 },
        )
      } finally {
        await second.stop()
      }
    } finally {
      await follower.stop()
    }
    const ephemeral = await createCoopHost({ privateKey: newKey(), start: false })
    assert.notEqual(ephemeral.peerId, peerId)
    assert.deepEqual(ephemeral.multiaddrs(), [])
    await ephemeral.stop()
  })

  test('stop() leaves no open handles: a process that used three hosts exits by itself', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/lifecycle.ts', import.meta.url))
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const exited = await new Promise<number | null | 'hung'>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        resolve('hung')
      }, 20_000)
      child.on('exit', (code) => {
        clearTimeout(timer)
        resolve(code)
      })
    })
    assert.equal(exited, 0, `child exit: ${String(exited)}\n${stderr}`)
    assert.deepEqual(JSON.parse(stdout.trim()), { echoed: { n: 1 }, timedOut: true, gossip: true })
  })
})
