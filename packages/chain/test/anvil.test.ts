import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

import {
  AnvilStartError,
  createCoopTestClient,
  findFreePort,
  getChainTime,
  increaseTime,
  liveAnvilCount,
  setChainTime,
  startAnvil,
} from '../src/index.ts'
import { processGone, waitUntil } from './helpers.ts'

const fixture = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures', 'anvil-child.ts')

async function chainId(rpcUrl: string): Promise<number> {
  const response = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
  })
  return Number(((await response.json()) as { result: string }).result)
}

test('starts on a random 127.0.0.1 port with the default dev accounts, and stop() leaves no process', async () => {
  const anvil = await startAnvil()
  try {
    assert.match(anvil.rpcUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.ok(anvil.port > 0)
    assert.equal(await chainId(anvil.rpcUrl), 31337)
    assert.equal(anvil.accounts.length, 10)
    assert.equal(anvil.accounts[0]?.address, '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266')
    assert.equal(anvil.accounts[0]?.privateKey, '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80')
  } finally {
    await anvil.stop()
  }
  assert.throws(() => process.kill(anvil.pid, 0), (error: NodeJS.ErrnoException) => error.code === 'ESRCH')
  await anvil.stop() // idempotent
  assert.equal(liveAnvilCount(), 0)
})

test('two at once run on different ports', async () => {
  const [a, b] = await Promise.all([startAnvil({ accounts: 2 }), startAnvil({ accounts: 2, chainId: 4242 })])
  try {
    assert.notEqual(a.port, b.port)
    assert.notEqual(a.pid, b.pid)
    assert.equal(await chainId(a.rpcUrl), 31337)
    assert.equal(await chainId(b.rpcUrl), 4242)
    assert.equal(liveAnvilCount(), 2)
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
  assert.ok(processGone(a.pid) && processGone(b.pid))
})

test('a taken fixed port fails with a typed error instead of hanging', async () => {
  const server = createServer()
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  )
  try {
    const error = await startAnvil({ port }).then(
      () => assert.fail('should not start'),
      (e: unknown) => e,
    )
    assert.ok(error instanceof AnvilStartError)
    assert.equal(error.code, 'ANVIL_START_FAILED')
    assert.equal(error.port, port)
  } finally {
    server.close()
  }
  assert.equal(liveAnvilCount(), 0)
})

test('forking is refused (the devnet stays offline)', async () => {
  await assert.rejects(startAnvil({ args: ['--fork-url', 'http://127.0.0.1:1'] }), AnvilStartError)
})

test('findFreePort returns a bindable port', async () => {
  const port = await findFreePort()
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  server.close()
})

test('time helpers move chain time (evm_increaseTime/evm_setNextBlockTimestamp + evm_mine)', async () => {
  const anvil = await startAnvil({ accounts: 1 })
  try {
    const client = createCoopTestClient({ rpcUrl: anvil.rpcUrl })
    const start = await getChainTime(client)
    const later = await increaseTime(client, 3_600)
    assert.ok(later >= start + 3_600n && later < start + 3_610n)
    assert.equal(await setChainTime(client, later + 1_000n), later + 1_000n)
    // Never backwards: an earlier target just mines.
    assert.ok((await setChainTime(client, start)) >= later + 1_000n)
  } finally {
    await anvil.stop()
  }
})

function runChild(mode: string): Promise<{ child: ReturnType<typeof spawn>; pid: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, mode], { stdio: ['ignore', 'pipe', 'pipe'] })
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    child.stderr?.on('data', (chunk) => (err += chunk))
    child.stdout?.on('data', (chunk) => {
      out += chunk
      const line = out.split('\n')[0]
      if (out.includes('\n') && line) resolve({ child, pid: (JSON.parse(line) as { pid: number }).pid })
    })
    child.once('exit', (code) => {
      if (!out.includes('\n')) reject(new Error(`child exited ${code} before reporting: ${err}`))
    })
  })
}

for (const [mode, ending] of [
  ['exit', 'process.exit() without stop()'],
  ['throw', 'an uncaught exception'],
  ['wait', 'SIGTERM'],
  ['wait', 'SIGINT'],
  ['wait', 'SIGKILL (the watchdog)'],
] as const) {
  test(`no orphan anvil after ${ending}`, async () => {
    const { child, pid } = await runChild(mode)
    if (mode === 'wait') assert.ok(!processGone(pid), 'anvil runs while its parent lives')
    const exited = new Promise((resolve) =>
      child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once('exit', resolve),
    )
    if (ending.startsWith('SIG')) child.kill(ending.split(' ')[0] as NodeJS.Signals)
    await exited
    assert.ok(await waitUntil(() => processGone(pid), 5_000), `anvil ${pid} outlived its parent`)
  })
}
