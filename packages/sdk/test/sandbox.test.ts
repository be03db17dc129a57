import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { recoverMessageAddress } from 'viem'
import { type SandboxError, type TaskRuntime, bundleTask, createMemoryContext, isSandboxError, startSandbox } from '../src/index.ts'
import { createFrameReader, encodeFrame } from '../src/frames.ts'

const FIXTURE = new URL('./fixtures/probe-task.ts', import.meta.url).pathname
const KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d' as const

let dir: string
let programPath: string
let keyFile: string
let runtime: TaskRuntime
const malformed: SandboxError[] = []
const logs: { level: string; msg: string; data: unknown }[] = []
const host = createMemoryContext({
  privateKey: KEY,
  behaviour: { mode: 'cheater', cheatFromRound: 2 },
  config: { siteUrl: 'http://127.0.0.1:1', nested: { n: 5n } },
  log: (level, msg, data) => logs.push({ level, msg, data }),
  request: async (node, path, body) => ({ from: 'peer', node, path, body }),
})
const round = { taskId: 7n, round: 4, cycle: 3, startTime: 1_700_000_048, roundLength: 12 }
const route = (rt: TaskRuntime, path: string, body: unknown = null) => rt.call('route', { method: 'POST', path, query: {}, body }, round)
const alive = (pid: number | undefined) => {
  if (pid === undefined) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
const start = (extra: Partial<Parameters<typeof startSandbox>[0]> = {}) =>
  startSandbox({ programPath, dataDir: join(dir, 'data'), host, callTimeoutMs: 5000, onMalformed: (e) => malformed.push(e), ...extra })

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coop-sdk-sandbox-'))
  const { code } = await bundleTask(FIXTURE)
  programPath = join(dir, 'program.mjs')
  await writeFile(programPath, code)
  keyFile = join(dir, 'node-key.txt')
  await writeFile(keyFile, 'super secret key')
  process.env.COOP_TEST_SECRET = 'must-not-leak'
  runtime = await start()
})
after(async () => {
  await runtime?.stop()
  delete process.env.COOP_TEST_SECRET
  await rm(dir, { recursive: true, force: true })
})

describe('startSandbox', () => {
  it('runs the child with the permission model, no child processes, workers or addons', () => {
    assert.deepEqual(runtime.command.slice(1, 7), [
      '--permission',
      `--allow-fs-read=${programPath}`,
      `--allow-fs-read=${join(dir, 'data')}`,
      `--allow-fs-write=${join(dir, 'data')}`,
      '--max-old-space-size=256',
      '--input-type=module-typescript',
    ])
    assert.equal(runtime.command[0], process.execPath)
    assert.ok(!runtime.command.some((arg) => /allow-(child-process|worker|addons|wasi|inspector)/.test(arg)))
    assert.equal(runtime.name, 'probe')
    assert.ok(runtime.routes.includes('ctx'))
  })

  it('round-trips the task functions', async () => {
    assert.equal(await runtime.call('work', round), undefined)
    const submission = await runtime.call('submission', round)
    assert.deepEqual(submission, { cycle: 3, stored: { cycle: 3, at: round.startTime } })
    assert.deepEqual(await runtime.call('audit', submission, { ...round, seed: `0x${'11'.repeat(32)}` }, host.address), { ok: true })
    const verdict = { ok: false, reason: 'bad', evidence: { x: new Uint8Array([1]) } }
    assert.deepEqual(await runtime.call('audit', { verdict }, round, host.address), verdict)
    const bounty = { reward: 10n ** 30n, bonus: 3n }
    assert.deepEqual(await runtime.call('distribution', [{ node: host.address, passed: true }], bounty, round), [
      { node: host.address, reward: 10n ** 30n, bonus: 3n },
    ])
  })

  it('serves ctx operations from the host: kv, store, sign, request, log (bigint and bytes survive)', async () => {
    const result = (await route(runtime, 'ctx', { peer: '0x000000000000000000000000000000000000dEaD' })) as Record<string, unknown>
    assert.deepEqual(result.back, { n: 2n ** 200n, bytes: new Uint8Array([1, 2, 3]) })
    assert.deepEqual(result.block, new Uint8Array([9, 9, 9]))
    assert.deepEqual(result.value, { hello: 'world', n: 1 })
    assert.equal(await recoverMessageAddress({ message: 'hello', signature: result.signature as `0x${string}` }), host.address)
    assert.deepEqual(result.peer, { from: 'peer', node: '0x000000000000000000000000000000000000dEaD', path: 'echo', body: { ping: 1 } })
    assert.deepEqual(result.round, round)
    assert.equal(result.address, host.address)
    assert.deepEqual(result.behaviour, { mode: 'cheater', cheatFromRound: 2 })
    assert.deepEqual(result.config, { siteUrl: 'http://127.0.0.1:1', nested: { n: 5n } })
    assert.ok(logs.some((l) => l.level === 'info' && l.msg === 'ctx route ran'))
    assert.equal(await host.kv.get('big'), undefined, 'deleted through the host')
  })

  it('cannot read files outside its data dir (e.g. the node key)', async () => {
    await assert.rejects(route(runtime, 'read', { path: keyFile }), (e) => isSandboxError(e, 'PERMISSION_DENIED') && e.details.code === 'ERR_ACCESS_DENIED')
    assert.deepEqual(await route(runtime, 'tryRead', { path: keyFile }), { ok: false, code: 'ERR_ACCESS_DENIED' })
    assert.deepEqual(await route(runtime, 'tryRead', { path: '/etc/passwd' }), { ok: false, code: 'ERR_ACCESS_DENIED' })
    assert.deepEqual(await route(runtime, 'writeFile', { path: join(dir, 'planted.txt') }), { ok: false, code: 'ERR_ACCESS_DENIED' })
    assert.equal(await route(runtime, 'home'), 'inside', 'its own data dir is readable and writable')
    assert.equal(await readFile(join(dir, 'data', 'note.txt'), 'utf8'), 'inside')
  })

  it('cannot spawn processes or workers, and sees a scrubbed environment', async () => {
    await assert.rejects(route(runtime, 'spawn'), (e) => isSandboxError(e, 'PERMISSION_DENIED'))
    assert.deepEqual(await route(runtime, 'trySpawn'), { ok: false, code: 'ERR_ACCESS_DENIED' })
    assert.deepEqual(await route(runtime, 'tryWorker'), { ok: false, code: 'ERR_ACCESS_DENIED' })
    const env = (await route(runtime, 'env')) as Record<string, string>
    assert.equal(env.COOP_TEST_SECRET, undefined)
    assert.deepEqual(Object.keys(env).sort(), ['HOME', 'LANG', 'PATH', 'TMPDIR', 'TZ'])
  })

  it('rejects bad results and calls with typed errors', async () => {
    await assert.rejects(runtime.call('audit', { verdict: { ok: 'yes' } }, round, host.address), (e) => isSandboxError(e, 'BAD_RESULT'))
    await assert.rejects(runtime.call('distribution', [], { reward: 666n, bonus: 0n }, round), (e) => isSandboxError(e, 'BAD_RESULT'))
    await assert.rejects(route(runtime, 'unserializable'), (e) => isSandboxError(e, 'UNSERIALIZABLE'))
    await assert.rejects(route(runtime, 'nope'), (e) => isSandboxError(e, 'NO_ROUTE'))
    await assert.rejects(runtime.call('explode' as never), (e) => isSandboxError(e, 'INVALID_CALL'))
    await assert.rejects(runtime.call('work', { f: () => 1 }), (e) => isSandboxError(e, 'UNSERIALIZABLE'))
    assert.equal(await route(runtime, 'echo', 'still fine'), 'still fine')
  })

  it('drops malformed messages from the child with typed errors and keeps serving', async () => {
    const pid = runtime.pid
    const before = malformed.length
    assert.deepEqual(await route(runtime, 'malformed'), { sent: 16 })
    await new Promise((resolve) => setTimeout(resolve, 50))
    const seen = malformed.slice(before)
    assert.equal(seen.length, 16)
    assert.ok(seen.every((e) => isSandboxError(e, 'MALFORMED_MESSAGE')))
    assert.ok(seen.some((e) => String(e.details.preview).includes('NODE_HANDLE_ACK')), 'Node-internal IPC commands are just data here')
    assert.ok(seen.some((e) => String(e.details.reason).startsWith('frame does not deserialize')))
    // A bad ctx operation through the normal path is answered with a typed error inside the program.
    assert.deepEqual(await route(runtime, 'badKey'), { ok: false, code: 'MALFORMED' })
    assert.equal(runtime.pid, pid, 'same child, parent unaffected')
    assert.equal(await route(runtime, 'echo', 1), 1)
  })

  it('kills a child that announces an oversized frame, and restarts on the next call', async () => {
    const pid = runtime.pid
    await assert.rejects(route(runtime, 'oversize'), (e) => isSandboxError(e, 'CRASHED') && e.details.reason === 'oversized frame')
    assert.equal(alive(pid), false)
    assert.equal(await route(runtime, 'echo', 2), 2)
    assert.notEqual(runtime.pid, pid)
  })

  it('times out a hung call, kills the child (and its other calls) and restarts', async () => {
    const rt = await start({ callTimeoutMs: 600 })
    try {
      const pid = rt.pid
      const started = Date.now()
      const hung = route(rt, 'hang')
      await new Promise((resolve) => setTimeout(resolve, 300))
      // Started later, so it would time out later: it dies with the child instead.
      const other = route(rt, 'sleep', { ms: 5000 }).then(
        () => 'resolved',
        (error: unknown) => error,
      )
      await assert.rejects(hung, (e) => isSandboxError(e, 'TIMEOUT') && e.details.callTimeoutMs === 600)
      assert.ok(Date.now() - started < 3000)
      const otherError = await other
      assert.ok(isSandboxError(otherError, 'CRASHED'), String(otherError))
      assert.match(String(otherError.details.reason), /timed out/)
      assert.equal(alive(pid), false)
      assert.equal(await route(rt, 'echo', 'back'), 'back')
      assert.notEqual(rt.pid, pid)
      assert.equal(rt.stats().timeouts, 1)
      assert.equal(rt.stats().restarts, 1)
    } finally {
      await rt.stop()
    }
  })

  it('reports a crash with the tail of stderr and restarts', async () => {
    await assert.rejects(
      route(runtime, 'crash'),
      (e) => isSandboxError(e, 'CRASHED') && String(e.details.stderr).includes('probe crash') && e.details.exitCode === 1,
    )
    assert.equal(await route(runtime, 'echo', 3), 3)
  })

  it('contains memory blow-ups: heap limit and resident-memory watchdog', async () => {
    const rt = await start({ memoryMb: 64, maxRssMb: 300 })
    try {
      await assert.rejects(route(rt, 'oom'), (e) => isSandboxError(e, 'CRASHED') && e.details.outOfMemory === true)
      await assert.rejects(
        route(rt, 'bufferBomb'),
        (e) => isSandboxError(e, 'CRASHED') && String(e.details.reason).startsWith('resident memory above 300 MB'),
      )
      assert.equal(await route(rt, 'echo', 'ok'), 'ok')
    } finally {
      await rt.stop()
    }
  })

  it('stop() kills the child, fails pending calls with STOPPED and leaves no process', async () => {
    const rt = await start()
    const pid = rt.pid
    assert.ok(alive(pid))
    const pending = route(rt, 'sleep', { ms: 10_000 })
    await new Promise((resolve) => setTimeout(resolve, 50))
    await rt.stop()
    await assert.rejects(pending, (e) => isSandboxError(e, 'STOPPED'))
    assert.equal(alive(pid), false)
    await assert.rejects(rt.call('work', round), (e) => isSandboxError(e, 'STOPPED'))
    await rt.stop()
  })

  it('fails to start with typed errors for a missing program or a module that is not a task', async () => {
    await assert.rejects(start({ programPath: join(dir, 'missing.mjs') }), (e) => isSandboxError(e, 'START_FAILED'))
    const notTask = join(dir, 'not-a-task.js')
    await writeFile(notTask, 'export default { name: "x" }\n')
    await assert.rejects(start({ programPath: notTask }), (e) => isSandboxError(e, 'LOAD_FAILED') && e.details.code === 'NOT_A_TASK')
    const broken = join(dir, 'broken.mjs')
    await writeFile(broken, 'import "node:fs"; throw new Error("top-level boom")\n')
    await assert.rejects(start({ programPath: broken }), (e) => isSandboxError(e, 'LOAD_FAILED') && e.details.reason === 'top-level boom')
    // A program that tries to import a file it may not read.
    const sneaky = join(dir, 'sneaky.mjs')
    await mkdir(join(dir, 'lib'), { recursive: true })
    await writeFile(join(dir, 'lib', 'x.mjs'), 'export default 1\n')
    await writeFile(sneaky, 'import "./lib/x.mjs"\n')
    await assert.rejects(start({ programPath: sneaky }), (e) => isSandboxError(e, 'LOAD_FAILED'))
  })
})

describe('sandbox frames', () => {
  it('never throws on garbage and refuses oversized frames before buffering them', () => {
    const messages: unknown[] = []
    const bad: number[] = []
    let oversize = 0
    const reader = createFrameReader({
      maxBytes: 1024,
      onMessage: (m) => messages.push(m),
      onBadPayload: (_e, bytes) => bad.push(bytes),
      onOversize: () => oversize++,
    })
    const frame = encodeFrame({ t: 'log', n: 1n, b: new Uint8Array([1]) })
    // split across chunks at every position
    for (let i = 0; i < frame.byteLength; i++) {
      reader.push(frame.subarray(0, i))
      reader.push(frame.subarray(i))
    }
    assert.equal(messages.length, frame.byteLength)
    assert.deepEqual(messages[0], { t: 'log', n: 1n, b: new Uint8Array([1]) })
    let seed = 1
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 256
    for (let i = 0; i < 2000; i++) {
      const payload = Buffer.from(Array.from({ length: 1 + (i % 40) }, random))
      const header = Buffer.alloc(4)
      header.writeUInt32BE(payload.byteLength)
      reader.push(Buffer.concat([header, payload]))
    }
    assert.ok(bad.length > 0)
    const big = Buffer.alloc(4)
    big.writeUInt32BE(1025)
    reader.push(big)
    assert.equal(oversize, 1)
    reader.push(frame)
    assert.equal(oversize, 1, 'a dead reader ignores the rest')
  })
})
