// coop device keygen | send (verify runs end to end on anvil in packages/node/test/device-inclusion.test.ts):
// key files, usage errors with exit codes, a send to a real ingest endpoint (receipt verified, seq
// persisted in the key file so a second send is not a replay), a node that refuses or is not there.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'

import { handleDeviceRequest } from '../../node/src/api/devices.ts'
import { ApiError, sendError } from '../../node/src/api/http.ts'
import { DeviceIngest } from '../../node/src/scale/ingest.ts'
import { RoundStore } from '../../node/src/scale/round-store.ts'
import { openState } from '../../node/src/state/store.ts'
import { verifyReceipt, type DeviceReceipt } from '@coop/protocol'
import { createContentStore } from '@coop/sdk'
import { privateKeyToAccount } from 'viem/accounts'

import { runCli } from './helpers.ts'

const dir = mkdtempSync(join(tmpdir(), 'coop-device-cli-'))
const signer = privateKeyToAccount(`0x${'6b'.repeat(32)}`)
const task = { taskId: '5', startTime: 0n, roundLength: 10n, maxPayloadBytes: 1024 }
let nodeUrl = ''
let close: () => Promise<void> = async () => {}

before(async () => {
  const state = openState(join(dir, 'node', 'state.sqlite'))
  const rounds = new RoundStore({ state, content: createContentStore(join(dir, 'node', 'content')), self: signer.address })
  const ingest = new DeviceIngest({ rounds, signer, now: () => BigInt(Math.floor(Date.now() / 1000)) })
  ingest.addTask(task)
  const devices = {
    maxPayloadBytes: (taskId: string) => ingest.task(taskId)?.maxPayloadBytes,
    ingest: (taskId: string, bytes: Uint8Array) => ingest.ingest(taskId, bytes),
    proveLeaf: async (taskId: string, cycle: number, position: number) => ({ ...(await rounds.proveLeaf(taskId, cycle, position)), node: signer.address }),
    submission: () => null,
  }
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const [, , , id, sub, ...rest] = url.pathname.split('/')
    if (sub === undefined && req.method === 'GET') {
      // GET /api/tasks/:id — what a device reads its current round from.
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ taskId: id, currentRound: Math.floor(Date.now() / 1000 / 10) }))
      return
    }
    handleDeviceRequest(req, res, url, id!, sub, rest, devices)
      .then((route) => route ?? sendError(req, res, new ApiError(404, 'NOT_FOUND', 'no such endpoint')))
      .catch((error: unknown) => sendError(req, res, error instanceof ApiError ? error : new ApiError(500, 'INTERNAL', String(error))))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  nodeUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  close = async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    state.close()
  }
})

after(async () => {
  await close()
  rmSync(dir, { recursive: true, force: true })
})

describe('coop device', () => {
  it('keygen: prints or writes a key file (0600), never overwrites, rejects unknown schemes', async () => {
    const printed = await runCli(['device', 'keygen', '--scheme', 'secp256k1', '--json'])
    assert.equal(printed.code, 0)
    const key = JSON.parse(printed.stdout) as { scheme: string; privateKey: string; publicKey: string }
    assert.equal(key.scheme, 'secp256k1')
    assert.match(key.publicKey, /^0x0[23][0-9a-f]{64}$/)
    const file = join(dir, 'device.json')
    const written = await runCli(['device', 'keygen', '--out', file])
    assert.equal(written.code, 0, written.stderr)
    assert.equal(statSync(file).mode & 0o777, 0o600)
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { scheme: string }).scheme, 'ed25519')
    const again = await runCli(['device', 'keygen', '--out', file])
    assert.equal(again.code, 2)
    assert.match(again.stderr, /not overwriting/)
    const bad = await runCli(['device', 'keygen', '--scheme', 'rsa'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /ed25519 or secp256k1/)
  })

  it('send: a receipt from the node (verified), seq kept in the key file, refusals and missing nodes explained', async () => {
    const file = join(dir, 'sender.json')
    assert.equal((await runCli(['device', 'keygen', '--out', file])).code, 0)
    const receiptFile = join(dir, 'receipt.json')
    const t = Math.floor(Date.now() / 1000)
    const sent = await runCli(['device', 'send', '--key', file, '--task', '5', '--node-url', nodeUrl, '--body', JSON.stringify({ temp: 21.5, t }), '--receipt-out', receiptFile])
    assert.equal(sent.code, 0, sent.stderr)
    assert.match(sent.stdout, /accepted by 0x[0-9a-fA-F]{40}: task 5 round \d+ position 0/)
    const receipt = JSON.parse(readFileSync(receiptFile, 'utf8')) as DeviceReceipt
    assert.equal(await verifyReceipt(receipt), signer.address)
    const lastSeq = (JSON.parse(readFileSync(file, 'utf8')) as { lastSeq: number }).lastSeq
    assert.ok(Number.isSafeInteger(lastSeq))
    // A second send continues above the stored seq: accepted, next position.
    const second = await runCli(['device', 'send', '--key', file, '--task', '5', '--node-url', nodeUrl, '--body', '{"temp":22}', '--json'])
    assert.equal(second.code, 0, second.stderr)
    assert.equal((JSON.parse(second.stdout) as DeviceReceipt).position, 1)

    const tooBig = await runCli(['device', 'send', '--key', file, '--task', '5', '--node-url', nodeUrl, '--body', JSON.stringify({ blob: 'x'.repeat(2000) })])
    assert.equal(tooBig.code, 1)
    assert.match(tooBig.stderr, /TOO_LARGE/)
    const notIngest = await runCli(['device', 'send', '--key', file, '--task', '6', '--node-url', nodeUrl, '--body', '{}'])
    assert.equal(notIngest.code, 1)
    assert.match(notIngest.stderr, /NOT_INGEST_TASK/)
    const nobody = await runCli(['device', 'send', '--key', file, '--task', '5', '--node-url', 'http://127.0.0.1:1', '--body', '{}'])
    assert.equal(nobody.code, 1)
    assert.match(nobody.stderr, /no answer from http:\/\/127\.0\.0\.1:1/)
    const usage = await runCli(['device', 'send', '--key', file, '--task', '5', '--node-url', nodeUrl])
    assert.equal(usage.code, 2)
    assert.match(usage.stderr, /exactly one of --body or --body-file/)
    const notJson = await runCli(['device', 'send', '--key', file, '--task', '5', '--node-url', nodeUrl, '--body', '{temp'])
    assert.equal(notJson.code, 2)
    const noKey = await runCli(['device', 'send', '--key', join(dir, 'missing.json'), '--task', '5', '--node-url', nodeUrl, '--body', '{}'])
    assert.equal(noKey.code, 2)
    assert.match(noKey.stderr, /coop device keygen --out/)
  })
})
