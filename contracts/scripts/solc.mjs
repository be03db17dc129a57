#!/usr/bin/env node
// forge cannot download solc offline, so foundry.toml points here: a thin adapter that makes
// solc-js (npm `solc`, the official compiler built to wasm) answer the way forge expects from a
// native solc binary: `--version` in solc's format, and standard JSON in → standard JSON out.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { isAbsolute, join } from 'node:path'

const require = createRequire(import.meta.url)
const solc = require('solc')
const args = process.argv.slice(2)

if (args.includes('--version')) {
  // forge parses "Version: x.y.z+commit.<hash>.<platform>"
  const full = solc.version().replace(/\.Emscripten\.clang$/, '')
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${full}.Linux.g++\n`)
  process.exit(0)
}

const basePathIndex = args.indexOf('--base-path')
const basePath = basePathIndex >= 0 ? args[basePathIndex + 1] : process.cwd()

// forge sends every source's content inline; the callback only covers anything it left out.
function findImports(path) {
  try {
    return { contents: readFileSync(isAbsolute(path) ? path : join(basePath, path), 'utf8') }
  } catch (error) {
    return { error: `solc wrapper: cannot read ${path}: ${error.message}` }
  }
}

const chunks = []
process.stdin.on('data', (chunk) => chunks.push(chunk))
process.stdin.on('end', () => {
  const output = solc.compile(Buffer.concat(chunks).toString('utf8'), { import: findImports })
  process.stdout.write(output)
})
