import assert from 'node:assert/strict'
import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { type Address, type TaskRuntime, createHarness, createMemoryContext, createMemoryStore, rawCid, withRound } from '@coop/sdk'
import archive, { type ArchiveSubmission, archiveConfig, assignedPages } from '../index.ts'
import { startBundledSandbox, type BundledSandbox } from '../../test-sandbox.ts'

let server: Server
let siteUrl: string
let hits = 0
const pageBody = (n: number) => `<!doctype html><html><head><title>Page ${n}</title></head><body><h1>Page ${n}</h1><p>${'lorem '.repeat(n + 1)}</p></body></html>`

before(async () => {
  server = createServer((request, response) => {
    hits += 1
    const match = /^\/page\/(\d+)$/.exec(request.url ?? '')
    const n = match ? Number(match[1]) : -1
    if (n < 0 || n >= 100) {
      response.writeHead(404).end('not found')
      return
    }
    response.writeHead(200, { 'content-type': 'text/html' }).end(pageBody(n))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  siteUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
after(async () => {
  await new Promise((resolve) => server.close(resolve))
})

const round = { taskId: 2n, round: 3, cycle: 2, startTime: 1_700_000_036, roundLength: 12 }
const seed = `0xcd${'01'.repeat(31)}` as const

describe('web-archive task', () => {
  it('assigns distinct pages per node and cycle, deterministically', () => {
    const config = archiveConfig({ config: { siteUrl: `${siteUrl}/` } })
    const a = assignedPages(config, 1n, 0, '0x1000000000000000000000000000000000000001')
    assert.equal(a.length, 5)
    assert.equal(new Set(a).size, 5)
    assert.ok(a.every((url) => url.startsWith(`${siteUrl}/page/`)))
    assert.deepEqual(a, assignedPages(config, 1n, 0, '0x1000000000000000000000000000000000000001'))
    assert.notDeepEqual(a, assignedPages(config, 1n, 1, '0x1000000000000000000000000000000000000001'))
    assert.throws(() => archiveConfig({ config: {} }), /siteUrl/)
  })

  it('harness: honest majority + a cheater from round 3 → the cheater is caught, honest nodes never flagged', async () => {
    const harness = createHarness(archive, {
      nodes: 4,
      rounds: 5,
      config: { siteUrl },
      behaviours: { 1: { mode: 'cheater', cheatFromRound: 3 } },
    })
    const cheater = harness.nodes[1]?.address as Address
    const report = await harness.run()
    assert.deepEqual(report.falselyFlagged, [])
    assert.deepEqual(report.caught, [cheater])
    for (const cycle of report.cycles) assert.deepEqual(cycle.errors, [])
    for (const cycle of report.cycles.slice(0, 3)) assert.deepEqual(cycle.failed, [])
    const c3 = report.cycles[3]!
    assert.deepEqual(c3.caught, [cheater])
    assert.ok(c3.distribution.every((entry) => entry.node !== cheater))
    // Honest nodes really stored what they submitted.
    const honest = harness.nodes[0]!
    const submission = c3.submissions.find((s) => s.node === honest.address)?.submission as ArchiveSubmission
    for (const page of submission.pages) {
      const bytes = (await honest.store.get(page.cid)) as Uint8Array
      assert.equal(rawCid(bytes), page.cid)
      assert.equal(bytes.byteLength, page.bytes)
    }
  })

  it('audit: wrong pages, mismatching content and pages the submitter cannot serve all fail', async () => {
    const submitterStore = createMemoryStore()
    const submitter = createMemoryContext({ config: { siteUrl }, store: submitterStore })
    const auditor = createMemoryContext({
      config: { siteUrl, auditSample: 5 },
      request: async (node, path, body) => {
        assert.equal(node, submitter.address)
        return archive.routes!.page!({ method: 'POST', path, query: {}, body }, withRound(submitter, round))
      },
    })
    const auditCtx = withRound(auditor, { ...round, seed })
    await archive.work(round, withRound(submitter, round))
    const submission = await archive.submission(round, withRound(submitter, round))
    assert.equal(submission.pages.length, 5)
    assert.deepEqual(await archive.audit(submission, { ...round, seed }, submitter.address, auditCtx), { ok: true })

    const reordered = { ...submission, pages: [...submission.pages].reverse() }
    const wrongPages = await archive.audit(reordered, { ...round, seed }, submitter.address, auditCtx)
    assert.ok(!wrongPages.ok && wrongPages.reason === 'pages are not the assigned ones')

    const swapped = structuredClone(submission)
    swapped.pages[0]!.cid = swapped.pages[1]!.cid
    const mismatch = await archive.audit(swapped, { ...round, seed }, submitter.address, auditCtx)
    assert.ok(!mismatch.ok && mismatch.reason === 'archived content does not match the page')

    // Right CIDs, but the submitter no longer holds the page.
    await submitterStore.delete(submission.pages[2]!.cid)
    const missing = await archive.audit(submission, { ...round, seed }, submitter.address, auditCtx)
    assert.ok(!missing.ok && missing.reason === 'submitter does not have the page it claims')

    assert.equal((await archive.audit({ v: 2 } as never, { ...round, seed }, submitter.address, auditCtx)).ok, false)
  })
})

describe('web-archive task in the sandbox', () => {
  let sandbox: BundledSandbox
  let runtime: TaskRuntime
  // The host routes ctx.request back into the same sandbox: the node audits itself here.
  let host: ReturnType<typeof createMemoryContext>
  before(async () => {
    host = createMemoryContext({
      config: { siteUrl },
      request: (_node, path, body) => runtime.call('route', { method: 'POST', path, query: {}, body }, round),
    })
    sandbox = await startBundledSandbox('web-archive', new URL('../index.ts', import.meta.url), host)
    runtime = sandbox.runtime
  })
  after(() => sandbox?.stop())

  it('crawls from inside the sandbox, stores pages through the host, and audits over ctx.request', async () => {
    assert.equal(runtime.name, 'web-archive')
    const before = hits
    await runtime.call('work', round)
    assert.equal(hits - before, 5, 'five pages fetched by the sandboxed program')
    const submission = (await runtime.call('submission', round)) as ArchiveSubmission
    for (const page of submission.pages) {
      const n = Number(page.url.split('/').pop())
      assert.equal(page.cid, rawCid(new TextEncoder().encode(pageBody(n))))
      assert.deepEqual(await host.store.get(page.cid), new TextEncoder().encode(pageBody(n)))
    }
    assert.deepEqual(await runtime.call('audit', submission, { ...round, seed }, host.address), { ok: true })
    const fabricated = structuredClone(submission)
    for (const page of fabricated.pages) page.cid = rawCid(new TextEncoder().encode(`fake ${page.url}`))
    const verdict = (await runtime.call('audit', fabricated, { ...round, seed }, host.address)) as { ok: boolean; reason: string }
    assert.equal(verdict.ok, false)
    const served = (await runtime.call('route', { method: 'GET', path: 'page', query: { cid: submission.pages[0]!.cid }, body: null })) as {
      found: boolean
      bytes: Uint8Array
    }
    assert.equal(served.found, true)
    assert.equal(rawCid(served.bytes), submission.pages[0]!.cid)
    const archived = (await runtime.call('route', { method: 'GET', path: 'archive', query: { cycle: '2' }, body: null })) as { pages: unknown[] }
    assert.equal(archived.pages.length, 5)
  })
})
