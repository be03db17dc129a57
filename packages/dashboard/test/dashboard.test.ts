// The dashboard in headless Chromium against a real devnet: anvil + Coop + the scenario of
// packages/node/test/api-scenario.ts, a chain view and the API serving public/. It checks what the
// page shows (tasks, round timeline, nodes, the upheld audit), that it updates live over /ws when
// the chain changes, and writes a screenshot to test/artifacts/dashboard.png.
//
// Needs Debian's chromium at /usr/bin/chromium (`apt-get install -y chromium`; COOP_CHROMIUM
// overrides the path); `npm test` installs it first through scripts/ensure-chromium.mjs, and the
// test fails (never skips) without it (see ./harness.ts).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import type { Page } from 'playwright-core'

import type { ApiServer, ChainView } from '../../node/src/api/index.ts'
import { STAKE, startScenario, type Scenario } from '../../node/test/api-scenario.ts'
import { openDashboard, type DashboardHarness } from './harness.ts'

let net: Scenario
let dashboard: DashboardHarness
let view: ChainView
let api: ApiServer
let page: Page

before(async () => {
  net = await startScenario()
  dashboard = await openDashboard(net)
  view = dashboard.view
  api = dashboard.api
  page = dashboard.page
})

after(async () => {
  await dashboard?.stop()
  await net?.stop()
})

const row = (address: string) => page.locator(`#nodes-table tbody tr[data-address="${address}"]`)

test('the dashboard shows the task, its rounds, nodes and audits', { timeout: 60_000 }, async () => {
  await page.goto(api.url)
  await page.locator('#nodes-table tbody tr[data-address]').first().waitFor({ timeout: 15_000 })
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: 10_000 })

  // Header and task list.
  assert.equal(await page.locator('#chain-id').textContent(), '31337')
  assert.equal(await page.locator('#block-number').textContent(), String(view.status().blockNumber))
  assert.match((await page.locator('#task-list a[data-task-id="1"]').textContent()) ?? '', /Task #1.*running.*round 2.*3 nodes/)
  assert.match((await page.locator('#task-header h1').textContent()) ?? '', /Task #1/)
  assert.match((await page.locator('#task-header').textContent()) ?? '', /1,000 cRWD/) // bounty per round

  // Nodes: all three, the cheater highlighted as convicted and slashed.
  const [n1, n2, n3] = net.nodes
  assert.equal(await page.locator('#nodes-table tbody tr[data-address]').count(), 3)
  for (const node of net.nodes) assert.match((await row(node.address).textContent()) ?? '', new RegExp(node.name))
  assert.equal(await row(n1.address).locator('[data-col="stake"]').textContent(), '1,000 COOP')
  assert.equal(await row(n3.address).locator('[data-col="stake"]').textContent(), '80 COOP') // 100 staked, 20% slashed
  assert.match((await row(n3.address).getAttribute('class')) ?? '', /convicted/)
  const cheater = (await row(n3.address).textContent()) ?? ''
  assert.match(cheater, /convicted/)
  assert.match(cheater, /−20 COOP/)
  assert.match(cheater, /0 \/ 1 · 0/) // passed / failed · score
  assert.match(cheater, /1 \/ 1 \(100%\)/) // audited / submissions
  const honest = (await row(n1.address).textContent()) ?? ''
  assert.match(honest, /500 cRWD/) // claimed
  assert.match(honest, /1 \/ 2 \(50%\)/)
  assert.match(honest, /100%/) // audit probability while paying dues
  assert.doesNotMatch((await row(n2.address).getAttribute('class')) ?? '', /convicted/)

  // Audit log: raised by node-1 against node-3, voted, upheld, slashed.
  const audit = page.locator('#audit-log li[data-audit-id="1"]')
  assert.equal(await audit.getAttribute('data-status'), 'upheld')
  const auditText = (await audit.textContent()) ?? ''
  assert.match(auditText, /submission audit · cycle 0/)
  assert.match(auditText, /node-1.*raised against.*node-3/)
  assert.match(auditText, /voted \(2\)/)
  assert.match(auditText, /node-3 slashed 20 COOP/)

  // Round timeline: round 2 is now; work 2, submit/audit 1, distribute 0 (final).
  assert.equal(await page.locator('.tl-head.now').textContent(), 'round 2')
  assert.match((await page.locator('#phase-line').textContent()) ?? '', /round 2: work cycle 2 · submit & audit cycle 1 · distribute cycle 0/)
  assert.deepEqual(await page.locator('#timeline .tl-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-cycle'))), ['2', '1', '0'])
  const cycle0 = page.locator('#timeline .tl-row[data-cycle="0"]')
  assert.match((await cycle0.locator('[data-phase="submit"]').textContent()) ?? '', /3 submitted.*3 sampled.*1 audit.*1 convicted/)
  assert.equal(await cycle0.locator('[data-phase="distribute"]').getAttribute('data-status'), 'final')
  const cycle1 = page.locator('#timeline .tl-row[data-cycle="1"]')
  assert.match((await cycle1.locator('[data-phase="submit"]').textContent()) ?? '', /2 submitted · auditing.*seed pending/)
  assert.equal(await page.locator('#timeline .tl-row[data-cycle="2"] [data-phase="work"].active').count(), 1)

  // Cycle detail (cycle 1 by default: the newest with submissions); click cycle 0.
  await page.locator('#timeline .tl-row[data-cycle="0"] .tl-label').click()
  const detail = (await page.locator('#cycle-detail').textContent()) ?? ''
  assert.match(detail, /Cycle 0/)
  assert.match(detail, /final/)
  assert.equal(await page.locator('#submissions-table tbody tr').count(), 3)
  assert.match((await page.locator(`#submissions-table tbody tr[data-address="${n3.address}"]`).textContent()) ?? '', /sampled.*convicted/)
})

test('the dashboard updates live over WebSocket', { timeout: 60_000 }, async () => {
  // A new node joins the task.
  await net.spare.coop.stake({ taskId: net.taskId, amount: STAKE })
  await net.spare.coop.registerNode({ p2pAddress: '/ip4/127.0.0.1/tcp/4104/p2p/12D3KooWSpare' })
  await row(net.spare.address).waitFor({ timeout: 10_000 })
  assert.equal(await row(net.spare.address).locator('[data-col="stake"]').textContent(), '1,000 COOP')
  await page.locator('#event-feed li', { hasText: 'node-4 staked' }).waitFor({ timeout: 5_000 })

  // Cycle 1's seed gets fixed: its submissions show their sampling.
  await net.coop.recordSeed({ taskId: net.taskId, cycle: 1n })
  await page
    .locator('#timeline .tl-row[data-cycle="1"] [data-phase="submit"]', { hasText: /\d sampled/ })
    .waitFor({ timeout: 10_000 })
  assert.match((await page.locator('#event-feed').textContent()) ?? '', /seed of cycle 1 fixed/)

  await page.locator('#timeline .tl-row[data-cycle="0"] .tl-label').click()
  await dashboard.screenshotClean('dashboard')
})
