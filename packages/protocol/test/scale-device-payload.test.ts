import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import { ed25519 } from '@noble/curves/ed25519'
import { secp256k1 } from '@noble/curves/secp256k1'
import fc from 'fast-check'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { type Hex, bytesToHex, hexToBytes } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import {
  type DevicePayload,
  type DeviceScheme,
  ProtocolError,
  type ScaleErrorCode,
  type VerifyDevicePayloadOptions,
  buildRoundDag,
  inclusionProof,
  isScaleError,
  signDevicePayload,
  signReceipt,
  verifyDevicePayload,
  verifyInclusion,
  verifyReceipt,
} from '../src/index.ts'

const ED_KEY = hexToBytes(`0x${'11'.repeat(32)}`)
const K1_KEY: Hex = `0x${'22'.repeat(32)}`
const NODE_KEY: Hex = `0x${'33'.repeat(32)}`
const keyOf = (scheme: DeviceScheme): Hex | Uint8Array => (scheme === 'ed25519' ? ED_KEY : K1_KEY)
const fields = { taskId: 'web-archive', round: 7, seq: 3, body: { temp: 21, raw: new Uint8Array([1, 2, 3]) } }
const opts: VerifyDevicePayloadOptions = { maxBytes: 4096, expectedTaskId: 'web-archive', round: { current: 7, accept: [-1, 0] } }

const throwsCode = (fn: () => unknown, code: ScaleErrorCode): void => {
  assert.throws(fn, (e) => e instanceof ProtocolError && isScaleError(e, code), `expected ${code}`)
}

const sha256Sync = (bytes: Uint8Array): Uint8Array => Uint8Array.from(createHash('sha256').update(bytes).digest())

for (const scheme of ['ed25519', 'secp256k1'] as const) {
  test(`${scheme}: sign → verify round-trips; CID is the dag-cbor CID of the wire bytes`, async () => {
    const signed = signDevicePayload(keyOf(scheme), scheme, fields)
    const { payload, cid } = verifyDevicePayload(signed.bytes, opts)
    assert.deepEqual(payload, signed.payload)
    assert.equal(cid, signed.cid)
    assert.equal(cid, CID.createV1(dagCbor.code, await sha256.digest(signed.bytes)).toString())
    assert.equal(payload.scheme, scheme)
    assert.equal(hexToBytes(payload.device).length, scheme === 'ed25519' ? 32 : 33)
    // the signature is over sha256(dag-cbor(payload without sig)), checked with the curve libraries directly
    const { sig, ...unsigned } = payload
    const hash = sha256Sync(dagCbor.encode(unsigned))
    const ok = scheme === 'ed25519' ? ed25519.verify(hexToBytes(sig), hash, hexToBytes(payload.device)) : secp256k1.verify(hexToBytes(sig), hash, hexToBytes(payload.device))
    assert.equal(ok, true)
    // raw-bytes body too
    const rawBody = signDevicePayload(keyOf(scheme), scheme, { ...fields, body: new Uint8Array(100).fill(9) })
    assert.deepEqual(verifyDevicePayload(rawBody.bytes, opts).payload.body, new Uint8Array(100).fill(9))
  })
}

test('TOO_LARGE: checked before decoding, capped by maxBytes', () => {
  const signed = signDevicePayload(ED_KEY, 'ed25519', fields)
  throwsCode(() => verifyDevicePayload(signed.bytes, { ...opts, maxBytes: signed.bytes.length - 1 }), 'TOO_LARGE')
  assert.ok(verifyDevicePayload(signed.bytes, { ...opts, maxBytes: signed.bytes.length }))
  throwsCode(() => verifyDevicePayload(new Uint8Array(5000).fill(0xff), opts), 'TOO_LARGE') // garbage, never decoded
})

test('MALFORMED: not dag-cbor, wrong shape, non-canonical, bad fields', () => {
  const signed = signDevicePayload(ED_KEY, 'ed25519', fields)
  throwsCode(() => verifyDevicePayload(new Uint8Array([0xff, 0x00]), opts), 'MALFORMED')
  throwsCode(() => verifyDevicePayload(dagCbor.encode([1, 2, 3]), opts), 'MALFORMED')
  throwsCode(() => verifyDevicePayload(dagCbor.encode({ ...signed.payload, extra: 1 }), opts), 'MALFORMED')
  const { body: _body, ...noBody } = signed.payload
  throwsCode(() => verifyDevicePayload(dagCbor.encode(noBody), opts), 'MALFORMED')
  throwsCode(() => verifyDevicePayload(dagCbor.encode({ ...signed.payload, v: 2 }), opts), 'MALFORMED')
  throwsCode(() => verifyDevicePayload(dagCbor.encode({ ...signed.payload, scheme: 'rsa' }), opts), 'MALFORMED')
  throwsCode(() => verifyDevicePayload(dagCbor.encode({ ...signed.payload, round: -1 }), opts), 'MALFORMED')
  throwsCode(() => verifyDevicePayload(dagCbor.encode({ ...signed.payload, seq: 1.5 }), opts), 'MALFORMED')
  throwsCode(() => verifyDevicePayload(dagCbor.encode({ ...signed.payload, taskId: 'has space' }), opts), 'MALFORMED')
  throwsCode(() => verifyDevicePayload(dagCbor.encode({ ...signed.payload, device: signed.payload.device.toUpperCase().replace('0X', '0x') }), opts), 'MALFORMED')
  throwsCode(() => verifyDevicePayload(dagCbor.encode({ ...signed.payload, sig: '0x1234' }), opts), 'MALFORMED')
  // a secp256k1 payload with an uncompressed key
  throwsCode(() => verifyDevicePayload(dagCbor.encode({ ...signed.payload, scheme: 'secp256k1' }), opts), 'MALFORMED')
  // non-canonical: the same map with a non-minimal integer encoding of v (0x18 0x01 instead of 0x01)
  const bytes = signed.bytes
  const at = bytes.findIndex((b, i) => b === 0x61 && bytes[i + 1] === 0x76 && bytes[i + 2] === 0x01)
  assert.ok(at > 0)
  const nonCanonical = new Uint8Array([...bytes.slice(0, at + 2), 0x18, 0x01, ...bytes.slice(at + 3)])
  throwsCode(() => verifyDevicePayload(nonCanonical, opts), 'MALFORMED')
  throwsCode(() => verifyDevicePayload('x' as never, opts), 'MALFORMED')
  throwsCode(() => signDevicePayload(ED_KEY, 'ed25519', { ...fields, body: undefined }), 'MALFORMED')
  throwsCode(() => signDevicePayload(new Uint8Array(3), 'ed25519', fields), 'MALFORMED')
})

test('WRONG_TASK and WRONG_ROUND', () => {
  const signed = signDevicePayload(ED_KEY, 'ed25519', fields)
  throwsCode(() => verifyDevicePayload(signed.bytes, { ...opts, expectedTaskId: 'compute' }), 'WRONG_TASK')
  throwsCode(() => verifyDevicePayload(signed.bytes, { ...opts, round: { current: 9, accept: [-1, 0] } }), 'WRONG_ROUND')
  throwsCode(() => verifyDevicePayload(signed.bytes, { ...opts, round: { current: 6, accept: [-1, 0] } }), 'WRONG_ROUND')
  assert.ok(verifyDevicePayload(signed.bytes, { ...opts, round: { current: 8, accept: [-1, 0] } }))
  assert.ok(verifyDevicePayload(signed.bytes, { ...opts, round: { current: 6, accept: [0, 1] } }))
})

test('BAD_SIGNATURE: any changed field, another device key, a flipped signature bit, a high-s secp256k1 signature', () => {
  for (const scheme of ['ed25519', 'secp256k1'] as const) {
    const signed = signDevicePayload(keyOf(scheme), scheme, fields)
    const p = signed.payload
    const other = signDevicePayload(scheme === 'ed25519' ? hexToBytes(`0x${'44'.repeat(32)}`) : `0x${'55'.repeat(32)}`, scheme, fields).payload
    const variants: DevicePayload[] = [
      { ...p, seq: p.seq + 1 },
      { ...p, round: 6 },
      { ...p, body: { temp: 22, raw: new Uint8Array([1, 2, 3]) } },
      { ...p, device: other.device },
      { ...p, sig: other.sig },
      { ...p, sig: `0x${(BigInt(p.sig) ^ 1n).toString(16).padStart(128, '0')}` as Hex },
    ]
    for (const variant of variants) throwsCode(() => verifyDevicePayload(dagCbor.encode(variant), opts), 'BAD_SIGNATURE')
    if (scheme === 'secp256k1') {
      const s = secp256k1.Signature.fromCompact(hexToBytes(p.sig))
      const high = new secp256k1.Signature(s.r, secp256k1.CURVE.n - s.s)
      const { sig: _sig, ...unsigned } = p
      // the high-s twin is mathematically valid; only the low-s rule rejects it
      assert.equal(secp256k1.verify(high, sha256Sync(dagCbor.encode(unsigned)), hexToBytes(p.device), { lowS: false }), true)
      throwsCode(() => verifyDevicePayload(dagCbor.encode({ ...p, sig: bytesToHex(high.toCompactRawBytes()) }), opts), 'BAD_SIGNATURE')
    } else {
      // a device key that is not a curve point
      const bad = { ...p, device: `0x${'ff'.repeat(32)}` as Hex }
      throwsCode(() => verifyDevicePayload(dagCbor.encode(bad), opts), 'BAD_SIGNATURE')
    }
  }
})

test('REPLAY: seq ≤ the last seq accepted from the device', () => {
  const signed = signDevicePayload(ED_KEY, 'ed25519', fields)
  const seen = new Map<Hex, number>()
  const lastSeq = (device: Hex): number | undefined => seen.get(device)
  assert.ok(verifyDevicePayload(signed.bytes, { ...opts, lastSeq }))
  seen.set(signed.payload.device, 3)
  throwsCode(() => verifyDevicePayload(signed.bytes, { ...opts, lastSeq }), 'REPLAY')
  seen.set(signed.payload.device, 5)
  throwsCode(() => verifyDevicePayload(signed.bytes, { ...opts, lastSeq }), 'REPLAY')
  seen.set(signed.payload.device, 2)
  assert.ok(verifyDevicePayload(signed.bytes, { ...opts, lastSeq }))
  // a forged payload is BAD_SIGNATURE, not REPLAY (the signature is checked first)
  seen.set(signed.payload.device, 3)
  throwsCode(() => verifyDevicePayload(dagCbor.encode({ ...signed.payload, seq: 100 }), { ...opts, lastSeq }), 'BAD_SIGNATURE')
})

test('fuzz: garbage bytes and mutated payloads never throw anything but ProtocolError', () => {
  const signed = signDevicePayload(ED_KEY, 'ed25519', fields)
  const onlyProtocolErrors = (bytes: Uint8Array): void => {
    try {
      verifyDevicePayload(bytes, opts)
    } catch (error) {
      assert.ok(error instanceof ProtocolError, `non-ProtocolError: ${String(error)}`)
    }
  }
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), onlyProtocolErrors), { numRuns: 1000 })
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(), (edits, cut) => {
      const bytes = signed.bytes.slice(0, signed.bytes.length - (cut % 4))
      for (const [at, value] of edits) bytes[at % bytes.length] = value
      onlyProtocolErrors(bytes)
    }),
    { numRuns: 1000 },
  )
  const anyValue = fc.oneof(fc.constant(undefined), fc.constant(null), fc.integer(), fc.double(), fc.string(), fc.uint8Array({ maxLength: 40 }), fc.bigInt(), fc.array(fc.nat()))
  fc.assert(
    fc.property(fc.constantFrom('v', 'device', 'scheme', 'taskId', 'round', 'seq', 'body', 'sig'), anyValue, (key, value) => {
      let bytes: Uint8Array
      try {
        bytes = dagCbor.encode({ ...signed.payload, [key]: value })
      } catch {
        return
      }
      onlyProtocolErrors(bytes)
    }),
    { numRuns: 500 },
  )
})

test('receipt: the node signs (payload CID, task, round, position) with EIP-191; verify recovers its address', async () => {
  const signed = signDevicePayload(ED_KEY, 'ed25519', fields)
  const node = privateKeyToAccount(NODE_KEY).address
  const receipt = await signReceipt(NODE_KEY, { payloadCid: signed.cid, taskId: 'web-archive', round: 7, position: 2 })
  assert.equal(receipt.node, node)
  assert.equal(await verifyReceipt(receipt), node)
  // any changed field, or a claimed node that did not sign → BAD_SIGNATURE
  const other = signDevicePayload(ED_KEY, 'ed25519', { ...fields, seq: 4 })
  for (const changed of [{ position: 3 }, { round: 8 }, { taskId: 'compute' }, { payloadCid: other.cid }, { node: privateKeyToAccount(`0x${'66'.repeat(32)}`).address }]) {
    await assert.rejects(verifyReceipt({ ...receipt, ...changed }), (e) => isScaleError(e, 'BAD_SIGNATURE'))
  }
  await assert.rejects(verifyReceipt({ ...receipt, payloadCid: 'nope' }), (e) => isScaleError(e, 'MALFORMED'))
  await assert.rejects(verifyReceipt({ ...receipt, sig: '0x12' }), (e) => isScaleError(e, 'MALFORMED'))
  await assert.rejects(verifyReceipt({ ...receipt, sig: `0x${'00'.repeat(65)}` }), (e) => isScaleError(e, 'BAD_SIGNATURE'))
  await assert.rejects(signReceipt(NODE_KEY, { payloadCid: signed.cid, taskId: 'x\ny', round: 7, position: 0 }), (e) => isScaleError(e, 'MALFORMED'))
})

test('end to end: payloads as leaves of the node round DAG; the device checks its receipt and inclusion', async () => {
  const payloads = [0, 1, 2, 3, 4].map((seq) => signDevicePayload(seq % 2 ? K1_KEY : ED_KEY, seq % 2 ? 'secp256k1' : 'ed25519', { ...fields, seq }))
  const accepted = payloads.map((p) => verifyDevicePayload(p.bytes, opts))
  const dag = buildRoundDag(accepted.map((a) => a.payload))
  const receipts = await Promise.all(accepted.map((a, position) => signReceipt(NODE_KEY, { payloadCid: a.cid, taskId: 'web-archive', round: 7, position })))
  for (const [i, receipt] of receipts.entries()) {
    await verifyReceipt(receipt)
    assert.equal(dag.leafCids[receipt.position], receipt.payloadCid) // the payload is a dag-cbor leaf: same CID
    assert.equal(verifyInclusion(dag.digest, receipt.position, payloads[i]?.bytes as Uint8Array, inclusionProof(dag, receipt.position)), true)
  }
})
