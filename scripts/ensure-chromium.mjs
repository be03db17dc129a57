#!/usr/bin/env node
// The dashboard is tested in a real headless Chromium (Debian's package: playwright must never
// download a browser). `npm test` runs this first: if the browser is missing and we may install
// Debian packages (root with apt-get), install it; otherwise say exactly what to do.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const browser = process.env.COOP_CHROMIUM ?? '/usr/bin/chromium'
if (existsSync(browser)) process.exit(0)

const canInstall = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get') && !process.env.COOP_CHROMIUM
if (!canInstall) {
  console.error(
    `ensure-chromium: ${browser} is missing. Install Debian's Chromium (sudo apt-get update && sudo apt-get install -y chromium)` +
      ' or point COOP_CHROMIUM at a Chromium binary, then run the tests again.',
  )
  process.exit(1)
}
console.error(`ensure-chromium: ${browser} is missing; installing Debian's chromium package`)
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
for (const args of [['update'], ['install', '-y', 'chromium']]) {
  const run = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env })
  if (run.status !== 0) {
    console.error(`ensure-chromium: apt-get ${args.join(' ')} failed (exit ${run.status}); install chromium by hand`)
    process.exit(1)
  }
}
if (!existsSync(browser)) {
  console.error(`ensure-chromium: chromium installed but ${browser} does not exist; set COOP_CHROMIUM`)
  process.exit(1)
}
