// Our HAM against outcomes observed by running gun itself (packages/protocol/vectors/ham.json, made by
// packages/graph/scripts/generate-ham-vectors.ts from npm gun 0.2020.1241).

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { ham, HamCode, hamCode, mergeGraph, type Graph, type Value } from '@coop/protocol'

type HamVector = {
  machine: number
  incomingState: number
  incomingValue: Value
  current: { state: number; value: Value } | null
  gun: 'apply' | 'defer' | 'skip'
}

const file = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'protocol', 'vectors', 'ham.json'), 'utf8')) as {
  gun: string
  counts: Record<string, number>
  cases: HamVector[]
}

test('ham.json was made by gun 0.2020.1241 and covers every outcome', () => {
  assert.equal(file.gun, '0.2020.1241')
  assert.ok(file.cases.length >= 3000)
  for (const outcome of ['apply', 'defer', 'skip']) assert.ok((file.counts[outcome] ?? 0) >= 300, outcome)
  const ties = file.cases.filter((c) => c.current !== null && c.current.state === c.incomingState && c.incomingState <= c.machine)
  assert.ok(ties.filter((c) => c.gun === 'apply').length >= 300, 'lexical tie-break cases where the incoming value wins')
  assert.ok(ties.filter((c) => c.gun === 'skip').length >= 300, 'lexical tie-break cases where the current value stays')
})

test('ham() gives gun’s outcome on every vector', () => {
  let checked = 0
  for (const c of file.cases) {
    const outcome = ham(c.machine, c.incomingState, c.current?.state, c.incomingValue, c.current?.value)
    const ours = 'defer' in outcome ? 'defer' : 'historical' in outcome ? 'skip' : outcome.incoming ? 'apply' : 'skip'
    assert.equal(ours, c.gun, JSON.stringify(c))
    // the two historical-like outcomes are told apart by state, as gun's code does
    if (ours === 'skip' && c.current !== null) {
      assert.equal('historical' in outcome, c.incomingState < c.current.state, JSON.stringify(c))
    }
    checked++
  }
  assert.equal(checked, file.cases.length)
})

test('mergeGraph() buckets every vector the way gun treats it', () => {
  for (const c of file.cases) {
    const current: Graph = c.current === null ? {} : { s: { _: { '#': 's', '>': { k: c.current.state } }, k: c.current.value } }
    const delta = { s: { _: { '#': 's', '>': { k: c.incomingState } }, k: c.incomingValue } }
    const result = mergeGraph(current, delta, c.machine)
    const where = result.applied.s ? 'apply' : result.deferred.s ? 'defer' : 'skip'
    assert.equal(where, c.gun, JSON.stringify(c))
  }
})

test('hamCode and ham agree', () => {
  for (const c of file.cases.slice(0, 500)) {
    const code = hamCode(c.machine, c.incomingState, c.current?.state, c.incomingValue, c.current?.value)
    const outcome = ham(c.machine, c.incomingState, c.current?.state, c.incomingValue, c.current?.value)
    assert.equal(code === HamCode.defer, 'defer' in outcome)
    assert.equal(code === HamCode.historical, 'historical' in outcome)
    assert.equal(code === HamCode.takeIncoming, 'converge' in outcome && outcome.incoming)
  }
})

test('ham.json is exactly what running gun produces now (the generator is deterministic)', async () => {
  const { execFileSync } = await import('node:child_process')
  const { mkdtempSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const dir = mkdtempSync(join(tmpdir(), 'coop-ham-'))
  try {
    const out = join(dir, 'ham.json')
    execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'scripts', 'generate-ham-vectors.ts'), '--out', out], { stdio: 'ignore' })
    assert.equal(readFileSync(out, 'utf8'), readFileSync(join(import.meta.dirname, '..', '..', 'protocol', 'vectors', 'ham.json'), 'utf8'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
