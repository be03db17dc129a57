// The dashboard in headless Chromium with batched submissions (packages/node/test/
// api-batched-scenario.ts: node-1 submits directly, node-2..4 through two real submitBatch
// transactions): the timeline, the cycle's submissions and the nodes table show the batched
// submitters like direct ones, marked batched; materializing them shows up live. Screenshot:
// test/artifacts/dashboard-batched.png. Needs Chromium like dashboard.test.ts (never skips).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import type { Page } from 'playwright-core'

import type { ApiServer } from '../../node/src/api/index.ts'
import { startBatchedScenario, type BatchedScenario } from '../../node/test/api-batched-scenario.ts'
import { openDashboard, type DashboardHarness } from './harness.ts'

let net: BatchedScenario
let dashboard: DashboardHarness
let api: ApiServer
let page: Page

before(async () => {
  net = await startBatchedScenario()
  dashboard = await openDashboard(net)
  api = dashboard.api
  page = dashboard.page
})

after(async () => {
  await dashboard?.stop()
  await net?.stop()
})

const submissionRow = (address: string) => page.locator(`#submissions-table tbody tr[data-address="${address}"]`)
const nodeRow = (address: string) => page.locator(`#nodes-table tbody tr[data-address="${address}"]`)

test('batched submitters appear in the timeline, the cycle and the nodes table, marked batched', { timeout: 60_000 }, async () => {
  await page.goto(api.url)
  await page.locator('#nodes-table tbody tr[data-address]').first().waitFor({ timeout: 15_000 })
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: 10_000 })

  const cycle0 = page.locator('#timeline .tl-row[data-cycle="0"]')
  assert.match((await cycle0.locator('[data-phase="submit"]').textContent()) ?? '', /4 submitted \(3 batched\) · submitting/)

  await cycle0.locator('.tl-label').click()
  assert.equal(await page.locator('#submissions-table tbody tr').count(), 4)
  const [n1, ...batched] = net.nodes
  assert.equal(await submissionRow(n1.address).getAttribute('data-via'), 'direct')
  assert.equal(await submissionRow(n1.address).locator('.badge.batched').count(), 0)
  for (const node of batched) {
    const row = submissionRow(node.address)
    assert.equal(await row.getAttribute('data-via'), 'batched')
    assert.match((await row.textContent()) ?? '', new RegExp(`${node.name}.*batched`))
    assert.match((await row.locator('.badge.batched').getAttribute('title')) ?? '', /batch #[01], position [012], score 0, not materialized yet/)
  }
  // Weight of a batched entry: its stake (score 0).
  assert.match((await submissionRow(net.nodes[3].address).textContent()) ?? '', /4,000/)

  for (const [i, node] of net.nodes.entries()) {
    const cell = nodeRow(node.address).locator('[data-col="batched"]')
    if (i === 0) assert.equal(await cell.count(), 0)
    else assert.equal(await cell.textContent(), '1 batched')
    assert.match((await nodeRow(node.address).textContent()) ?? '', /0 \/ 1/) // audited / submissions
  }
})

test('materializing the batched entries shows up live', { timeout: 60_000 }, async () => {
  await net.closeAndSeed()
  await page.locator('#timeline .tl-row[data-cycle="0"] [data-phase="submit"]', { hasText: /\d sampled/ }).waitFor({ timeout: 10_000 })
  await net.materializeAll()
  await page.locator('#event-feed li', { hasText: "node-4's batched submission of cycle 0 materialized" }).waitFor({ timeout: 10_000 })
  await page.locator('#timeline .tl-row[data-cycle="0"] .tl-label').click()
  await page.locator(`#submissions-table tbody tr[data-address="${net.nodes[3].address}"] .badge.batched[title*=", materialized"]`).waitFor({ timeout: 10_000 })
  await dashboard.screenshotClean('dashboard-batched')
})
