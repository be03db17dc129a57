import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import fc from 'fast-check'
import { base32 } from 'multiformats/bases/base32'
import { CID } from 'multiformats/cid'
import { sha256 as mfSha256 } from 'multiformats/hashes/sha2'
import * as raw from 'multiformats/codecs/raw'
import { bytesToHex } from 'viem'
import { type RoundDag, ProtocolError, buildRoundDag, inclusionProof, isScaleError, verifyInclusion } from '../src/index.ts'

const leafBytes = (i: number): Uint8Array => new TextEncoder().encode(`page-${i}`)
const mixedLeaves = (n: number): unknown[] =>
  Array.from({ length: n }, (_, i) => (i % 3 === 0 ? leafBytes(i) : { url: `https://example.test/${i}`, i, tags: ['a', i] }))

/** Independent CID computation with multiformats' own (async, WebCrypto) sha256. */
async function mfCid(code: number, bytes: Uint8Array): Promise<CID> {
  return CID.createV1(code, await mfSha256.digest(bytes))
}

/** Raw-leaf CID by hand: multihash 0x12 0x20 ‖ sha256, CID = 0x01 ‖ 0x55 ‖ multihash, base32 lowercase 'b…'. */
function rawCidByHand(bytes: Uint8Array): string {
  const digest = createHash('sha256').update(bytes).digest()
  const cidBytes = Uint8Array.from([0x01, 0x55, 0x12, 0x20, ...digest])
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567'
  let bits = 0
  let value = 0
  let out = 'b'
  for (const byte of cidBytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
    value &= (1 << bits) - 1
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31]
  return out
}

test('raw leaf CIDs equal a by-hand sha256 → multihash → CIDv1 raw → base32 computation', () => {
  const leaves = [new Uint8Array(), leafBytes(1), new Uint8Array(1000).fill(7)]
  const dag = buildRoundDag(leaves)
  leaves.forEach((bytes, i) => {
    assert.equal(dag.leafCids[i], rawCidByHand(bytes))
    assert.ok(dag.leafCids[i]?.startsWith('bafkrei'))
    assert.deepEqual(dag.blocks.get(dag.leafCids[i] as string), bytes)
  })
  assert.equal(base32.encode(CID.parse(dag.leafCids[1] as string).bytes), dag.leafCids[1])
})

test('every block CID equals what multiformats + @ipld/dag-cbor compute independently', async () => {
  for (const size of [1, 2, 3, 7, 64]) {
    const leaves = mixedLeaves(size)
    const dag = buildRoundDag(leaves)
    assert.equal(dag.size, size)
    for (const [i, leaf] of leaves.entries()) {
      const expected = leaf instanceof Uint8Array ? await mfCid(raw.code, raw.encode(leaf)) : await mfCid(dagCbor.code, dagCbor.encode(leaf))
      assert.equal(dag.leafCids[i], expected.toString())
    }
    for (const [cid, bytes] of dag.blocks) assert.equal(cid, (await mfCid(CID.parse(cid).code, bytes)).toString())
    // Rebuild the tree from the spec (RFC 6962 split, { l, r, n }) with multiformats alone.
    const rebuild = async (lo: number, hi: number): Promise<CID> => {
      if (hi - lo === 1) return CID.parse(dag.leafCids[lo] as string)
      let k = 1
      while (k * 2 < hi - lo) k *= 2
      const node = { l: await rebuild(lo, lo + k), r: await rebuild(lo + k, hi), n: hi - lo }
      return mfCid(dagCbor.code, dagCbor.encode(node))
    }
    const root = await rebuild(0, size)
    assert.equal(dag.root, root.toString())
    assert.equal(dag.digest, bytesToHex(root.multihash.digest))
    if (size > 1) assert.equal(CID.parse(dag.root).code, dagCbor.code)
  }
})

test('a one-leaf DAG: the root is the leaf, the proof is empty', () => {
  const dag = buildRoundDag([{ a: 1 }])
  assert.equal(dag.root, dag.leafCids[0])
  const proof = inclusionProof(dag, 0)
  assert.deepEqual(proof.path, [])
  assert.equal(verifyInclusion(dag.root, 0, dag.leafCids[0] as string, proof), true)
  assert.equal(verifyInclusion(dag.digest, 0, dagCbor.encode({ a: 1 }), proof), true)
  assert.equal(verifyInclusion(dag.root, 0, dagCbor.encode({ a: 2 }), proof), false)
})

function checkAll(dag: RoundDag, leaves: unknown[]): void {
  for (let i = 0; i < dag.size; i++) {
    const proof = inclusionProof(dag, i)
    assert.equal(proof.leafCid, dag.leafCids[i])
    const item = leaves[i]
    const bytes = item instanceof Uint8Array ? item : dagCbor.encode(item)
    assert.equal(verifyInclusion(dag.root, i, proof.leafCid, proof), true, `size ${dag.size} index ${i}`)
    assert.equal(verifyInclusion(dag.digest, i, bytes, proof), true)
    const j = (i + 1) % dag.size
    if (dag.leafCids[j] !== dag.leafCids[i]) assert.equal(verifyInclusion(dag.root, j, proof.leafCid, proof), false)
  }
}

test('proofs verify for every index for sizes 1, 2, 3, 7, 64, 1000', () => {
  for (const size of [1, 2, 3, 7, 64, 1000]) {
    const leaves = mixedLeaves(size)
    checkAll(buildRoundDag(leaves), leaves)
  }
})

test('duplicate leaves: a proof places its leaf only where its path leads', () => {
  const leaves = [leafBytes(0), leafBytes(0), leafBytes(0), leafBytes(1), leafBytes(0)]
  const dag = buildRoundDag(leaves)
  checkAll(dag, leaves)
  // leaves 0 and 1 are identical siblings, so their proofs are the same blocks: both positions are true.
  assert.equal(verifyInclusion(dag.root, 1, dag.leafCids[0] as string, inclusionProof(dag, 0)), true)
  // leaf 4 is the same bytes as leaf 0 but sits elsewhere: index 0's proof does not place it at 4, nor 4's at 0.
  assert.equal(verifyInclusion(dag.root, 4, dag.leafCids[0] as string, inclusionProof(dag, 0)), false)
  assert.equal(verifyInclusion(dag.root, 0, dag.leafCids[4] as string, inclusionProof(dag, 4)), false)
  for (const j of [0, 1, 2, 4]) assert.equal(verifyInclusion(dag.root, j, dag.leafCids[3] as string, inclusionProof(dag, 3)), false)
})

test('tampered leaf, path, index or root: false or a typed error', () => {
  const leaves = mixedLeaves(7)
  const dag = buildRoundDag(leaves)
  const other = buildRoundDag(mixedLeaves(8))
  const proof = inclusionProof(dag, 4)
  const leaf = dagCbor.encode(leaves[4])
  assert.equal(verifyInclusion(dag.root, 4, leaf, proof), true)
  // leaf
  assert.equal(verifyInclusion(dag.root, 4, dagCbor.encode({ forged: true }), proof), false)
  assert.equal(verifyInclusion(dag.root, 4, dag.leafCids[5] as string, proof), false)
  // index
  for (const index of [0, 3, 5, 6, 7, 100]) assert.equal(verifyInclusion(dag.root, index, leaf, proof), false)
  for (const index of [-1, 1.5, Number.NaN, 2 ** 40]) {
    assert.throws(() => verifyInclusion(dag.root, index, leaf, proof), (e) => isScaleError(e, 'INDEX_OUT_OF_RANGE'))
  }
  // root
  assert.equal(verifyInclusion(other.root, 4, leaf, proof), false)
  assert.equal(verifyInclusion(other.digest, 4, leaf, proof), false)
  assert.throws(() => verifyInclusion('not-a-cid', 4, leaf, proof), (e) => isScaleError(e, 'MALFORMED'))
  assert.throws(() => verifyInclusion('0x1234', 4, leaf, proof), (e) => isScaleError(e, 'MALFORMED'))
  // path: dropped, reordered, swapped for another tree's blocks, flipped bits
  assert.equal(verifyInclusion(dag.root, 4, leaf, { ...proof, path: proof.path.slice(1) }), false)
  assert.equal(verifyInclusion(dag.root, 4, leaf, { ...proof, path: proof.path.slice(0, -1) }), false)
  assert.equal(verifyInclusion(dag.root, 4, leaf, { ...proof, path: [...proof.path].reverse() }), false)
  assert.equal(verifyInclusion(dag.root, 4, leaf, { ...proof, path: [...proof.path, ...proof.path] }), false)
  assert.equal(verifyInclusion(dag.root, 4, leaf, inclusionProof(other, 4)), false)
  for (let step = 0; step < proof.path.length; step++) {
    const block = proof.path[step]?.block as Uint8Array
    for (let byte = 0; byte < block.length; byte++) {
      const tampered = block.slice()
      tampered[byte] = (tampered[byte] as number) ^ 0x01
      const path = proof.path.map((p, j) => (j === step ? { block: tampered } : p))
      try {
        assert.equal(verifyInclusion(dag.root, 4, leaf, { ...proof, path }), false)
      } catch (error) {
        assert.ok(isScaleError(error, 'MALFORMED'), String(error))
      }
    }
  }
  // shapes that are not proofs
  assert.throws(() => verifyInclusion(dag.root, 4, leaf, { leafCid: '', path: [{ block: new Uint8Array(200) }] }), (e) => isScaleError(e, 'TOO_LARGE'))
  assert.throws(() => verifyInclusion(dag.root, 4, leaf, { leafCid: '', path: Array(21).fill(proof.path[0]) }), (e) => isScaleError(e, 'TOO_LARGE'))
  assert.throws(() => verifyInclusion(dag.root, 4, leaf, { leafCid: '', path: [{ block: dagCbor.encode({ l: 1, r: 2, n: 2 }) }] }), (e) => isScaleError(e, 'MALFORMED'))
  assert.throws(() => verifyInclusion(dag.root, 4, leaf, { leafCid: '', path: [null as never] }), (e) => isScaleError(e, 'MALFORMED'))
  assert.throws(() => verifyInclusion(dag.root, 4, leaf, null as never), (e) => isScaleError(e, 'MALFORMED'))
  assert.throws(() => verifyInclusion(dag.root, 4, 42 as never, proof), (e) => isScaleError(e, 'MALFORMED'))
})

test('a subtree cannot pass as a leaf', () => {
  const dag = buildRoundDag(mixedLeaves(4))
  const rootNode = dagCbor.decode(dag.blocks.get(dag.root) as Uint8Array) as { l: CID }
  const leftSubtree = rootNode.l.toString()
  const rootBlock = dag.blocks.get(dag.root) as Uint8Array
  for (const index of [0, 1, 2, 3]) assert.equal(verifyInclusion(dag.root, index, leftSubtree, { leafCid: leftSubtree, path: [{ block: rootBlock }] }), false)
})

test('bounds and typed errors of buildRoundDag / inclusionProof', () => {
  assert.throws(() => buildRoundDag([]), (e) => isScaleError(e, 'EMPTY_DAG'))
  assert.throws(() => buildRoundDag([{ f: undefined }]), (e) => isScaleError(e, 'MALFORMED'))
  assert.throws(() => buildRoundDag([new Uint8Array((1 << 20) + 1)]), (e) => isScaleError(e, 'TOO_LARGE'))
  const dag = buildRoundDag(mixedLeaves(3))
  for (const index of [-1, 3, 0.5]) assert.throws(() => inclusionProof(dag, index), (e) => isScaleError(e, 'INDEX_OUT_OF_RANGE') && e instanceof ProtocolError)
})

test('property: random leaves, random index → verifies; any other index → false', () => {
  const leafArb = fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.record({ s: fc.string(), n: fc.integer() }), fc.string())
  fc.assert(
    fc.property(fc.array(leafArb, { minLength: 1, maxLength: 80 }), fc.nat(), fc.nat(), (leaves, a, b) => {
      const dag = buildRoundDag(leaves)
      const index = a % leaves.length
      const proof = inclusionProof(dag, index)
      const bytes = leaves[index] instanceof Uint8Array ? (leaves[index] as Uint8Array) : dagCbor.encode(leaves[index])
      assert.equal(verifyInclusion(dag.root, index, bytes, proof), true)
      assert.equal(verifyInclusion(dag.digest, index, proof.leafCid, proof), true)
      const wrong = b % (leaves.length + 2)
      if (wrong >= leaves.length || dag.leafCids[wrong] !== dag.leafCids[index]) assert.equal(verifyInclusion(dag.root, wrong, bytes, proof), false)
    }),
    { numRuns: 200 },
  )
})

test('src/scale/ has no IO, clocks or randomness (the top-level purity scan does not recurse)', () => {
  const dir = join(import.meta.dirname, '..', 'src', 'scale')
  const files = readdirSync(dir).filter((name) => name.endsWith('.ts'))
  assert.ok(files.length >= 3)
  const forbidden = [/from ['"]node:/, /\brequire\(/, /\bprocess\./, /\bMath\.random\b/, /\bDate\b/, /\bperformance\./, /\bcrypto\./, /\bfetch\(/, /\bconsole\./, /\bsetTimeout\b|\bsetInterval\b/, /getRandomValues|randomBytes|randomPrivateKey|randomSecretKey/]
  for (const name of files) {
    const source = readFileSync(join(dir, name), 'utf8')
    for (const pattern of forbidden) assert.doesNotMatch(source, pattern, `${name} matches ${pattern}`)
  }
})
