// Device ingest over HTTP (api/devices.ts + scale/ingest.ts + scale/round-store.ts, real SQLite and
// block store): a good payload → a receipt that verifies; every bad input → its typed error and
// nothing stored; concurrent posts get distinct positions; a restart keeps replay protection;
// sealing turns late payloads away; leaf proofs over HTTP verify against the submitted root.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'

import { type DeviceReceipt, signDevicePayload, verifyInclusion, verifyReceipt } from '@coop/protocol'
import { createContentStore } from '@coop/sdk'
import * as dagCbor from '@ipld/dag-cbor'
import { hexToBytes, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'

import { type DeviceService, handleDeviceRequest } from '../src/api/devices.ts'
import { ApiError, sendError } from '../src/api/http.ts'
import { DeviceIngest } from '../src/scale/ingest.ts'
import { createReceiptSigner } from '../src/scale/receipt-signer.ts'
import { RoundStore } from '../src/scale/round-store.ts'
import { openState } from '../src/state/store.ts'

const dir = mkdtempSync(join(tmpdir(), 'coop-devices-test-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const nodeKey = `0x${'5a'.repeat(32)}` as const
const signer = privateKeyToAccount(nodeKey)
const task = { taskId: '3', startTime: 1_000n, roundLength: 12n, maxPayloadBytes: 2048 }
const edKey = `0x${'01'.repeat(32)}` as const
const secpKey = `0x${'02'.repeat(32)}` as const

/** A node's device endpoints on a real HTTP server; `clock` is the protocol clock (chain time). */
async function startNode(name: string, clock: { now: bigint }) {
  const state = openState(join(dir, name, 'state.sqlite'))
  const content = createContentStore(join(dir, name, 'content'))
  const rounds = new RoundStore({ state, content, self: signer.address })
  // Receipts signed as the node signs them (same address as the node key).
  const receiptSigner = createReceiptSigner(nodeKey)
  const ingest = new DeviceIngest({ rounds, signer: receiptSigner, now: () => clock.now })
  ingest.addTask({
    ...task,
    accept: async (payload) => {
      const body = payload.body as { ok?: unknown; boom?: unknown }
      if (body.boom) throw new Error('the sandboxed program crashed') // what a failing runtime.call looks like
      return body.ok === false ? { ok: false, reason: 'the task does not want this' } : { ok: true }
    },
  })
  const devices: DeviceService = {
    maxPayloadBytes: (taskId) => ingest.task(taskId)?.maxPayloadBytes,
    ingest: (taskId, bytes) => ingest.ingest(taskId, bytes),
    proveLeaf: async (taskId, cycle, position, node) => ({ ...(await rounds.proveLeaf(taskId, cycle, position, node)), node: node ?? signer.address }),
    submission: () => null,
  }
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const [, , , id, sub, ...rest] = url.pathname.split('/')
    handleDeviceRequest(req, res, url, id!, sub, rest, devices)
      .then((route) => {
        if (!route) sendError(req, res, new ApiError(404, 'NOT_FOUND', 'no such endpoint'))
      })
      .catch((error: unknown) => sendError(req, res, error instanceof ApiError ? error : new ApiError(500, 'INTERNAL', String(error))))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    state,
    rounds,
    ingest,
    base,
    async post(bytes: Uint8Array, headers: Record<string, string> = { 'content-type': 'application/cbor' }, taskId = '3') {
      const response = await fetch(`${base}/api/tasks/${taskId}/payloads`, { method: 'POST', headers, body: bytes })
      return { status: response.status, body: (await response.json()) as { error?: { code: string; message: string; details?: Record<string, unknown> } } & Partial<DeviceReceipt> }
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await receiptSigner.close()
      state.close()
    },
  }
}

const roundOf = (now: bigint) => Number((now - task.startTime) / task.roundLength)
const reading = (i: number) => ({ i, ok: true })

describe('device ingest endpoint', () => {
  test('good payloads (ed25519 and secp256k1) → receipts that verify, at positions in arrival order; bad inputs → typed errors, nothing stored', async () => {
    const clock = { now: task.startTime + 5n * 12n + 3n }
    const node = await startNode('a', clock)
    const round = roundOf(clock.now)
    try {
      const first = signDevicePayload(edKey, 'ed25519', { taskId: '3', round, seq: 1, body: reading(1) })
      const good = await node.post(first.bytes)
      assert.equal(good.status, 200, JSON.stringify(good.body))
      const receipt = good.body as DeviceReceipt
      assert.equal(await verifyReceipt(receipt), signer.address)
      assert.deepEqual({ payloadCid: receipt.payloadCid, taskId: receipt.taskId, round: receipt.round, position: receipt.position }, { payloadCid: first.cid, taskId: '3', round, position: 0 })
      const second = await node.post(signDevicePayload(secpKey, 'secp256k1', { taskId: '3', round, seq: 7, body: reading(2) }).bytes)
      assert.equal(second.status, 200)
      assert.equal(second.body.position, 1)

      const stored = () => node.rounds.payloadCount('3', round)
      // Everything a payload could leave behind, in any task or round: payload rows, the devices'
      // replay watermarks, and the blocks in the content store.
      const storage = async () => ({
        payloads: node.state.db.prepare('SELECT * FROM scale_payloads ORDER BY task_id, cycle, position').all(),
        devices: node.state.db.prepare('SELECT * FROM scale_devices ORDER BY 1, 2').all(),
        blocks: (await readdir(join(dir, 'a', 'content'), { recursive: true }).catch(() => [] as string[])).sort(),
      })
      const expectError = async (what: string, answer: Promise<{ status: number; body: { error?: { code: string } } }>, status: number, code: string) => {
        const before = await storage()
        const { status: got, body } = await answer
        assert.equal(got, status, `${what}: ${JSON.stringify(body)}`)
        assert.equal(body.error?.code, code, what)
        assert.deepEqual(await storage(), before, `${what}: nothing stored`)
      }
      assert.equal((await storage()).payloads.length, 2, 'the storage snapshot sees the accepted payloads')
      const big = signDevicePayload(edKey, 'ed25519', { taskId: '3', round, seq: 2, body: new Uint8Array(4000) })
      await expectError('too large', node.post(big.bytes), 413, 'TOO_LARGE')
      await expectError('not cbor', node.post(new Uint8Array([0xff, 0x00, 0x13])), 400, 'MALFORMED')
      const valid = signDevicePayload(edKey, 'ed25519', { taskId: '3', round, seq: 3, body: reading(3) })
      const decoded = dagCbor.decode(valid.bytes) as { sig: string }
      const tampered = dagCbor.encode({ ...decoded, sig: `${decoded.sig.slice(0, -1)}${decoded.sig.endsWith('0') ? '1' : '0'}` })
      await expectError('bad signature', node.post(tampered), 401, 'BAD_SIGNATURE')
      await expectError('wrong task', node.post(signDevicePayload(edKey, 'ed25519', { taskId: '4', round, seq: 3, body: reading(3) }).bytes), 400, 'WRONG_TASK')
      await expectError('round ahead', node.post(signDevicePayload(edKey, 'ed25519', { taskId: '3', round: round + 1, seq: 3, body: reading(3) }).bytes), 400, 'WRONG_ROUND')
      await expectError('round too old', node.post(signDevicePayload(edKey, 'ed25519', { taskId: '3', round: round - 2, seq: 3, body: reading(3) }).bytes), 400, 'WRONG_ROUND')
      await expectError('replay (same bytes)', node.post(first.bytes), 409, 'REPLAY')
      await expectError('replay (lower seq)', node.post(signDevicePayload(secpKey, 'secp256k1', { taskId: '3', round, seq: 6, body: reading(9) }).bytes), 409, 'REPLAY')
      await expectError('task refuses', node.post(signDevicePayload(edKey, 'ed25519', { taskId: '3', round, seq: 4, body: { ok: false } }).bytes), 422, 'REJECTED')
      await expectError('task program fails', node.post(signDevicePayload(edKey, 'ed25519', { taskId: '3', round, seq: 4, body: { boom: true } }).bytes), 503, 'ACCEPT_FAILED')
      await expectError('media type', node.post(valid.bytes, { 'content-type': 'application/json' }), 415, 'UNSUPPORTED_MEDIA_TYPE')
      await expectError('not an ingest task', node.post(valid.bytes, undefined, '9'), 404, 'NOT_INGEST_TASK')
      // A refused payload did not move the replay watermark: seq 3 is still good.
      assert.equal((await node.post(valid.bytes)).status, 200)
      assert.equal(stored(), 3)
    } finally {
      await node.close()
    }
  })

  test('concurrent posts: distinct, gapless positions, each acked after its commit', async () => {
    const clock = { now: task.startTime + 2n * 12n }
    const node = await startNode('b', clock)
    const round = roundOf(clock.now)
    try {
      const keys = Array.from({ length: 40 }, (_, i) => `0x${(i + 16).toString(16).padStart(2, '0').repeat(32)}` as Hex)
      const answers = await Promise.all(keys.map((key, i) => node.post(signDevicePayload(key, i % 2 ? 'secp256k1' : 'ed25519', { taskId: '3', round, seq: 1, body: reading(i) }).bytes)))
      assert.ok(answers.every((a) => a.status === 200))
      assert.deepEqual(answers.map((a) => a.body.position).sort((x, y) => x! - y!), keys.map((_, i) => i))
      assert.equal(node.rounds.payloadCount('3', round), 40)
      // A burst that is verified before the next commit is due shares one commit (group commit).
      const before = node.ingest.stats().batches
      const burst = await Promise.all(
        keys.map((key, i) => node.ingest.ingest('3', signDevicePayload(key, i % 2 ? 'secp256k1' : 'ed25519', { taskId: '3', round, seq: 2, body: reading(i) }).bytes)),
      )
      assert.deepEqual(burst.map((r) => r.position), keys.map((_, i) => 40 + i))
      assert.ok(node.ingest.stats().batches - before <= 2, `one commit for the burst (${node.ingest.stats().batches - before})`)
    } finally {
      await node.close()
    }
  })

  test('restart keeps replay protection and positions; sealing refuses late payloads; proofs over HTTP verify against the round root', async () => {
    const clock = { now: task.startTime + 7n * 12n + 1n }
    const round = roundOf(clock.now)
    let node = await startNode('c', clock)
    const sent = [1, 2, 3].map((seq) => signDevicePayload(edKey, 'ed25519', { taskId: '3', round, seq, body: reading(seq) }))
    for (const p of sent) assert.equal((await node.post(p.bytes)).status, 200)
    await node.close()

    node = await startNode('c', clock)
    try {
      const replay = await node.post(sent[1]!.bytes)
      assert.equal(replay.status, 409)
      assert.equal(replay.body.error?.code, 'REPLAY')
      const next = await node.post(signDevicePayload(edKey, 'ed25519', { taskId: '3', round, seq: 4, body: reading(4) }).bytes)
      assert.equal(next.body.position, 3, 'positions continue after a restart')

      // The next round: a payload for the previous round is still taken until the node seals it.
      clock.now += 12n
      const late = await node.post(signDevicePayload(edKey, 'ed25519', { taskId: '3', round, seq: 5, body: reading(5) }).bytes)
      assert.equal(late.status, 200)
      const { payloads } = node.ingest.seal('3', round)
      assert.equal(payloads.length, 5)
      const record = await node.rounds.buildOwnRound('3', round, payloads, payloads.length)
      const sealed = await node.post(signDevicePayload(edKey, 'ed25519', { taskId: '3', round, seq: 6, body: reading(6) }).bytes)
      assert.equal(sealed.status, 400)
      assert.equal(sealed.body.error?.code, 'WRONG_ROUND')
      assert.equal(sealed.body.error?.details?.sealed, true)
      // The device's proof: its leaf (the payload bytes) under the root the node submits.
      const response = await fetch(`${node.base}/api/tasks/3/rounds/${round}/proof/2`)
      const proof = (await response.json()) as { digest: Hex; leaf: Hex; proof: { leafCid: string; path: Hex[] } }
      assert.equal(proof.digest, record.digest)
      assert.deepEqual(hexToBytes(proof.leaf), sent[2]!.bytes)
      assert.ok(verifyInclusion(record.digest!, 2, hexToBytes(proof.leaf), { leafCid: proof.proof.leafCid, path: proof.proof.path.map((b) => ({ block: hexToBytes(b) })) }))
      const missing = await fetch(`${node.base}/api/tasks/3/rounds/${round}/proof/99`)
      assert.equal(missing.status, 400)
      assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'INDEX_OUT_OF_RANGE')
      const unbuilt = await fetch(`${node.base}/api/tasks/3/rounds/${round + 5}/proof/0`)
      assert.equal(unbuilt.status, 404)
    } finally {
      await node.close()
    }
  })
})
