// src/ holds pure rules only: no IO, no clocks, no randomness. A static scan keeps it that way.

import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'

const SRC_DIR = join(import.meta.dirname, '..', 'src')

const FORBIDDEN: Array<[RegExp, string]> = [
  [/from ['"]node:/, 'a Node built-in import'],
  [/\brequire\(/, 'require()'],
  [/\bprocess\./, 'process'],
  [/\bMath\.random\b/, 'Math.random'],
  [/\bDate\b/, 'Date'],
  [/\bperformance\./, 'performance'],
  [/\bcrypto\./, 'crypto'],
  [/\bfetch\(/, 'fetch'],
  [/\bconsole\./, 'console'],
  [/\bsetTimeout\b|\bsetInterval\b/, 'timers'],
]

test('src/ has no IO, clocks or randomness', () => {
  const files = readdirSync(SRC_DIR).filter((name) => name.endsWith('.ts'))
  assert.ok(files.length >= 10)
  for (const name of files) {
    const source = readFileSync(join(SRC_DIR, name), 'utf8')
    for (const [pattern, what] of FORBIDDEN) assert.doesNotMatch(source, pattern, `${name} uses ${what}`)
  }
})
