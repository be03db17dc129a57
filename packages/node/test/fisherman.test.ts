// The fisherman's parts without a chain: the /coop/scale/leaf/1 service on real libp2p hosts over a
// real round store (answers, typed refusals, bounded concurrency), and the fisherman check
// (leaf 0 → leaf count → sampled leaves → inclusion + sandboxed leafAudit) against an honest, a
// forging, a refusing and a silent submitter, with the evidence stored and read back.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, test } from 'node:test'

import { createCoopHost, isP2pError, verifyEnvelope, type CoopHost } from '@coop/p2p'
import { buildRoundDag, checkLeafAnswer, parseLeafAnswer, sampleLeafPositions } from '@coop/protocol'
import { bundleTask, createContentStore, decodeValue, startSandbox, type TaskRuntime } from '@coop/sdk'
import { pino } from 'pino'
import type { Address, Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'

import { createMetrics, digestOfCid, cidFromDigest } from '../src/index.ts'
import { checkRoundLeaves, judgeLeafEvidence, LEAF_EVIDENCE, noAnswerSigner } from '../src/roles/fisherman.ts'
import type { TaskEnv } from '../src/roles/env.ts'
import { LEAF_PROTOCOL, LEAF_REQUEST_TYPE, LEAF_RESPONSE_TYPE, leafService, type LeafService } from '../src/scale/leaf-protocol.ts'
import { RoundStore } from '../src/scale/round-store.ts'
import { openState, type NodeStore } from '../src/state/store.ts'
import { honestLeaves } from './fixtures/scale-task.ts'

const TASK = '5'
const silent = pino({ level: 'silent' })
const dir = mkdtempSync(join(tmpdir(), 'coop-fisherman-'))
const keys = { submitter: generatePrivateKey(), auditor: generatePrivateKey() }
const submitter = privateKeyToAccount(keys.submitter).address
let server: CoopHost
let client: CoopHost
let state: NodeStore
let rounds: RoundStore
let service: LeafService
let runtime: TaskRuntime

before(async () => {
  state = openState(join(dir, 'state.sqlite'))
  rounds = new RoundStore({ state, content: createContentStore(join(dir, 'content')), self: submitter })
  ;[server, client] = await Promise.all([createCoopHost({ privateKey: keys.submitter, logger: silent }), createCoopHost({ privateKey: keys.auditor, logger: silent })])
  service = leafService()({ host: server, rounds, hasTask: (taskId) => taskId === TASK, logger: silent })
  service.start()
  const bundle = await bundleTask(resolve(import.meta.dirname, 'fixtures/scale-task.ts'))
  const programPath = join(dir, 'scale-task.mjs')
  writeFileSync(programPath, bundle.code)
  const sandboxDir = join(dir, 'sandbox')
  const host = {
    address: privateKeyToAccount(keys.auditor).address,
    behaviour: { mode: 'honest' as const },
    kv: { get: async () => undefined, put: async () => {}, delete: async () => {}, list: async () => [] },
    store: { put: async () => '', get: async () => undefined },
    sign: async () => '0x' as Hex,
    request: async () => undefined,
    log: { info() {}, warn() {}, error() {} },
    config: {},
  }
  runtime = await startSandbox({ programPath, dataDir: sandboxDir, host })
})

after(async () => {
  await runtime?.stop()
  await Promise.allSettled([server?.stop(), client?.stop()])
  state?.close()
  rmSync(dir, { recursive: true, force: true })
})

const ask = (body: unknown) => client.request(server.multiaddrs()[0]!, LEAF_PROTOCOL, body, { timeoutMs: 5_000 })
async function refusal(body: unknown): Promise<string> {
  try {
    await ask(body)
  } catch (error) {
    assert.ok(isP2pError(error) && error.code === 'REMOTE_ERROR', String(error))
    // The refusal is signed by the submitter.
    const signed = await verifyEnvelope(error.details.signed as Uint8Array, { maxClockSkewMs: Number.POSITIVE_INFINITY })
    assert.equal(signed.from, submitter)
    return String(error.details.remoteCode)
  }
  assert.fail('answered')
}

test('leaf service: every leaf with a proof that verifies against the on-chain digest, signed by the submitter', async () => {
  const leaves = honestLeaves(TASK, 1, submitter, 11)
  const record = await rounds.buildOwnRound(TASK, 1, leaves)
  for (let index = 0; index < leaves.length; index++) {
    const request = { task: TASK, cycle: 1, root: record.digest!, index }
    const message = await ask(request)
    assert.equal(message.type, LEAF_RESPONSE_TYPE)
    assert.equal(message.from, submitter)
    const check = checkLeafAnswer(message.body, request)
    assert.ok(check.ok, check.ok ? '' : check.reason)
    assert.equal(check.leafCount, 11)
    assert.deepEqual(check.value, leaves[index])
    // The signed envelope alone re-verifies (what goes into evidence).
    const again = await verifyEnvelope(message.signed, { maxClockSkewMs: Number.POSITIVE_INFINITY, type: LEAF_RESPONSE_TYPE })
    assert.deepEqual(parseLeafAnswer(again.body), parseLeafAnswer(message.body))
  }
})

test('leaf service: bad requests get typed, signed refusals; nothing is served for unknown, other or pruned rounds', async () => {
  const record = await rounds.buildOwnRound(TASK, 2, honestLeaves(TASK, 2, submitter, 4))
  const ok = { task: TASK, cycle: 2, root: record.digest!, index: 0 }
  assert.equal(await refusal('leaf please'), 'BAD_REQUEST')
  assert.equal(await refusal({ ...ok, index: -1 }), 'BAD_REQUEST')
  assert.equal(await refusal({ ...ok, extra: true }), 'BAD_REQUEST')
  assert.equal(await refusal({ ...ok, root: record.digest!.toUpperCase() }), 'BAD_REQUEST')
  assert.equal(await refusal({ ...ok, task: '6' }), 'UNKNOWN_TASK')
  assert.equal(await refusal({ ...ok, cycle: 99 }), 'UNKNOWN_ROUND')
  assert.equal(await refusal({ ...ok, root: buildRoundDag([new Uint8Array([1])]).digest }), 'ROOT_MISMATCH')
  assert.equal(await refusal({ ...ok, index: 4 }), 'INDEX_OUT_OF_RANGE')
  await rounds.deleteLeaves(TASK, 2)
  assert.equal(await refusal(ok), 'LEAVES_PRUNED')
  service.stop()
  try {
    assert.equal(await refusal({ ...ok, cycle: 1 }), 'NOT_SERVING')
  } finally {
    service.start()
  }
  const stats = service.stats()
  assert.equal(stats.refused.BAD_REQUEST, 4)
  assert.equal(stats.refused.LEAVES_PRUNED, 1)
  assert.equal(stats.refused.NOT_SERVING, 1)
})

test('leaf service: concurrency is bounded (BUSY), never queued', async () => {
  const record = await rounds.buildOwnRound(TASK, 3, honestLeaves(TASK, 3, submitter, 2))
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  const slow = leafService({ maxConcurrent: 1 })({
    host: { handle() {} },
    rounds: { getRound: (t, c) => rounds.getRound(t, c), proveLeaf: async (t, c, i) => (await gate, rounds.proveLeaf(t, c, i)) },
    hasTask: () => true,
    logger: silent,
  })
  slow.start()
  const request = { task: TASK, cycle: 3, root: record.digest!, index: 1 }
  const first = slow.answer(request)
  await assert.rejects(slow.answer(request), (error: unknown) => (error as { code?: string }).code === 'BUSY')
  release()
  assert.ok(checkLeafAnswer(await first, request).ok)
  assert.ok(checkLeafAnswer(await slow.answer(request), request).ok, 'free again once the first proof is done')
})

/** A TaskEnv of an auditor: its own p2p host and key, the sandboxed fixture; the submitter found at `serverAddr`. */
function auditorEnv(serverAddr: () => string | undefined): TaskEnv {
  const abort = new AbortController()
  const content = createContentStore(join(dir, 'auditor-content'))
  return {
    taskId: BigInt(TASK),
    id: TASK,
    params: { roundLength: 10n } as TaskEnv['params'],
    startTime: 0n,
    runtime,
    logger: silent,
    node: {
      address: privateKeyToAccount(keys.auditor).address,
      chain: { account: privateKeyToAccount(keys.auditor) },
      host: client,
      content,
      peers: { multiaddrOf: async () => serverAddr() },
      metrics: createMetrics({ name: 'auditor', defaultMetrics: false }),
      logger: silent,
      signal: abort.signal,
    },
  } as unknown as TaskEnv
}

test('fisherman: honest rounds pass; forged leaves, refusals and silence become evidence that reads back and re-verifies', { timeout: 40_000 }, async () => {
  const env = auditorEnv(() => server.multiaddrs()[0])
  const seed = `0x${'ab'.repeat(32)}` as Hex
  // Honest: 24 leaves, the fixture samples 4 of them.
  const honest = await rounds.buildOwnRound(TASK, 4, honestLeaves(TASK, 4, submitter, 24))
  const served = service.stats().served
  assert.deepEqual(await checkRoundLeaves(env, { cycle: 4n, submitter, root: honest.digest!, seed, deadlineMs: Date.now() + 10_000 }), { ok: true })
  // Leaf 0 plus the 4 drawn positions (leaf 0 is not asked twice when it is drawn).
  const positions = sampleLeafPositions(seed, submitter, 24, 4)
  assert.equal(service.stats().served - served, 1 + positions.filter((p) => p !== 0).length)

  // Forged: every leaf's digest is wrong; the submitter's signed answer is the evidence.
  const forged = await rounds.buildOwnRound(TASK, 5, honestLeaves(TASK, 5, submitter, 24).map((leaf) => ({ i: leaf.i, digest: new Uint8Array(32) })))
  const caught = await checkRoundLeaves(env, { cycle: 5n, submitter, root: forged.digest!, seed, deadlineMs: Date.now() + 10_000 })
  assert.equal(caught.ok, false)
  if (caught.ok !== false) return
  assert.equal(caught.evidence.type, LEAF_EVIDENCE.auditFailed)
  const cid = await env.node.content.put(caught.evidence)
  assert.equal(cidFromDigest(digestOfCid(cid), 0x71), cid, 'the on-chain digest names the evidence block')
  const stored = decodeValue((await env.node.content.getBlock(cid))!) as Record<string, unknown>
  const response = await verifyEnvelope(stored.response as Uint8Array, { maxClockSkewMs: Number.POSITIVE_INFINITY, type: LEAF_RESPONSE_TYPE })
  assert.equal(response.from, submitter)
  const index = stored.index as number
  const recheck = checkLeafAnswer(response.body, { task: TASK, cycle: 5, root: forged.digest!, index })
  assert.ok(recheck.ok, 'the forged leaf is included (it was committed): the leafAudit is what fails')
  assert.equal(((await runtime.call('leafAudit', recheck.value, index, { taskId: 5n, round: 6, cycle: 5, startTime: 60, roundLength: 10 }, submitter)) as { ok: boolean }).ok, false)

  // A root the submitter does not hold: signed refusals until the deadline → no-answer evidence.
  const unknownRoot = buildRoundDag([new Uint8Array([9])]).digest
  const refused = await checkRoundLeaves(env, { cycle: 4n, submitter, root: unknownRoot, seed, deadlineMs: Date.now() + 2_500 })
  assert.equal(refused.ok, false)
  if (refused.ok !== false) return
  assert.equal(refused.evidence.type, LEAF_EVIDENCE.noAnswer)
  assert.ok((refused.evidence.attempts as number) >= 3)
  const readBack = decodeValue((await env.node.content.getBlock(await env.node.content.put(refused.evidence)))!) as Record<string, unknown>
  assert.equal(await noAnswerSigner(readBack), env.node.address, 'the auditor signed the record')
  const request = await verifyEnvelope(readBack.request as Uint8Array, { maxClockSkewMs: Number.POSITIVE_INFINITY, type: LEAF_REQUEST_TYPE })
  assert.equal(request.from, env.node.address)
  assert.deepEqual(request.body, { task: TASK, cycle: 4, root: unknownRoot, index: 0 })
  const refusalEnvelope = await verifyEnvelope(readBack.refusal as Uint8Array, { maxClockSkewMs: Number.POSITIVE_INFINITY })
  assert.equal(refusalEnvelope.from, submitter, 'the submitter\'s signed refusal is kept')

  // Silent (no address at all): no-answer too, but only after enough tries; too little time → unknown.
  const silentEnv = auditorEnv(() => undefined)
  const unknown = await checkRoundLeaves(silentEnv, { cycle: 4n, submitter, root: honest.digest!, seed, deadlineMs: Date.now() + 300 })
  assert.equal(unknown.ok, 'unknown')
  const mute = await checkRoundLeaves(silentEnv, { cycle: 4n, submitter: submitter as Address, root: honest.digest!, seed, deadlineMs: Date.now() + 2_500 })
  assert.equal(mute.ok, false)
})

test('voters: evidence counts only as the accused\'s own signed answer about this very round; otherwise they check for themselves', { timeout: 40_000 }, async () => {
  const env = auditorEnv(() => server.multiaddrs()[0])
  const seed = `0x${'cd'.repeat(32)}` as Hex
  const soon = () => Date.now() + 4_000
  const honest = await rounds.buildOwnRound(TASK, 7, honestLeaves(TASK, 7, submitter, 24))
  const forged = await rounds.buildOwnRound(TASK, 8, honestLeaves(TASK, 8, submitter, 24).map((leaf) => ({ i: leaf.i, digest: new Uint8Array(32).fill(1) })))
  const facts = (cycle: number, root: Hex) => ({ cycle: BigInt(cycle), accused: submitter, root, seed, deadlineMs: soon() })

  const caught = await checkRoundLeaves(env, { cycle: 8n, submitter, root: forged.digest!, seed, deadlineMs: soon() })
  assert.equal(caught.ok, false)
  const forgedEvidence = (caught as { evidence: Record<string, unknown> }).evidence
  assert.equal((await judgeLeafEvidence(env, forgedEvidence, facts(8, forged.digest!)))?.side, 'uphold')

  // The same signed answer presented against another round proves nothing: the voter checks round 7 itself.
  assert.equal((await judgeLeafEvidence(env, forgedEvidence, facts(7, honest.digest!)))?.side, 'reject')
  // An honest signed answer dressed up as "invalid" evidence.
  const honestAnswer = await ask({ task: TASK, cycle: 7, root: honest.digest!, index: 5 })
  const framed = { type: LEAF_EVIDENCE.invalid, index: 5, response: honestAnswer.signed }
  assert.equal((await judgeLeafEvidence(env, framed, facts(7, honest.digest!)))?.side, 'reject')
  // Tampered envelope bytes: not the accused's signature any more → own check.
  const tampered = (forgedEvidence.response as Uint8Array).slice()
  tampered[tampered.length - 70] = (tampered[tampered.length - 70] as number) ^ 1
  assert.equal((await judgeLeafEvidence(env, { ...forgedEvidence, response: tampered }, facts(7, honest.digest!)))?.side, 'reject')
  // Missing evidence: own sample.
  assert.equal((await judgeLeafEvidence(env, undefined, facts(7, honest.digest!)))?.side, 'reject')
  assert.equal((await judgeLeafEvidence(env, undefined, facts(8, forged.digest!)))?.side, 'uphold')

  // "No answer" evidence: the voter asks for that leaf itself.
  const noAnswer = (index: number) => ({ type: LEAF_EVIDENCE.noAnswer, index })
  assert.equal((await judgeLeafEvidence(env, noAnswer(3), facts(7, honest.digest!)))?.side, 'reject', 'it answers now')
  assert.equal((await judgeLeafEvidence(env, noAnswer(10_000), facts(7, honest.digest!)))?.side, 'reject', 'no such leaf: nothing to answer')
  const discarded = await rounds.buildOwnRound(TASK, 9, honestLeaves(TASK, 9, submitter, 24))
  await rounds.deleteLeaves(TASK, 9)
  assert.equal((await judgeLeafEvidence(env, noAnswer(3), { ...facts(9, discarded.digest!), deadlineMs: Date.now() + 2_500 }))?.side, 'uphold', 'still no answer')
  assert.equal(await judgeLeafEvidence(env, noAnswer(3), { ...facts(9, discarded.digest!), deadlineMs: Date.now() + 300 }), undefined, 'too little time: abstain')
})
