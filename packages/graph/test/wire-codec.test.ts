// The pure wire pieces: frame codec (bounded, typed errors, never anything else), dedup (LRU + TTL),
// length-prefixed framing under arbitrary chunking, key lex matching, nextDown, backoff.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import fc from 'fast-check'

import { GraphError } from '../src/errors.ts'
import type { Graph } from '../src/types.ts'
import { DEFAULT_WIRE_LIMITS, decodeFrame, encodeFrame } from '../src/wire/codec.ts'
import { MessageDedup } from '../src/wire/dedup.ts'
import { LengthPrefixedDecoder, encodeLengthPrefixed } from '../src/wire/length-prefixed.ts'
import { nextDown } from '../src/wire/mesh.ts'
import { keyMatches, toWireJson, type WireMessage } from '../src/wire/messages.ts'
import { backoffDelay } from '../src/wire/reconnect.ts'

const value = fc.oneof(
  fc.constant(null),
  fc.string({ maxLength: 20 }),
  fc.boolean(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
  fc.string({ minLength: 1, maxLength: 10 }).filter((soul) => soul !== '__proto__').map((soul) => ({ '#': soul })),
)
const key = fc.string({ maxLength: 12 }).filter((k) => k !== '_' && k !== '__proto__')
const soul = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s !== '__proto__')
const graph: fc.Arbitrary<Graph> = fc.dictionary(soul, fc.dictionary(key, fc.tuple(value, fc.double({ min: 0, max: 4e12, noNaN: true })), { maxKeys: 5 }), { maxKeys: 4 }).map((shape) => {
  const out: Graph = {}
  for (const [s, keys] of Object.entries(shape)) {
    const node: Graph[string] = { _: { '#': s, '>': {} } }
    for (const [k, [v, state]] of Object.entries(keys)) {
      node[k] = v
      node._['>'][k] = state
    }
    out[s] = node
  }
  return out
})
const id = fc.string({ minLength: 1, maxLength: 20 })
const message: fc.Arbitrary<WireMessage> = fc.oneof(
  fc.record({ kind: fc.constant('put' as const), id, put: graph }),
  fc.record({ kind: fc.constant('put' as const), id, ack: id, put: graph }),
  fc.record({ kind: fc.constant('get' as const), id, query: soul.map((s) => ({ soul: s })) }),
  fc.record({ kind: fc.constant('get' as const), id, query: soul.map((s) => ({ soul: s })), key }),
  fc.record({ kind: fc.constant('get' as const), id, query: fc.string({ maxLength: 5 }).map((p) => ({ soulPrefix: p })), key: fc.record({ prefix: fc.string({ maxLength: 3 }) }) }),
  fc.record({ kind: fc.constant('ack' as const), id, ack: id, ok: fc.constant(1) }),
  fc.record({ kind: fc.constant('ack' as const), id, ack: id, err: fc.string({ maxLength: 30 }) }),
  fc.record({ kind: fc.constant('dam' as const), id, dam: fc.constant('?'), pid: fc.string({ minLength: 1, maxLength: 12 }) }),
)

describe('frame codec', () => {
  it('decode(encode(messages)) gives the messages back, single or batched', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 6 }), (messages) => {
        const decoded = decodeFrame(encodeFrame(messages.map(toWireJson)))
        assert.deepEqual(decoded.rejected, [])
        assert.deepEqual(JSON.parse(JSON.stringify(decoded.messages)), JSON.parse(JSON.stringify(messages)))
      }),
      { seed: 5, numRuns: 300 },
    )
  })

  it('any input either decodes or fails with a GraphError — never another exception', () => {
    const junk = fc.oneof(fc.string({ maxLength: 200 }), fc.json({ maxDepth: 5 }), fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)))
    fc.assert(
      fc.property(junk, (raw) => {
        try {
          const decoded = decodeFrame(raw)
          for (const rejected of decoded.rejected) assert.ok(rejected.error instanceof GraphError)
        } catch (error) {
          assert.ok(error instanceof GraphError, String(error))
          assert.ok(['MALFORMED', 'TOO_LARGE'].includes(error.code))
        }
      }),
      { seed: 7, numRuns: 1_000 },
    )
  })

  it('checks the size before parsing (a huge non-JSON frame is TOO_LARGE, not MALFORMED)', () => {
    const limits = { ...DEFAULT_WIRE_LIMITS, maxFrameBytes: 1000 }
    assert.throws(() => decodeFrame('{'.repeat(1001), limits), (error: GraphError) => error.code === 'TOO_LARGE')
    assert.throws(() => decodeFrame(new Uint8Array(1001), limits), (error: GraphError) => error.code === 'TOO_LARGE')
    // multi-byte characters count as bytes
    assert.throws(() => decodeFrame(JSON.stringify({ '#': 'a', dam: '!', err: 'é'.repeat(600) }), limits), (error: GraphError) => error.code === 'TOO_LARGE')
    assert.throws(() => decodeFrame(JSON.stringify(Array.from({ length: 11 }, () => ({ dam: '?' }))), { ...limits, maxMessagesPerFrame: 10 }), (error: GraphError) => error.code === 'TOO_LARGE')
  })

  it('copies puts into clean graphs: extra states and unknown fields are dropped, ids are made for id-less messages', () => {
    const decoded = decodeFrame(JSON.stringify({ put: { a: { _: { '#': 'a', '>': { k: 1, ghost: 2 }, extra: true }, k: 'v' } }, DBG: 1, '><': 'x' }))
    const put = decoded.messages[0]
    assert.equal(put?.kind, 'put')
    assert.ok(put !== undefined && put.id.length > 0)
    assert.deepEqual(put?.kind === 'put' ? put.put : undefined, { a: { _: { '#': 'a', '>': { k: 1 } }, k: 'v' } })
  })

  it('GUN error texts: a rejected put names its id so the peer can answer it', () => {
    const decoded = decodeFrame(JSON.stringify([{ '#': 'p1', put: { x: { _: { '#': 'x', '>': { k: 1 } }, k: [] } } }, { '#': 'g1', get: { '#': 7 } }, { '#': 'ok', dam: '?' }]))
    assert.deepEqual(
      decoded.rejected.map((r) => [r.id, r.kind, r.error.code]),
      [
        ['p1', 'put', 'INVALID_VALUE'],
        ['g1', 'get', 'INVALID_SOUL'],
      ],
    )
    assert.equal(decoded.messages.length, 1)
  })
})

describe('dedup', () => {
  it('remembers ids for the TTL and at most maxEntries, least recently seen evicted first', () => {
    let now = 0
    const dedup = new MessageDedup({ maxEntries: 3, ttlMs: 100, now: () => now })
    assert.equal(dedup.seen('a'), false)
    assert.equal(dedup.seen('a'), true)
    dedup.add('b')
    dedup.add('c')
    assert.equal(dedup.seen('a'), true) // a is now the most recent
    dedup.add('d') // evicts b
    assert.equal(dedup.has('b'), false)
    assert.equal(dedup.has('a'), true)
    now = 150
    assert.equal(dedup.has('a'), false, 'expired')
    assert.equal(dedup.seen('c'), false, 'expired ids are new again')
    assert.ok(dedup.size <= 3)
  })

  it('never holds more than maxEntries (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ maxLength: 3 }), fc.nat(50)), { maxLength: 200 }), (steps) => {
        let now = 0
        const dedup = new MessageDedup({ maxEntries: 10, ttlMs: 30, now: () => now })
        for (const [name, advance] of steps) {
          now += advance
          dedup.seen(name)
          assert.ok(dedup.size <= 10)
        }
      }),
      { seed: 3 },
    )
  })
})

describe('length-prefixed frames', () => {
  it('decodes any split of a stream of frames; oversized frames are reported and skipped', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
        (frames, cuts) => {
          const bytes = Buffer.concat(frames.map((frame) => encodeLengthPrefixed(frame)))
          const decoder = new LengthPrefixedDecoder(200)
          const out: Array<Uint8Array | number> = []
          let at = 0
          let cut = 0
          while (at < bytes.length) {
            const size = cuts[cut++ % cuts.length]!
            for (const chunk of decoder.push(bytes.subarray(at, at + size))) out.push('frame' in chunk ? Buffer.from(chunk.frame) : chunk.tooLarge)
            at += size
          }
          assert.deepEqual(
            out,
            frames.map((frame) => (frame.length > 200 ? frame.length : Buffer.from(frame))),
          )
        },
      ),
      { seed: 11, numRuns: 300 },
    )
  })

  it('a length prefix longer than 8 bytes is MALFORMED', () => {
    const decoder = new LengthPrefixedDecoder(100)
    assert.throws(() => decoder.push(new Uint8Array(9).fill(0xff)), (error: GraphError) => error.code === 'MALFORMED')
  })
})

describe('small rules', () => {
  it("keyMatches follows GUN's lex: = exact, * prefix, > and < inclusive bounds", () => {
    assert.equal(keyMatches('apple', 'apple'), true)
    assert.equal(keyMatches('apple', { prefix: 'ap' }), true)
    assert.equal(keyMatches('apple', { prefix: 'b' }), false)
    assert.equal(keyMatches('b', { start: 'a', end: 'c' }), true)
    assert.equal(keyMatches('c', { start: 'a', end: 'c' }), true)
    assert.equal(keyMatches('d', { start: 'a', end: 'c' }), false)
    assert.equal(keyMatches('x', { equals: 'y' }), false)
  })

  it('nextDown is the largest double below (so state > nextDown(s) includes s)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const below = nextDown(x)
        assert.ok(below < x)
        const middle = below / 2 + x / 2 // no double lies strictly between them
        assert.ok(middle === below || middle === x, `${below} … ${x}`)
      }),
      { seed: 13 },
    )
    assert.equal(nextDown(-Infinity), -Infinity)
  })

  it('backoff grows, is capped and jittered within ±20 %', () => {
    assert.equal(backoffDelay(0, { initialMs: 100 }, () => 0.5), 100)
    assert.equal(backoffDelay(3, { initialMs: 100 }, () => 0.5), 800)
    assert.equal(backoffDelay(30, { initialMs: 100, maxMs: 5_000 }, () => 0.5), 5_000)
    assert.equal(backoffDelay(0, { initialMs: 100 }, () => 0), 80)
    assert.equal(backoffDelay(0, { initialMs: 100 }, () => 1), 120)
  })
})
