// The devnet end to end: 5 node processes, the three example tasks, ≥ 6 finalized rounds. The cheater
// (node-3, from round 3) is caught and slashed (in sensor-log by a fisherman's leaf sampling, with
// the cheater's signed leaf answer as evidence), honest nodes never are and all earn rewards, every
// node is audited in 100% of its submissions while paying dues and less often afterwards; and the
// devnet's dashboard, opened in headless Chromium while the network runs, shows the 5 nodes with the
// cheater flagged (screenshot in test/artifacts/).
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'

import { coopActions, createCoopPublicClient, liveAnvilCount } from '@coop/chain'
import { cidFromDigest } from '@coop/node'
import { verifyEnvelope } from '@coop/p2p'
import { createContentStore, decodeValue } from '@coop/sdk'
import type { Address, Hex } from 'viem'

import { startDevnet, type Devnet } from '../src/devnet/devnet.ts'
import { liveNodeProcessCount } from '../src/devnet/processes.ts'
import type { DevnetSummary } from '../src/devnet/summary.ts'

const ROUNDS = 6
const artifacts = join(import.meta.dirname, 'artifacts')
const chromium = process.env.COOP_CHROMIUM ?? '/usr/bin/chromium'
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function waitUntil(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(500)
  }
}

/** Opens the dashboard on the task where the cheater was convicted; checks the nodes table. */
async function checkDashboard(devnet: Devnet, taskId: bigint, cheater: string): Promise<{ rows: number; screenshot: string }> {
  const { chromium: browserType } = await import('playwright-core')
  const browser = await browserType.launch({
    executablePath: chromium,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
  })
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } })
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    await page.goto(`${devnet.dashboardUrl}#/tasks/${taskId}`)
    const rows = page.locator('#nodes-table tbody tr[data-address]')
    await waitUntil('the nodes table to list 5 nodes', 30_000, async () => (await rows.count()) >= 5)
    const count = await rows.count()
    // The cheater's row carries the conviction (class + badge); honest rows do not.
    const cheaterRow = rows.filter({ hasText: cheater }).first()
    await waitUntil('the cheater flagged as convicted', 30_000, async () => /\bconvicted\b/.test((await cheaterRow.getAttribute('class')) ?? ''))
    assert.match((await cheaterRow.textContent()) ?? '', /convicted/)
    for (const name of ['node-1', 'node-2', 'node-4', 'node-5']) {
      const row = rows.filter({ hasText: name }).first()
      assert.doesNotMatch((await row.getAttribute('class')) ?? '', /\bconvicted\b/, `${name} shown as convicted`)
    }
    // The round timeline shows live rounds.
    await waitUntil('the round timeline', 30_000, async () => (await page.locator('#timeline > *').count()) > 0)
    mkdirSync(artifacts, { recursive: true })
    const screenshot = join(artifacts, 'devnet-dashboard.png')
    await page.screenshot({ path: screenshot, fullPage: true })
    assert.deepEqual(errors, [], 'the dashboard threw')
    return { rows: count, screenshot }
  } finally {
    await browser.close()
  }
}

test(`devnet: 5 nodes, ${ROUNDS} finalized rounds, the cheater caught, honest nodes paid, dues audited, dashboard live`, { timeout: 8 * 60_000 }, async (t) => {
  const lines: string[] = []
  const started = Date.now()
  // Logs and node state are kept under test/artifacts/ when the test fails.
  mkdirSync(artifacts, { recursive: true })
  const dataDir = mkdtempSync(join(artifacts, 'devnet-e2e-'))
  let passed = false
  t.after(() => {
    if (passed) rmSync(dataDir, { recursive: true, force: true })
    else t.diagnostic(`devnet data (node logs, deployment.json): ${dataDir}`)
  })
  const devnet = await startDevnet({ nodes: 5, rounds: ROUNDS, dataDir, log: (line) => lines.push(line) })
  let summary: DevnetSummary
  let dashboard: { rows: number; screenshot: string } | undefined
  const cheater = devnet.nodes.find((node) => node.behaviour === 'cheater')!
  try {
    assert.equal(cheater.name, 'node-3')
    assert.equal(cheater.cheatFromRound, 3)
    // While it runs: once the cheater is convicted somewhere, look at the dashboard.
    let convictedIn: bigint | undefined
    await waitUntil('the cheater to be convicted', (ROUNDS + 6) * 12_000, () => {
      for (const task of devnet.tasks) {
        const state = devnet.view.nodes(task.taskId).find((node) => node.address === cheater.address)
        if (state?.convicted) convictedIn = task.taskId
      }
      return convictedIn !== undefined
    })
    assert.ok(existsSync(chromium), `${chromium} is missing: run \`node scripts/ensure-chromium.mjs\` (npm test does)`)
    dashboard = await checkDashboard(devnet, convictedIn!, cheater.name)
    await devnet.waitForFinalized(ROUNDS)
    await Promise.all(devnet.nodes.map((node) => node.process.stop(10_000)))
    summary = await devnet.summary({ requestedRounds: ROUNDS })

    // ── per-submission audit sampling, straight from TaskLens ──
    const client = createCoopPublicClient({ rpcUrl: devnet.rpcUrl }).extend(coopActions(devnet.deployment.addresses))
    const dues = devnet.tasks[0]!.params.duesRounds
    let laterSampled = 0
    let laterTotal = 0
    for (const task of devnet.tasks) {
      const rounds = devnet.view.rounds(task.taskId, { limit: 1000 })
      for (const node of devnet.nodes) {
        const mine = rounds
          .flatMap((round) => round.submissions.filter((submission) => submission.node === node.address).map((submission) => ({ cycle: round.cycle, seeded: round.seed !== null, submission })))
          .filter((entry) => entry.seeded)
          .sort((a, b) => (a.cycle < b.cycle ? -1 : 1))
        assert.ok(mine.length >= dues, `${node.name} made only ${mine.length} seeded submissions in task ${task.taskId}`)
        let convictedBefore = false
        for (const [index, entry] of mine.entries()) {
          const sampled = await client.isSampled({ taskId: task.taskId, cycle: entry.cycle, node: node.address as Address })
          const probability = Number(await client.auditProbabilityBps({ taskId: task.taskId, cycle: entry.cycle, node: node.address as Address }))
          assert.equal(sampled, entry.submission.sampled, `view and TaskLens disagree on ${node.name} c${entry.cycle}`)
          if (index < dues) {
            // Paying dues: audited with certainty.
            assert.equal(probability, 10_000, `${node.name} c${entry.cycle} (submission ${index + 1}) audited with p=${probability}`)
            assert.equal(sampled, true, `${node.name} c${entry.cycle} not audited during dues`)
          } else if (node.behaviour === 'honest' && !convictedBefore && index > dues) {
            assert.ok(probability < 10_000, `${node.name} c${entry.cycle} still at 100% after its dues (submission ${index + 1})`)
            laterTotal += 1
            if (sampled) laterSampled += 1
          }
          if (entry.submission.convicted) convictedBefore = true
        }
      }
    }
    t.diagnostic(`honest submissions after dues: ${laterSampled}/${laterTotal} sampled`)
    assert.ok(laterTotal >= 4, `too few post-dues submissions to compare (${laterTotal})`)
    assert.ok(laterSampled < laterTotal, 'honest nodes were still audited every round after their dues')

    // ── the fisherman flow on sensor-log (SCALE, issue 4): leaf sampling convicted the cheater ──
    const sensorTask = devnet.tasks.find((task) => task.name === 'sensor-log')
    assert.ok(sensorTask, 'the devnet runs the sensor-log task')
    const sensorAudits = devnet.view.audits(sensorTask.taskId).filter((audit) => audit.kind === 'submission')
    const upheld = sensorAudits.filter((audit) => audit.upheld)
    assert.ok(upheld.length >= 1, `no upheld leaf-sampling audit in sensor-log (${sensorAudits.length} raised)`)
    for (const audit of upheld) {
      assert.equal(audit.accused, cheater.address, `sensor-log audit #${audit.auditId} convicted ${audit.accused}, not the cheater`)
      assert.ok(audit.slashed !== null && audit.slashed.node === cheater.address && audit.slashed.amount > 0n, `sensor-log audit #${audit.auditId}: the cheater was not slashed`)
    }
    for (const node of devnet.nodes.filter((entry) => entry.behaviour === 'honest')) {
      assert.ok(!devnet.view.nodes(sensorTask.taskId).find((state) => state.address === node.address)?.convicted, `${node.name} convicted in sensor-log`)
    }
    // The evidence on-chain is a fisherman's: the cheater's own signed leaf answer (or, for
    // silence, the auditor's signed request), read from the accuser's content store.
    const audit = upheld[0]!
    const accuser = devnet.nodes.find((node) => node.address === audit.accuser)!
    const submission = await client.getSubmission({ taskId: sensorTask.taskId, cycle: audit.cycle, node: cheater.address as Address })
    const evidenceBytes = await createContentStore(join(accuser.dataDir, 'content')).getBlock(cidFromDigest(audit.evidenceCid as Hex, 0x71))
    assert.ok(evidenceBytes, `the evidence of audit #${audit.auditId} is not in ${accuser.name}'s content store`)
    const evidence = decodeValue(evidenceBytes) as Record<string, unknown>
    assert.match(String(evidence.type), /^coop\/evidence\/scale-leaf-(invalid|audit-failed|no-answer)\/1$/)
    assert.equal(String(evidence.accused).toLowerCase(), cheater.address.toLowerCase())
    assert.equal(String(evidence.onchainRoot).toLowerCase(), submission.root.toLowerCase())
    if (evidence.response instanceof Uint8Array) {
      const answer = await verifyEnvelope(evidence.response, { maxClockSkewMs: Number.POSITIVE_INFINITY })
      assert.equal(answer.from, cheater.address, 'the leaf answer in the evidence is not signed by the cheater')
      const body = answer.body as { cycle: number; root: Uint8Array | string; index: number }
      assert.equal(body.cycle, Number(audit.cycle))
      assert.equal(body.index, evidence.index)
    } else {
      assert.ok(evidence.request instanceof Uint8Array, 'no-answer evidence without the signed request')
      const request = await verifyEnvelope(evidence.request, { maxClockSkewMs: Number.POSITIVE_INFINITY })
      assert.equal(request.from, accuser.address, 'the unanswered request is not signed by the auditor')
    }
    const others = sensorAudits.filter((entry) => !entry.upheld).map((entry) => `#${entry.auditId} ${entry.status} vs ${devnet.nodes.find((node) => node.address === entry.accused)?.name}`)
    t.diagnostic(`sensor-log: ${upheld.length} upheld leaf-sampling audit(s) of ${sensorAudits.length} (others: ${others.join(', ') || 'none'}); evidence ${String(evidence.type)} (index ${String(evidence.index)})`)
  } finally {
    await devnet.stop()
  }
  t.diagnostic(`devnet ran ${Math.round((Date.now() - started) / 1000)} s`)
  t.diagnostic(lines.filter((line) => /^\[\d\d:\d\d\] r\d/.test(line)).slice(-6).join('\n'))

  // ── the summary ──
  assert.ok(summary.finalizedRounds >= ROUNDS, `finalizedRounds ${summary.finalizedRounds}`)
  assert.equal(summary.totals.finalizedRounds, summary.finalizedRounds)
  assert.equal(summary.nodes.length, 5)
  const byName = new Map(summary.nodes.map((node) => [node.name, node]))
  const caught = byName.get('node-3')!
  assert.equal(caught.behaviour, 'cheater')
  assert.ok(caught.convictions >= 1, 'no upheld audit against the cheater')
  assert.ok(BigInt(caught.slashed) > 0n, 'the cheater was not slashed')
  assert.ok(summary.auditsUpheld >= 1 && summary.auditsRaised >= summary.auditsUpheld)
  for (const node of summary.nodes.filter((entry) => entry.behaviour === 'honest')) {
    assert.equal(node.slashed, '0', `${node.name} (honest) was slashed`)
    assert.equal(node.convictions, 0, `${node.name} (honest) was convicted`)
    assert.ok(BigInt(node.rewards) > 0n, `${node.name} (honest) earned no rewards`)
    assert.ok(node.claimedCycles > 0)
    assert.ok(node.submissions >= 2 * ROUNDS, `${node.name} submitted only ${node.submissions} times`)
    assert.ok(node.reputation > caught.reputation, `${node.name} reputation ${node.reputation} ≤ the cheater's ${caught.reputation}`)
    assert.ok(BigInt(node.stake) > BigInt(caught.stake))
  }
  for (const field of ['stake', 'rewards', 'slashed'] as const) assert.match(caught[field], /^\d+$/)
  // Progress lines were printed for each round, with the phases and counters.
  assert.ok(lines.some((line) => /^dashboard http:\/\/127\.0\.0\.1:\d+\/$/.test(line.replace(/\s+/, ' '))), lines.join('\n'))
  assert.ok(lines.filter((line) => / r\d+ web-archive +│ work c\d+ │ submit c\d+ \d\/5/.test(line)).length >= ROUNDS)
  assert.ok(lines.some((line) => /audit #\d+ upheld \(node-3 convicted\)/.test(line)))
  if (dashboard) {
    assert.equal(dashboard.rows, 5)
    t.diagnostic(`dashboard screenshot: ${dashboard.screenshot}`)
  }
  // Nothing left running.
  assert.equal(liveNodeProcessCount(), 0)
  assert.equal(liveAnvilCount(), 0)
  passed = true
})
