import assert from 'node:assert/strict'
import { test } from 'node:test'

import * as dagCbor from '@ipld/dag-cbor'
import fc from 'fast-check'
import { bytesToHex, hexToBytes } from 'viem'

import {
  DEFAULT_MAX_CLOCK_SKEW_MS,
  P2pError,
  isP2pError,
  signEnvelope,
  verifyEnvelope,
  type P2pErrorCode,
} from '../src/index.ts'
import { accountOf, forgeEnvelope, newKey, validUnsigned } from './helpers.ts'

const alice = accountOf(newKey())
const bob = accountOf(newKey())

function rejectsWith(code: P2pErrorCode) {
  return (error: unknown) => {
    assert.ok(isP2pError(error), `expected P2pError, got ${String(error)}`)
    assert.equal(error.code, code, error.message)
    return true
  }
}

test('sign → verify round trip keeps type, sender, time and body (bigint, bytes, nesting)', async () => {
  const body = { round: 3, stake: 2n ** 63n + 5n, root: new Uint8Array([1, 2, 3]), list: ['a', { b: null }], ok: true }
  const sentAt = 1_700_000_000_000
  const bytes = await signEnvelope(alice, { type: '/coop/submission/1.0.0', body, sentAt })
  const verified = await verifyEnvelope(bytes, { now: sentAt + 1_000 })
  assert.equal(verified.type, '/coop/submission/1.0.0')
  assert.equal(verified.from, alice.address)
  assert.equal(verified.sentAt, sentAt)
  assert.deepEqual(verified.body, body)
  assert.deepEqual(verified.signed, bytes)
  // a private key works as signer too, and `undefined` travels as null
  const fromKey = await verifyEnvelope(await signEnvelope(newKey(), { type: 't', body: undefined }))
  assert.equal(fromKey.body, null)
  // the signed bytes verify again later, e.g. as audit evidence, with the clock check disabled
  const later = await verifyEnvelope(verified.signed, { now: sentAt + 365 * 24 * 3600_000, maxClockSkewMs: Infinity })
  assert.equal(later.from, alice.address)
})

test('tampered body → BAD_SIGNATURE', async () => {
  const bytes = await signEnvelope(alice, { type: 't', body: { amount: 1 } })
  const { unsigned, sig } = dagCbor.decode(bytes) as { unsigned: Uint8Array; sig: Uint8Array }
  const content = dagCbor.decode(unsigned) as Record<string, unknown>
  const tampered = dagCbor.encode({ unsigned: dagCbor.encode({ ...content, body: { amount: 1000 } }), sig })
  await assert.rejects(verifyEnvelope(tampered), rejectsWith('BAD_SIGNATURE'))
})

test('wrong `from` (signed by someone else) → BAD_SIGNATURE', async () => {
  const forged = await forgeEnvelope(alice, validUnsigned(alice, { from: hexToBytes(bob.address) }))
  await assert.rejects(verifyEnvelope(forged), (error: unknown) => {
    rejectsWith('BAD_SIGNATURE')(error)
    assert.equal((error as P2pError).details.signer, alice.address)
    return true
  })
  // a signature over other bytes, or a non-recoverable one, is BAD_SIGNATURE too
  const good = dagCbor.decode(await signEnvelope(alice, { type: 't', body: 1 })) as { unsigned: Uint8Array; sig: Uint8Array }
  const zeroSig = new Uint8Array(65)
  zeroSig[64] = 27
  await assert.rejects(verifyEnvelope(dagCbor.encode({ unsigned: good.unsigned, sig: zeroSig })), rejectsWith('BAD_SIGNATURE'))
})

test('non-canonical signatures (v not 27/28, high s) → BAD_SIGNATURE', async () => {
  const { unsigned, sig } = dagCbor.decode(await signEnvelope(alice, { type: 't', body: 1 })) as { unsigned: Uint8Array; sig: Uint8Array }
  const v0 = sig.slice()
  v0[64] = v0[64]! - 27
  await assert.rejects(verifyEnvelope(dagCbor.encode({ unsigned, sig: v0 })), rejectsWith('BAD_SIGNATURE'))
  // (r, n − s, flipped v) is the malleated twin of a valid signature: same signer, refused
  const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
  const s = BigInt(bytesToHex(sig.subarray(32, 64)))
  const high = sig.slice()
  high.set(hexToBytes(`0x${(n - s).toString(16).padStart(64, '0')}`), 32)
  high[64] = sig[64] === 27 ? 28 : 27
  await assert.rejects(verifyEnvelope(dagCbor.encode({ unsigned, sig: high })), rejectsWith('BAD_SIGNATURE'))
})

test('oversize → MESSAGE_TOO_LARGE before any decoding', async () => {
  // garbage that would be MALFORMED if it were decoded: the size check must come first
  const garbage = new Uint8Array(1025).fill(0xff)
  await assert.rejects(verifyEnvelope(garbage, { maxBytes: 1024 }), rejectsWith('MESSAGE_TOO_LARGE'))
  const big = await signEnvelope(alice, { type: 't', body: new Uint8Array(5000) })
  await assert.rejects(verifyEnvelope(big, { maxBytes: 4096 }), rejectsWith('MESSAGE_TOO_LARGE'))
  await verifyEnvelope(big, { maxBytes: big.byteLength })
  // the sender refuses to produce one
  await assert.rejects(signEnvelope(alice, { type: 't', body: new Uint8Array(5000), maxBytes: 4096 }), rejectsWith('MESSAGE_TOO_LARGE'))
})

test('garbage, truncated input and wrong types → MALFORMED', async () => {
  const good = await signEnvelope(alice, { type: 't', body: { x: 1 } })
  const cases: Array<[string, Uint8Array | Promise<Uint8Array>]> = [
    ['empty', new Uint8Array(0)],
    ['garbage', Uint8Array.from([0xde, 0xad, 0xbe, 0xef])],
    ['truncated', good.subarray(0, good.byteLength - 3)],
    ['trailing bytes', Uint8Array.from([...good, 0])],
    ['outer is an array', dagCbor.encode([1, 2])],
    ['outer has an extra key', dagCbor.encode({ ...(dagCbor.decode(good) as object), extra: 1 })],
    ['sig too short', dagCbor.encode({ unsigned: dagCbor.encode(validUnsigned(alice)), sig: new Uint8Array(64) })],
    ['unsigned is not bytes', dagCbor.encode({ unsigned: 'x', sig: new Uint8Array(65) })],
    ['unsigned is not cbor', dagCbor.encode({ unsigned: Uint8Array.from([0xff]), sig: new Uint8Array(65) })],
    ['deep nesting', dagCbor.encode({ unsigned: new Uint8Array(100_000).fill(0x81), sig: new Uint8Array(65) })],
    ['v = 2', forgeEnvelope(alice, validUnsigned(alice, { v: 2 }))],
    ['type is a number', forgeEnvelope(alice, validUnsigned(alice, { type: 5 }))],
    ['type is empty', forgeEnvelope(alice, validUnsigned(alice, { type: '' }))],
    ['type is too long', forgeEnvelope(alice, validUnsigned(alice, { type: 'x'.repeat(257) }))],
    ['from is 19 bytes', forgeEnvelope(alice, validUnsigned(alice, { from: new Uint8Array(19) }))],
    ['from is a hex string', forgeEnvelope(alice, validUnsigned(alice, { from: alice.address }))],
    ['sentAt is a string', forgeEnvelope(alice, validUnsigned(alice, { sentAt: '1' }))],
    ['sentAt is a float', forgeEnvelope(alice, validUnsigned(alice, { sentAt: 1.5 }))],
    ['sentAt is negative', forgeEnvelope(alice, validUnsigned(alice, { sentAt: -1 }))],
    ['sentAt is a bigint', forgeEnvelope(alice, validUnsigned(alice, { sentAt: 2n ** 60n }))],
    ['nonce is 15 bytes', forgeEnvelope(alice, validUnsigned(alice, { nonce: new Uint8Array(15) }))],
    ['extra field', forgeEnvelope(alice, { ...validUnsigned(alice), extra: 1 })],
    ['missing body', forgeEnvelope(alice, (({ body: _, ...rest }) => rest)(validUnsigned(alice)))],
  ]
  for (const [name, input] of cases) {
    await assert.rejects(verifyEnvelope(await input), rejectsWith('MALFORMED'), name)
  }
})

test('envelope type must match the context it arrives in', async () => {
  const bytes = await signEnvelope(alice, { type: 'coop/task/1/rounds', body: 1 })
  await assert.rejects(verifyEnvelope(bytes, { type: '/coop/submission/1.0.0' }), rejectsWith('MALFORMED'))
  assert.equal((await verifyEnvelope(bytes, { type: 'coop/task/1/rounds' })).type, 'coop/task/1/rounds')
})

test('stale or future beyond the clock skew → STALE', async () => {
  const sentAt = 1_700_000_000_000
  const bytes = await signEnvelope(alice, { type: 't', body: 1, sentAt })
  await verifyEnvelope(bytes, { now: sentAt + DEFAULT_MAX_CLOCK_SKEW_MS })
  await assert.rejects(verifyEnvelope(bytes, { now: sentAt + DEFAULT_MAX_CLOCK_SKEW_MS + 1 }), rejectsWith('STALE'))
  await assert.rejects(verifyEnvelope(bytes, { now: sentAt - 1001, maxClockSkewMs: 1000 }), rejectsWith('STALE'))
})

test('signEnvelope refuses what verifyEnvelope would refuse', async () => {
  await assert.rejects(signEnvelope(alice, { type: '', body: 1 }), rejectsWith('MALFORMED'))
  await assert.rejects(signEnvelope(alice, { type: 't', body: { f: undefined } }), rejectsWith('MALFORMED'))
  await assert.rejects(signEnvelope(alice, { type: 't', body: Number.NaN }), rejectsWith('MALFORMED'))
  await assert.rejects(signEnvelope(alice, { type: 't', body: 1, nonce: new Uint8Array(3) }), rejectsWith('MALFORMED'))
  await assert.rejects(signEnvelope(alice, { type: 't', body: 1, sentAt: 1.5 }), rejectsWith('MALFORMED'))
})

test('property: random bytes only ever fail with P2pError', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), async (bytes) => {
      try {
        await verifyEnvelope(bytes, { maxBytes: 400 })
      } catch (error) {
        return isP2pError(error)
      }
      return false // random bytes are never a valid signed envelope
    }),
    { numRuns: 500 },
  )
})

test('property: random envelope-shaped values only ever fail with P2pError', async () => {
  const field = fc.oneof(
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 8 }),
    fc.uint8Array({ maxLength: 70 }),
    fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }),
    fc.boolean(),
    fc.constant(null),
  )
  const unsigned = fc.record(
    { v: fc.oneof(fc.constant(1), field), type: field, from: fc.oneof(fc.uint8Array({ minLength: 20, maxLength: 20 }), field), sentAt: field, nonce: field, body: field },
    { requiredKeys: [] },
  )
  await fc.assert(
    fc.asyncProperty(unsigned, fc.uint8Array({ minLength: 0, maxLength: 66 }), async (content, sig) => {
      const bytes = dagCbor.encode({ unsigned: dagCbor.encode(content), sig })
      try {
        await verifyEnvelope(bytes)
      } catch (error) {
        return isP2pError(error) && ['MALFORMED', 'BAD_SIGNATURE'].includes(error.code)
      }
      return false
    }),
    { numRuns: 300 },
  )
})

test('property: a well-formed envelope with a random signature is BAD_SIGNATURE', async () => {
  const unsigned = dagCbor.encode(validUnsigned(alice))
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 65, maxLength: 65 }), fc.constantFrom(27, 28), async (sig, v) => {
      sig[64] = v
      try {
        await verifyEnvelope(dagCbor.encode({ unsigned, sig }))
      } catch (error) {
        return isP2pError(error, 'BAD_SIGNATURE')
      }
      return false
    }),
    { numRuns: 200 },
  )
})
