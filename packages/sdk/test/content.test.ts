import assert from 'node:assert/strict'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { createContentStore, encodeValue, isSdkError, rawCid, samplePositions, submissionRoot, valueCid } from '../src/index.ts'

let dir: string
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coop-sdk-store-'))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

const sample = { v: 1, cycle: 7, name: 'page', items: [{ i: 0, bytes: new Uint8Array([1, 2, 3]) }], big: 2n ** 60n, ok: true, none: null }

describe('CIDs', () => {
  it('equal what multiformats computes independently', async () => {
    for (const bytes of [new Uint8Array(), new TextEncoder().encode('hello world'), new Uint8Array(100_000).fill(7)]) {
      const expected = CID.create(1, raw.code, await sha256.digest(bytes)).toString()
      assert.equal(rawCid(bytes), expected)
    }
    // The well-known CIDv1 raw of the empty block.
    assert.equal(rawCid(new Uint8Array()), 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku')

    const encoded = dagCbor.encode(sample)
    const digest = await sha256.digest(encoded)
    const expected = CID.create(1, dagCbor.code, digest)
    assert.equal(valueCid(sample), expected.toString())
    const root = submissionRoot(sample)
    assert.equal(root.cid, expected.toString())
    assert.equal(root.digest, `0x${Buffer.from(digest.digest).toString('hex')}`)
    assert.match(root.digest, /^0x[0-9a-f]{64}$/)
  })

  it('are independent of key order (dag-cbor is canonical)', () => {
    assert.equal(submissionRoot({ a: 1, b: 2 }).cid, submissionRoot({ b: 2, a: 1 }).cid)
  })

  it('reject values dag-cbor cannot encode with a typed error', () => {
    for (const value of [undefined, { a: undefined }, () => 1, { f: Symbol('x') }, 2n ** 64n]) {
      assert.throws(() => submissionRoot(value), (e) => isSdkError(e, 'INVALID_VALUE'))
    }
    assert.throws(() => encodeValue(Number.POSITIVE_INFINITY), (e) => isSdkError(e, 'INVALID_VALUE'))
  })

  it('samplePositions is deterministic, distinct and in range', () => {
    const a = samplePositions('0xabc', 8, 64, 'node')
    assert.deepEqual(a, samplePositions('0xabc', 8, 64, 'node'))
    assert.notDeepEqual(a, samplePositions('0xabc', 8, 64, 'other'))
    assert.equal(new Set(a).size, 8)
    assert.ok(a.every((p) => p >= 0 && p < 64))
    assert.deepEqual(samplePositions('s', 10, 3), [0, 1, 2])
    assert.deepEqual(samplePositions('s', 0, 3), [])
  })
})

describe('createContentStore', () => {
  it('puts bytes as raw and values as dag-cbor, and gets them back', async () => {
    const store = createContentStore(join(dir, 'a'))
    const bytes = new TextEncoder().encode('<html>page</html>')
    const cid = await store.put(bytes)
    assert.equal(cid, rawCid(bytes))
    assert.deepEqual(await store.get(cid), bytes)
    const vcid = await store.put(sample)
    assert.equal(vcid, valueCid(sample))
    const back = (await store.get(vcid)) as typeof sample
    assert.deepEqual(back.items[0]?.bytes, sample.items[0]?.bytes)
    assert.equal(back.big, 2n ** 60n)
    assert.equal(await store.has(cid), true)
    assert.equal(await store.get(rawCid(new Uint8Array([42]))), undefined)
    assert.equal(await store.has(rawCid(new Uint8Array([42]))), false)
    // The same CID in another base is the same block.
    assert.deepEqual(await store.get(CID.parse(cid).toString(await import('multiformats/bases/base58').then((m) => m.base58btc))), bytes)
  })

  it('accounts sizes exactly, deduplicates, deletes, and rescans on reopen', async () => {
    const path = join(dir, 'b')
    const store = createContentStore(path)
    const one = new Uint8Array(1000).fill(1)
    const two = new Uint8Array(500).fill(2)
    await Promise.all([store.put(one), store.put(one), store.put(one), store.put(two)])
    assert.deepEqual(await store.stats(), { blocks: 2, bytes: 1500, maxBytes: undefined })
    assert.equal(await store.delete(rawCid(one)), true)
    assert.equal(await store.delete(rawCid(one)), false)
    assert.deepEqual(await store.stats(), { blocks: 1, bytes: 500, maxBytes: undefined })
    const reopened = createContentStore(path)
    assert.deepEqual(await reopened.stats(), { blocks: 1, bytes: 500, maxBytes: undefined })
    assert.deepEqual(await reopened.list(), [rawCid(two)])
    assert.deepEqual(await readdir(join(path, 'tmp')), [], 'no temp files left behind')
  })

  it('detects a corrupted block on read instead of returning wrong data', async () => {
    const path = join(dir, 'c')
    const store = createContentStore(path)
    const cid = await store.put(new TextEncoder().encode('original'))
    const file = join(path, 'blocks', cid.slice(-2), cid)
    assert.equal(await readFile(file, 'utf8'), 'original')
    await writeFile(file, 'tampered')
    await assert.rejects(store.get(cid), (e) => isSdkError(e, 'CORRUPT_BLOCK') && e.details.cid === cid)
    await assert.rejects(store.getBlock(cid), (e) => isSdkError(e, 'CORRUPT_BLOCK'))
    const vcid = await store.put({ x: 1 })
    await writeFile(join(path, 'blocks', vcid.slice(-2), vcid), Buffer.from([0xff]))
    await assert.rejects(store.get(vcid), (e) => isSdkError(e, 'CORRUPT_BLOCK'))
  })

  it('verifies blocks received from elsewhere', async () => {
    const store = createContentStore(join(dir, 'd'))
    const bytes = new Uint8Array([1, 2, 3])
    await store.putBlock(rawCid(bytes), bytes)
    assert.deepEqual(await store.getBlock(rawCid(bytes)), bytes)
    await assert.rejects(store.putBlock(rawCid(bytes), new Uint8Array([1, 2, 4])), (e) => isSdkError(e, 'HASH_MISMATCH'))
    const encoded = encodeValue({ a: 1 })
    await store.putBlock(valueCid({ a: 1 }), encoded)
    assert.deepEqual(await store.get(valueCid({ a: 1 })), { a: 1 })
  })

  it('rejects invalid and unsupported CIDs with typed errors', async () => {
    const store = createContentStore(join(dir, 'e'))
    await assert.rejects(store.get('not-a-cid'), (e) => isSdkError(e, 'INVALID_CID'))
    await assert.rejects(store.get(''), (e) => isSdkError(e, 'INVALID_CID'))
    await assert.rejects(store.get(42 as never), (e) => isSdkError(e, 'INVALID_CID'))
    // CIDv0 (dag-pb) and a dag-json CIDv1 are valid CIDs we do not store.
    await assert.rejects(store.get('QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n'), (e) => isSdkError(e, 'UNSUPPORTED_CID'))
    const dagJson = CID.create(1, 0x0129, await sha256.digest(new Uint8Array([1]))).toString()
    await assert.rejects(store.get(dagJson), (e) => isSdkError(e, 'UNSUPPORTED_CID'))
  })

  it('enforces maxBytes', async () => {
    const store = createContentStore(join(dir, 'f'), { maxBytes: 1000 })
    await store.put(new Uint8Array(600))
    await assert.rejects(store.put(new Uint8Array(600).fill(1)), (e) => isSdkError(e, 'STORE_FULL'))
    await store.put(new Uint8Array(600)) // already stored: no new bytes
    assert.equal((await store.stats()).bytes, 600)
  })
})
