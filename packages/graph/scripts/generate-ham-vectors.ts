// Writes packages/protocol/vectors/ham.json: HAM cases whose outcomes come from running gun itself
// (npm gun 0.2020.1241, gun.js core, no peers), not from our implementation. Run:
//   node_modules/.bin/node --import tsx packages/graph/scripts/generate-ham-vectors.ts [--out file]
// For every case a gun root gets the current key planted in its in-memory graph, its clock (Date) is
// pinned to the machine state, and the incoming key arrives as a wire put (`root.on('in', {put})`).
// The outcome is read off gun: the graph took the incoming value ("apply"), gun scheduled its
// deferred re-run of `ham()` ("defer"), or neither ("skip": historical or a lost/same tie).
// Message ids end in "-": gun tracks the id of each applied key as `<message id><counter>`, so
// "put-30" + "0" would collide with a later message "put-300" and drop it as a duplicate.
// The test packages/graph/test/ham-vectors.test.ts replays every case through our `ham`.

import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'

type Value = null | string | boolean | number | { '#': string }
export type HamVector = {
  machine: number
  incomingState: number
  incomingValue: Value
  current: { state: number; value: Value } | null
  gun: 'apply' | 'defer' | 'skip'
}

// gun reads the clock as `+new Date`; pin it. Installed before gun loads.
const RealDate = Date
let fakeNow = 0
class PinnedDate extends RealDate {
  constructor(...args: unknown[]) {
    if (args.length === 0) super(fakeNow)
    else super(...(args as [number]))
  }
  static override now(): number {
    return fakeNow
  }
}
globalThis.Date = PinnedDate as DateConstructor

const realSetTimeout = globalThis.setTimeout
let deferredRuns = 0
const recordingSetTimeout = function (fn: () => void, ms?: number, ...rest: unknown[]) {
  // gun's HAM defers a future state with `setTimeout(function(){ ham(val, key, soul, state, msg) }, …)`;
  // count it instead of running it later.
  if (String(fn).includes('ham(val, key, soul, state, msg)')) {
    deferredRuns++
    return realSetTimeout(() => {}, 0)
  }
  return realSetTimeout(fn as (...args: unknown[]) => void, ms, ...(rest as []))
}
Object.assign(recordingSetTimeout, realSetTimeout)
globalThis.setTimeout = recordingSetTimeout as typeof setTimeout

const require = createRequire(import.meta.url)
const originalLog = console.log
console.log = () => {} // gun greets on load
const Gun = require('gun/gun.js')
console.log = originalLog
const gun = Gun({ peers: [], multicast: false, axe: false, localStorage: false, radisk: false, file: false })
const root = gun._ as { graph: Record<string, any>; on: (tag: string, msg: unknown) => void }

// deterministic PRNG (mulberry32)
let seed = 0x5eed4a11
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T

const VALUES: Value[] = [
  null, true, false, 0, 1, -1, 1.5, 2, 10, 1e21, 123456789, -0.25,
  '', 'a', 'b', 'A', 'Z', 'ab', 'hello', 'hello world', 'hello alice', 'hello bob', '1', '10', 'null', 'true', '"', '\\', ' ', '~', 'é', '\u00ff', '😀', '\uffff', '\u0000', 'a\nb',
  { '#': 'a' }, { '#': 'b' }, { '#': 'x/y' }, { '#': '~pub.key' },
]
const OFFSETS = [-1e9, -86_400_000, -1000, -1, -0.5, -0.001, 0, 0.001, 0.5, 1, 1000, 86_400_000, 1e9, 1e12]

let caseIndex = 0
let machine = 1_600_000_000_000
function run(incomingState: number, incomingValue: Value, current: HamVector['current'], machineNow: number): HamVector {
  const soul = `case/${caseIndex++}`
  if (current !== null) root.graph[soul] = { _: { '#': soul, '>': { k: current.state } }, k: current.value }
  fakeNow = machineNow
  const before = deferredRuns
  root.on('in', { '#': `put-${caseIndex}-`, put: { [soul]: { _: { '#': soul, '>': { k: incomingState } }, k: incomingValue } } })
  const node = root.graph[soul]
  const applied = node !== undefined && node._['>'].k === incomingState && JSON.stringify(node.k) === JSON.stringify(incomingValue) && (current === null || current.state !== incomingState || JSON.stringify(current.value) !== JSON.stringify(incomingValue))
  const outcome: HamVector['gun'] = deferredRuns > before ? 'defer' : applied ? 'apply' : 'skip'
  return { machine: machineNow, incomingState, incomingValue, current, gun: outcome }
}

const cases: HamVector[] = []
// 1. every ordered pair of values on a state tie (the lexical tie-break)
for (const a of VALUES) {
  for (const b of VALUES) {
    machine += 10_000
    cases.push(run(machine - 5, a, { state: machine - 5, value: b }, machine))
  }
}
// 2. states around the machine clock and the current state, values at random, sometimes no current
for (let i = 0; i < 1500; i++) {
  machine += 10_000 + Math.floor(random() * 1000)
  const currentState = machine + (random() < 0.8 ? pick(OFFSETS.filter((o) => o <= 0)) : pick(OFFSETS))
  const incomingState =
    random() < 0.3 ? currentState + pick([-1, -0.001, 0, 0.001, 1]) : random() < 0.5 ? machine + pick(OFFSETS) : machine + (random() - 0.5) * 2e4
  const current = random() < 0.15 ? null : { state: currentState, value: pick(VALUES) }
  cases.push(run(incomingState, pick(VALUES), current, machine))
}
// 3. the machine clock exactly at the incoming state (not deferred) and a hair below it (deferred)
for (let i = 0; i < 50; i++) {
  machine += 10_000
  cases.push(run(machine, pick(VALUES), { state: machine - 100, value: pick(VALUES) }, machine))
  machine += 10_000
  cases.push(run(machine + 0.5, pick(VALUES), { state: machine - 100, value: pick(VALUES) }, machine))
}

const outFlag = process.argv.indexOf('--out')
const out = outFlag === -1 ? join(import.meta.dirname, '..', '..', 'protocol', 'vectors', 'ham.json') : resolve(process.argv[outFlag + 1] ?? 'ham.json')
const counts = { apply: 0, defer: 0, skip: 0 }
for (const c of cases) counts[c.gun]++
const gunVersion = (require('gun/package.json') as { version: string }).version
const header = JSON.stringify({ description: 'HAM outcomes observed by running npm gun (gun.js core, Gun.on.put → ham) on each input', gun: gunVersion, counts })
writeFileSync(out, `${header.slice(0, -1)},"cases":[\n${cases.map((c) => JSON.stringify(c)).join(',\n')}\n]}\n`)
console.log(`wrote ${cases.length} cases to ${out}`, counts)
process.exit(0)
