import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import fc from 'fast-check'
import { CID } from 'multiformats/cid'
import { sha256 as mfSha256 } from 'multiformats/hashes/sha2'
import { type Address, type Hex, bytesToHex, getAddress, hexToBytes } from 'viem'
import {
  type ChainCycleFacts,
  type EncodedScaleHead,
  type HeadCheckCode,
  MAX_SCALE_HEAD_BYTES,
  buildScaleHead,
  decodeScaleHead,
  expectedPrev,
  headSubmissionRoot,
  isScaleError,
  scaleHeadCidFromDigest,
  verifyHeadChain,
} from '../src/index.ts'
import { address, bytes32 } from './arbitraries.ts'

const TASK = 7n
const ZERO32 = `0x${'00'.repeat(32)}` as Hex
const hex32 = (byte: number): Hex => `0x${byte.toString(16).padStart(2, '0').repeat(32)}` as Hex
const addr = (byte: number): Address => getAddress(`0x${byte.toString(16).padStart(2, '0').repeat(20)}`)

interface CycleSpec {
  cycle: number
  final: boolean
  submissions: { node: Address; root: Hex; convicted: boolean }[]
  merkleRoot: Hex
  listCid: Hex
}

/** Builds the honest head history of `specs` the way a node does, and the chain's view of it. */
function history(specs: CycleSpec[]): { heads: EncodedScaleHead[]; chain: ChainCycleFacts[] } {
  const heads: EncodedScaleHead[] = []
  const chain: ChainCycleFacts[] = []
  let prev: string | null = null
  for (const spec of specs) {
    const accepted = spec.submissions.filter((s) => !s.convicted).map(({ node, root }) => ({ node, root }))
    if (!spec.final) {
      chain.push({ cycle: spec.cycle, final: false, scaleHead: ZERO32, submissions: accepted, merkleRoot: ZERO32, listCid: ZERO32 })
      continue
    }
    const head = buildScaleHead({ task: TASK, cycle: spec.cycle, prev, submissions: accepted, distribution: { merkleRoot: spec.merkleRoot, listCid: spec.listCid } })
    heads.push(head)
    prev = head.cid
    chain.push({
      cycle: spec.cycle,
      final: true,
      scaleHead: head.digest,
      submissions: accepted,
      merkleRoot: spec.merkleRoot,
      listCid: spec.listCid,
      // Round length 100 s: the list opens at roundStart(c + 2) and is final 50 s later.
      distributionOpensAt: BigInt(spec.cycle + 2) * 100n,
      finalizedTime: BigInt(spec.cycle + 2) * 100n + 50n,
    })
  }
  return { heads, chain }
}

const cycleSpec = (cycle: number): fc.Arbitrary<CycleSpec> =>
  fc.record({
    cycle: fc.constant(cycle),
    final: fc.boolean().map((b) => b || cycle === 0),
    submissions: fc.uniqueArray(fc.record({ node: address, root: bytes32, convicted: fc.integer({ min: 0, max: 4 }).map((n) => n === 0) }), {
      minLength: 1,
      maxLength: 6,
      selector: (s) => s.node,
    }),
    merkleRoot: bytes32,
    listCid: bytes32,
  })

/** 2–8 cycles, each final or not (cycle 0 always final), at least two final. */
const specsArb = fc
  .integer({ min: 2, max: 8 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => cycleSpec(i))))
  .filter((specs) => specs.filter((s) => s.final).length >= 2)

const codes = (report: ReturnType<typeof verifyHeadChain>): Set<HeadCheckCode> => new Set(report.cycles.flatMap((c) => c.failures.map((f) => f.code)))
const verify = (heads: Uint8Array[], chain: ChainCycleFacts[]) => verifyHeadChain(heads, chain, { task: TASK })

test('the head CID equals what multiformats computes independently; the digest is its multihash digest', async () => {
  const head = buildScaleHead({ task: '7', cycle: 3, prev: null, submissions: [{ node: addr(2), root: hex32(0xab) }], distribution: { merkleRoot: hex32(1), listCid: hex32(2) } })
  const expected = CID.createV1(dagCbor.code, await mfSha256.digest(head.bytes))
  assert.equal(head.cid, expected.toString())
  assert.equal(head.digest, bytesToHex(expected.multihash.digest))
  assert.equal(scaleHeadCidFromDigest(head.digest), head.cid)
  assert.deepEqual(dagCbor.decode(head.bytes), {
    v: 1,
    task: '7',
    cycle: 3,
    prev: null,
    submissions: [{ node: hexToBytes(addr(2)), root: hexToBytes(hex32(0xab)) }],
    distribution: { merkleRoot: hexToBytes(hex32(1)), listCid: hexToBytes(hex32(2)) },
  })
})

test('submissions are sorted by node whatever the input order; prev may be a CID or a digest', () => {
  const subs = [
    { node: addr(0x33), root: hex32(3) },
    { node: addr(0x11), root: hex32(1) },
    { node: addr(0x22), root: hex32(2) },
  ]
  const a = buildScaleHead({ task: 1n, cycle: 1, prev: null, submissions: subs, distribution: { merkleRoot: hex32(9), listCid: hex32(8) } })
  const b = buildScaleHead({ task: 1n, cycle: 1, prev: null, submissions: [...subs].reverse(), distribution: { merkleRoot: hex32(9), listCid: hex32(8) } })
  assert.equal(a.cid, b.cid)
  assert.deepEqual(a.head.submissions.map((s) => s.node), [addr(0x11), addr(0x22), addr(0x33)])
  assert.equal(headSubmissionRoot(a.head, addr(0x22).toLowerCase()), hex32(2))
  assert.equal(headSubmissionRoot(a.head, addr(0x44)), undefined)
  const byCid = buildScaleHead({ task: 1n, cycle: 2, prev: a.cid, submissions: subs, distribution: { merkleRoot: hex32(9), listCid: hex32(8) } })
  const byDigest = buildScaleHead({ task: 1n, cycle: 2, prev: a.digest, submissions: subs, distribution: { merkleRoot: hex32(9), listCid: hex32(8) } })
  assert.equal(byCid.cid, byDigest.cid)
  assert.equal(byCid.head.prev, a.cid)
})

test('buildScaleHead refuses bad fields with typed errors', () => {
  const ok = { task: 1n, cycle: 1, prev: null, submissions: [{ node: addr(1), root: hex32(1) }], distribution: { merkleRoot: hex32(1), listCid: hex32(2) } }
  const bad: Array<[string, Record<string, unknown>]> = [
    ['duplicate node', { submissions: [{ node: addr(1), root: hex32(1) }, { node: addr(1).toLowerCase(), root: hex32(2) }] }],
    ['short root', { submissions: [{ node: addr(1), root: '0x1234' }] }],
    ['bad node', { submissions: [{ node: '0x12', root: hex32(1) }] }],
    ['negative cycle', { cycle: -1 }],
    ['fractional cycle', { cycle: 1.5 }],
    ['task too big', { task: 1n << 256n }],
    ['task not decimal', { task: '0x10' }],
    ['prev raw CID', { prev: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy' }],
    ['prev junk', { prev: 'not a cid' }],
    ['merkleRoot', { distribution: { merkleRoot: 'x', listCid: hex32(2) } }],
    ['distribution missing', { distribution: null }],
  ]
  for (const [what, patch] of bad) {
    assert.throws(() => buildScaleHead({ ...ok, ...patch } as never), (error: unknown) => isScaleError(error, 'MALFORMED'), what)
  }
  const many = Array.from({ length: 10_001 }, (_, i) => ({ node: getAddress(`0x${i.toString(16).padStart(40, '0')}`), root: hex32(1) }))
  assert.throws(() => buildScaleHead({ ...ok, submissions: many }), (error: unknown) => isScaleError(error, 'TOO_LARGE'))
})

test('decodeScaleHead: size before decoding, exact shape, sorted submitters, canonical bytes', () => {
  const head = buildScaleHead({ task: 1n, cycle: 4, prev: null, submissions: [{ node: addr(1), root: hex32(1) }, { node: addr(2), root: hex32(2) }], distribution: { merkleRoot: hex32(1), listCid: hex32(2) } })
  assert.equal(decodeScaleHead(head.bytes).cid, head.cid)
  const wire = dagCbor.decode(head.bytes) as Record<string, unknown>
  const malformed: Array<[string, unknown]> = [
    ['extra field', { ...wire, extra: 1 }],
    ['missing field', { ...wire, prev: undefined }],
    ['version 2', { ...wire, v: 2 }],
    ['unsorted', { ...wire, submissions: [...(wire.submissions as unknown[])].reverse() }],
    ['duplicate', { ...wire, submissions: [(wire.submissions as unknown[])[0], (wire.submissions as unknown[])[0]] }],
    ['short node', { ...wire, submissions: [{ node: new Uint8Array(19), root: new Uint8Array(32) }] }],
    ['prev raw link', { ...wire, prev: CID.parse('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy') }],
    ['prev string', { ...wire, prev: 'bafy' }],
    ['task number', { ...wire, task: 1 }],
    ['cycle string', { ...wire, cycle: '4' }],
    ['distribution extra', { ...wire, distribution: { ...(wire.distribution as object), x: 1 } }],
    ['a list', [wire]],
  ]
  for (const [what, value] of malformed) {
    const encoded = dagCbor.encode(Array.isArray(value) ? value : Object.fromEntries(Object.entries(value as object).filter(([, v]) => v !== undefined)))
    assert.throws(() => decodeScaleHead(encoded), (error: unknown) => isScaleError(error, 'MALFORMED'), what)
  }
  // Trailing bytes after the map, and a non-minimal integer encoding of the cycle (0x18 0x04 for 4).
  assert.throws(() => decodeScaleHead(new Uint8Array([...head.bytes, 0x00])), (error: unknown) => isScaleError(error, 'MALFORMED'))
  const key = new TextEncoder().encode('ecycle') // text(5) "cycle"
  const at = head.bytes.findIndex((_, i) => key.every((b, k) => head.bytes[i + k] === b)) + key.length
  assert.equal(head.bytes[at], 0x04)
  const nonMinimal = new Uint8Array([...head.bytes.slice(0, at), 0x18, 0x04, ...head.bytes.slice(at + 1)])
  assert.throws(() => decodeScaleHead(nonMinimal), (error: unknown) => isScaleError(error, 'MALFORMED'))
  assert.throws(() => decodeScaleHead(new Uint8Array(MAX_SCALE_HEAD_BYTES + 1)), (error: unknown) => isScaleError(error, 'TOO_LARGE'))
  assert.throws(() => decodeScaleHead('x' as never), (error: unknown) => isScaleError(error, 'MALFORMED'))
})

test('property: an honest history verifies, every cycle ok, and decoding is the identity', () => {
  fc.assert(
    fc.property(specsArb, (specs) => {
      const { heads, chain } = history(specs)
      const report = verify(heads.map((h) => h.bytes), chain)
      assert.ok(report.ok, JSON.stringify(report.cycles.filter((c) => !c.ok)))
      assert.equal(report.cycles.length, heads.length)
      for (const head of heads) assert.deepEqual(decodeScaleHead(head.bytes), head)
    }),
    { numRuns: 100 },
  )
})

type Tamper = (heads: EncodedScaleHead[], chain: ChainCycleFacts[], pick: number) => { heads: Uint8Array[]; chain?: ChainCycleFacts[]; expect: HeadCheckCode[] } | undefined

const rebuild = (head: EncodedScaleHead, patch: Partial<Parameters<typeof buildScaleHead>[0]>) =>
  buildScaleHead({ task: head.head.task, cycle: head.head.cycle, prev: head.head.prev, submissions: head.head.submissions, distribution: head.head.distribution, ...patch }).bytes
const replaceAt = (heads: EncodedScaleHead[], i: number, bytes: Uint8Array) => heads.map((h, j) => (j === i ? bytes : h.bytes))

const TAMPERS: Record<string, Tamper> = {
  'altered submission root': (heads, _chain, pick) => {
    const i = pick % heads.length
    const h = heads[i] as EncodedScaleHead
    if (h.head.submissions.length === 0) return undefined
    const submissions = h.head.submissions.map((s, j) => (j === 0 ? { ...s, root: bytesToHex(hexToBytes(s.root).map((b, k) => (k === 0 ? b ^ 1 : b))) } : s))
    return { heads: replaceAt(heads, i, rebuild(h, { submissions })), expect: ['SUBMISSIONS_MISMATCH', 'DIGEST_MISMATCH'] }
  },
  'missing submission': (heads, _chain, pick) => {
    const i = pick % heads.length
    const h = heads[i] as EncodedScaleHead
    if (h.head.submissions.length === 0) return undefined
    return { heads: replaceAt(heads, i, rebuild(h, { submissions: h.head.submissions.slice(1) })), expect: ['SUBMISSIONS_MISMATCH', 'DIGEST_MISMATCH'] }
  },
  'extra submission': (heads, _chain, pick) => {
    const i = pick % heads.length
    const h = heads[i] as EncodedScaleHead
    const extra = { node: getAddress(`0x${'ff'.repeat(19)}${(pick % 256).toString(16).padStart(2, '0')}`), root: hex32(0xee) }
    if (h.head.submissions.some((s) => s.node === extra.node)) return undefined
    return { heads: replaceAt(heads, i, rebuild(h, { submissions: [...h.head.submissions, extra] })), expect: ['SUBMISSIONS_MISMATCH', 'DIGEST_MISMATCH'] }
  },
  'altered distribution': (heads, _chain, pick) => {
    const i = pick % heads.length
    const h = heads[i] as EncodedScaleHead
    return { heads: replaceAt(heads, i, rebuild(h, { distribution: { ...h.head.distribution, merkleRoot: hex32(pick % 200) } })), expect: ['DISTRIBUTION_MISMATCH', 'DIGEST_MISMATCH'] }
  },
  'broken prev link': (heads, _chain, pick) => {
    const i = pick % heads.length
    const h = heads[i] as EncodedScaleHead
    const prev = h.head.prev === null ? (heads[heads.length - 1] as EncodedScaleHead).cid : null
    return { heads: replaceAt(heads, i, rebuild(h, { prev })), expect: ['PREV_MISMATCH', 'DIGEST_MISMATCH'] }
  },
  'gap (a head left out)': (heads, _chain, pick) => {
    const i = pick % heads.length
    return { heads: heads.filter((_, j) => j !== i).map((h) => h.bytes), expect: ['MISSING_HEAD'] }
  },
  'reordered': (heads, _chain, pick) => {
    const i = pick % (heads.length - 1)
    const bytes = heads.map((h) => h.bytes)
    ;[bytes[i], bytes[i + 1]] = [bytes[i + 1] as Uint8Array, bytes[i] as Uint8Array]
    return { heads: bytes, expect: ['OUT_OF_ORDER'] }
  },
  'duplicated': (heads, _chain, pick) => {
    const i = pick % heads.length
    const bytes = heads.map((h) => h.bytes)
    bytes.splice(i, 0, (heads[i] as EncodedScaleHead).bytes)
    return { heads: bytes, expect: ['OUT_OF_ORDER'] }
  },
  'a flipped byte': (heads, _chain, pick) => {
    const i = pick % heads.length
    const bytes = new Uint8Array((heads[i] as EncodedScaleHead).bytes)
    const at = pick % bytes.length
    bytes[at] = (bytes[at] as number) ^ (1 << (pick % 8))
    return { heads: replaceAt(heads, i, bytes), expect: [] } // some failure, which one depends on the byte
  },
  'another task': (heads, _chain, pick) => {
    const i = pick % heads.length
    return { heads: replaceAt(heads, i, rebuild(heads[i] as EncodedScaleHead, { task: 8n })), expect: ['WRONG_TASK', 'DIGEST_MISMATCH'] }
  },
  'a head for a cycle the chain never finalized': (heads, chain) => {
    const open = chain.find((c) => !c.final)
    if (open === undefined) return undefined
    const fake = rebuild(heads[0] as EncodedScaleHead, { cycle: Number(open.cycle) })
    const bytes = [...heads.map((h) => h.bytes), fake].sort((a, b) => decodeScaleHead(a).head.cycle - decodeScaleHead(b).head.cycle)
    return { heads: bytes, expect: ['NOT_ANCHORED'] }
  },
  'the chain convicted a submitter the head keeps': (heads, chain, pick) => {
    const i = pick % heads.length
    const h = heads[i] as EncodedScaleHead
    if (h.head.submissions.length === 0) return undefined
    const convicted = (h.head.submissions[0] as { node: Address }).node
    const altered = chain.map((c) => (Number(c.cycle) === h.head.cycle ? { ...c, submissions: c.submissions.filter((s) => s.node !== convicted) } : c))
    return { heads: heads.map((x) => x.bytes), chain: altered, expect: ['SUBMISSIONS_MISMATCH'] }
  },
}

for (const [name, tamper] of Object.entries(TAMPERS)) {
  test(`property: tampering is detected — ${name}`, () => {
    let applied = 0
    fc.assert(
      fc.property(specsArb, fc.nat(), (specs, pick) => {
        const { heads, chain } = history(specs)
        const tampered = tamper(heads, chain, pick)
        if (tampered === undefined) return
        applied++
        const report = verify(tampered.heads, tampered.chain ?? chain)
        assert.equal(report.ok, false)
        const found = codes(report)
        for (const code of tampered.expect) assert.ok(found.has(code), `${name}: expected ${code}, got ${[...found].join(',')}`)
      }),
      { numRuns: 60 },
    )
    assert.ok(applied > 20, `${name} applied only ${applied} times`)
  })
}

test('a consistently forged history (links recomputed) still fails on every anchored digest from the forgery on', () => {
  const specs: CycleSpec[] = [0, 1, 2, 3].map((cycle) => ({
    cycle,
    final: true,
    submissions: [{ node: addr(1), root: hex32(cycle + 1), convicted: false }, { node: addr(2), root: hex32(cycle + 10), convicted: false }],
    merkleRoot: hex32(cycle + 20),
    listCid: hex32(cycle + 30),
  }))
  const { heads, chain } = history(specs)
  // Cycle 1's root of node 1 rewritten, and heads 2 and 3 rebuilt to link the forged head.
  const forged: EncodedScaleHead[] = [heads[0] as EncodedScaleHead]
  for (let i = 1; i < 4; i++) {
    const h = heads[i] as EncodedScaleHead
    const submissions = i === 1 ? h.head.submissions.map((s) => (s.node === addr(1) ? { ...s, root: hex32(0x99) } : s)) : h.head.submissions
    forged.push(buildScaleHead({ task: TASK, cycle: i, prev: (forged[i - 1] as EncodedScaleHead).cid, submissions, distribution: h.head.distribution }))
  }
  const report = verify(forged.map((h) => h.bytes), chain)
  assert.equal(report.ok, false)
  assert.deepEqual(report.cycles.map((c) => c.ok), [true, false, false, false])
  assert.ok(report.cycles[1]?.failures.some((f) => f.code === 'SUBMISSIONS_MISMATCH'))
  for (const i of [2, 3]) assert.deepEqual(report.cycles[i]?.failures.map((f) => f.code).sort(), ['DIGEST_MISMATCH', 'PREV_MISMATCH'])
})

test('prev rule: the highest cycle below finalized before this cycle\'s distribution opened (no race with later finalizations)', () => {
  const dist = (n: number) => ({ merkleRoot: hex32(n), listCid: hex32(n + 1) })
  const subs = [{ node: addr(1), root: hex32(5) }]
  const h0 = buildScaleHead({ task: TASK, cycle: 0, prev: null, submissions: subs, distribution: dist(1) })
  const h1 = buildScaleHead({ task: TASK, cycle: 1, prev: h0.cid, submissions: subs, distribution: dist(2) })
  // Round length 100 s: cycle c's list opens at (c + 2) * 100. Cycle 1 was finalized at 410, after
  // cycle 2's list opened (400) — even if that was before cycle 2's post landed (the race a
  // "final when posted" rule has): cycle 2 links cycle 0, cycle 3 (opens 500) links cycle 2.
  const h2 = buildScaleHead({ task: TASK, cycle: 2, prev: h0.cid, submissions: subs, distribution: dist(3) })
  const h3 = buildScaleHead({ task: TASK, cycle: 3, prev: h2.cid, submissions: subs, distribution: dist(4) })
  const facts = (cycle: number, head: EncodedScaleHead, finalizedTime: bigint): ChainCycleFacts => ({
    cycle,
    final: true,
    scaleHead: head.digest,
    submissions: subs,
    ...dist(cycle + 1),
    distributionOpensAt: BigInt(cycle + 2) * 100n,
    finalizedTime,
  })
  const chain = [facts(0, h0, 250n), facts(1, h1, 410n), facts(2, h2, 460n), facts(3, h3, 560n)]
  assert.ok(verify([h0.bytes, h1.bytes, h2.bytes, h3.bytes], chain).ok)
  // Linking cycle 1 from cycle 2 names a head finalized at or after the cutoff: PREV_MISMATCH.
  for (const finalized of [400n, 410n]) {
    const h2Linked = buildScaleHead({ task: TASK, cycle: 2, prev: h1.cid, submissions: subs, distribution: dist(3) })
    const report = verify([h0.bytes, h1.bytes, h2Linked.bytes], [chain[0]!, facts(1, h1, finalized), facts(2, h2Linked, 460n)])
    assert.deepEqual([...codes(report)], ['PREV_MISMATCH'])
  }
  // One second earlier (399 < 400) cycle 1 is the prev, and skipping it is the mismatch.
  assert.deepEqual([...codes(verify([h0.bytes, h1.bytes, h2.bytes, h3.bytes], [chain[0]!, facts(1, h1, 399n), chain[2]!, chain[3]!]))], ['PREV_MISMATCH'])
  // Without times the rule is "the highest final anchored cycle below" (loose): cycle 2 fails it.
  const loose = chain.map(({ finalizedTime: _f, distributionOpensAt: _o, ...rest }) => rest)
  assert.deepEqual([...codes(verify([h0.bytes, h1.bytes, h2.bytes, h3.bytes], loose))], ['PREV_MISMATCH'])
  // expectedPrev itself: the cutoff is strict.
  const anchored = [0, 1, 2].map((cycle) => ({ cycle, digest: hex32(cycle), finalizedTime: BigInt(cycle + 2) * 100n + 50n }))
  assert.equal(expectedPrev(anchored, 3, 450n)?.cycle, 1)
  assert.equal(expectedPrev(anchored, 3, 451n)?.cycle, 2)
  assert.equal(expectedPrev(anchored, 1, 200n), undefined)
  assert.equal(expectedPrev(anchored, 3)?.cycle, 2)
})

test('from/through bound the history that must be present; an empty history of an empty chain is ok', () => {
  const specs: CycleSpec[] = [0, 1, 2].map((cycle) => ({ cycle, final: true, submissions: [{ node: addr(1), root: hex32(cycle + 1), convicted: false }], merkleRoot: hex32(7), listCid: hex32(8) }))
  const { heads, chain } = history(specs)
  assert.equal(verifyHeadChain([heads[1]!.bytes, heads[2]!.bytes], chain, { task: TASK }).ok, false)
  assert.equal(verifyHeadChain([heads[1]!.bytes, heads[2]!.bytes], chain, { task: TASK, from: 1 }).ok, true)
  assert.equal(verifyHeadChain([heads[0]!.bytes], chain, { task: TASK, through: 0 }).ok, true)
  assert.equal(verifyHeadChain([heads[0]!.bytes], chain, { task: TASK }).ok, false)
  assert.deepEqual(verifyHeadChain([], [], { task: TASK }), { ok: true, cycles: [] })
  assert.throws(() => verifyHeadChain([], [], { task: -1n }), (error: unknown) => isScaleError(error, 'MALFORMED'))
})
