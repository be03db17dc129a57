// Shared setup of the dashboard tests: a chain view of a devnet scenario, the API serving public/,
// and a page in headless Chromium that records console errors.
//
// Needs Debian's chromium at /usr/bin/chromium (`apt-get install -y chromium`; COOP_CHROMIUM
// overrides the path); `npm test` installs it first through scripts/ensure-chromium.mjs, and the
// tests fail (never skip) without it.
import assert from 'node:assert/strict'
import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import { createCoopPublicClient, type Anvil, type CoopAddresses } from '@coop/chain'
import { chromium, type Browser, type Page } from 'playwright-core'

import { createApiServer, createChainView, type ApiServer, type ChainView } from '../../node/src/api/index.ts'
import { dashboardDir } from '../src/index.ts'

const CHROMIUM = process.env.COOP_CHROMIUM ?? '/usr/bin/chromium'
const artifacts = fileURLToPath(new URL('./artifacts/', import.meta.url))

export type DashboardHarness = {
  view: ChainView
  api: ApiServer
  page: Page
  /** Console errors and uncaught page errors seen so far. */
  problems: string[]
  /** Writes test/artifacts/<name>.png (full page) and asserts the page logged no errors. */
  screenshotClean(name: string): Promise<void>
  /** Closes the browser, the API and the view (not the devnet). */
  stop(): Promise<void>
}

export async function openDashboard(net: { anvil: Anvil; addresses: CoopAddresses; names: Record<string, string> }): Promise<DashboardHarness> {
  // Never skip silently.
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run \`node scripts/ensure-chromium.mjs\` or \`apt-get install -y chromium\``)
  }
  const view = createChainView({ client: createCoopPublicClient({ rpcUrl: net.anvil.rpcUrl }), addresses: net.addresses, names: net.names, pollIntervalMs: 100 })
  let api: ApiServer | undefined
  let browser: Browser | undefined
  const stop = async () => {
    await browser?.close()
    await api?.close()
    await view.stop()
  }
  try {
    await view.sync()
    void view.start()
    api = await createApiServer({ view, dashboardDir, name: 'devnet' })
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
    })
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, deviceScaleFactor: 1 })
    const problems: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`)
    })
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
    return {
      view,
      api,
      page,
      problems,
      async screenshotClean(name) {
        mkdirSync(artifacts, { recursive: true })
        await page.screenshot({ path: `${artifacts}${name}.png`, fullPage: true })
        assert.deepEqual(problems.slice(0, 3), [], `${problems.length} console errors`)
      },
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}
