// Devnet building blocks without a network: the local site, the timing, and process hygiene of the
// node supervisor (process groups, SIGTERM → SIGKILL, nothing survives even a SIGKILLed devnet).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'

import { scaledTiming } from '../src/devnet/devnet.ts'
import { devnetTiming } from '../src/devnet/params.ts'
import { liveNodeProcessCount, NodeProcess } from '../src/devnet/processes.ts'
import { pageHtml, startSite } from '../src/devnet/site.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

const dir = mkdtempSync(join(tmpdir(), 'coop-devnet-parts-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const fixture = (name: string) => join(import.meta.dirname, 'fixtures', name)

describe('devnet site', () => {
  it('serves 50 deterministic pages on 127.0.0.1, an index, and 404s', async () => {
    const site = await startSite({ pages: 50 })
    try {
      assert.match(site.url, /^http:\/\/127\.0\.0\.1:\d+$/)
      const first = await (await fetch(`${site.url}/page/7`)).text()
      const second = await (await fetch(`${site.url}/page/7`)).text()
      assert.equal(first, second)
      assert.equal(first, pageHtml(7, 50))
      assert.notEqual(pageHtml(7, 50), pageHtml(8, 50))
      assert.match(first, /<title>Coop devnet page 7<\/title>/)
      assert.equal((await fetch(`${site.url}/page/50`)).status, 404)
      assert.equal((await fetch(`${site.url}/nope`)).status, 404)
      assert.equal((await fetch(`${site.url}/page/1`, { method: 'POST' })).status, 405)
      const index = await (await fetch(`${site.url}/`)).text()
      assert.equal((index.match(/href="\/page\/\d+"/g) ?? []).length, 50)
      const sitemap = (await (await fetch(`${site.url}/sitemap.json`)).json()) as { pages: string[] }
      assert.equal(sitemap.pages.length, 50)
      assert.equal(site.hits().get('/page/7'), 2)
    } finally {
      await site.stop()
    }
  })
})

describe('devnet timing', () => {
  it('12 s rounds are exactly the documented windows; other lengths scale and stay valid', () => {
    assert.deepEqual(scaledTiming(12), devnetTiming)
    assert.equal(devnetTiming.submissionWindow, 3n)
    assert.equal(devnetTiming.auditWindow, 6n)
    assert.equal(devnetTiming.voteWindow, 5n)
    for (const length of [6, 20, 60]) {
      const timing = scaledTiming(length)
      assert.equal(timing.roundLength, BigInt(length))
      assert.ok(timing.submissionWindow < timing.auditWindow)
      assert.ok(timing.auditWindow + timing.voteWindow <= timing.roundLength)
    }
  })
})

describe('node processes', () => {
  it('stop(): SIGTERM reaches the node; its group (sandboxes) goes with it', async () => {
    const pidFile = join(dir, 'a.json')
    const node = new NodeProcess({ name: 'a', configFile: '-', logFile: join(dir, 'a.log'), args: [fixture('fake-node.mjs'), pidFile] })
    node.start()
    await waitFor('the fake node', () => existsSync(pidFile))
    const { pid, grandchild } = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number; grandchild: number }
    assert.equal(node.pid, pid)
    assert.equal(liveNodeProcessCount(), 1)
    const exit = await node.stop(5_000)
    assert.equal(exit?.code, 0)
    assert.equal(exit?.expected, true)
    await waitFor('the grandchild to die', () => !alive(grandchild))
    assert.match(node.logTail(), /fake node up\nfake node stopping/)
    assert.equal(liveNodeProcessCount(), 0)
  })

  it('stop(): a node ignoring SIGTERM is SIGKILLed after the grace period, with its group', async () => {
    const pidFile = join(dir, 'b.json')
    const node = new NodeProcess({ name: 'b', configFile: '-', logFile: join(dir, 'b.log'), args: [fixture('fake-node.mjs'), pidFile, 'ignore-term'] })
    node.start()
    await waitFor('the fake node', () => existsSync(pidFile))
    const { grandchild } = JSON.parse(readFileSync(pidFile, 'utf8')) as { grandchild: number }
    const started = Date.now()
    const exit = await node.stop(500)
    assert.equal(exit?.signal, 'SIGKILL')
    assert.ok(Date.now() - started >= 450)
    await waitFor('the grandchild to die', () => !alive(grandchild))
  })

  it('kill() is a crash (not restarted by itself); start() again reuses the same config and log', async () => {
    const pidFile = join(dir, 'c.json')
    const node = new NodeProcess({ name: 'c', configFile: '-', logFile: join(dir, 'c.log'), args: [fixture('fake-node.mjs'), pidFile] })
    const exits: string[] = []
    node.onExit = (info) => exits.push(`${info.signal ?? info.code}:${info.expected}`)
    node.start()
    await waitFor('the fake node', () => existsSync(pidFile))
    const first = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number; grandchild: number }
    await node.kill('SIGKILL')
    assert.equal(node.running, false)
    await waitFor('the orphaned sandbox to be reaped', () => !alive(first.grandchild))
    rmSync(pidFile)
    node.start()
    await waitFor('the restarted fake node', () => existsSync(pidFile))
    assert.notEqual(JSON.parse(readFileSync(pidFile, 'utf8')).pid, first.pid)
    assert.equal(node.starts, 2)
    // An exit nobody asked for is reported as unexpected.
    process.kill(node.pid!, 'SIGKILL')
    await node.exited()
    assert.deepEqual(exits, ['SIGKILL:true', 'SIGKILL:false'])
    assert.equal((node.logTail().match(/fake node up/g) ?? []).length, 2)
  })

  it('a SIGKILLed devnet leaves no node behind (watchdog)', async () => {
    const pidFile = join(dir, 'd.json')
    const parent = spawn(process.execPath, [fixture('orphan-parent.mjs'), pidFile, join(dir, 'd.log')], { stdio: 'ignore' })
    await waitFor('the fake node', () => existsSync(pidFile), 30_000)
    const { pid, grandchild } = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number; grandchild: number }
    assert.ok(alive(pid) && alive(grandchild))
    parent.kill('SIGKILL')
    await waitFor('the node and its sandbox to die with the devnet', () => !alive(pid) && !alive(grandchild))
  })
})
