#!/usr/bin/env node
// Runs the forge binary that ships in the npm package @foundry-rs/forge-<platform>, from this
// folder, so `npm run build|test -w contracts` works on a fresh clone without a foundry install.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const platform = `${process.platform}-${process.arch === 'x64' ? 'amd64' : process.arch}`
const forge = join(dirname(require.resolve(`@foundry-rs/forge-${platform}/package.json`)), 'bin', 'forge')
const contractsDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const result = spawnSync(forge, process.argv.slice(2), { cwd: contractsDir, stdio: 'inherit' })
if (result.error) throw result.error
process.exit(result.status ?? 1)
