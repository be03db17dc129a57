// Audit replication (issue 4): the fraction of work that auditors re-execute at steady state with
// 5 % cheating nodes, and how many rounds it takes to catch a cheater. A simulation driven by the
// real protocol rules of @coop/protocol (auditProbabilityBps, sampleDraw/isSampled, auditorIndices),
// fixed seeds, no network. Writes bench/results/scale.audit.{reexecution,caught3}.json.
//
// Model (DESIGN.md "Benchmark definitions", Audit re-execution):
// - N nodes, 5 % of them cheaters (chosen per seed), all submit every round; each submission is the
//   root of W work items (leaves). Everybody starts at score 0 in round 0.
// - Round r of seed s has the on-chain seed keccak256(abi.encode("coop.bench.audit", s, r)). A
//   submission is sampled iff isSampled(seed, task, r, node, auditProbabilityBps(score, dues,
//   floor, decay)); isSampled is `sampleDraw(…) < p`, so the draw is computed once per
//   (seed, round, node) and shared by every scheme and every f (common random numbers; the cheater
//   draws are re-checked against isSampled itself).
// - A sampled submission is fisherman-audited by the auditorIndices(seed, task, r, i, A, N)
//   submitters; each re-executes k leaves at positions drawn from the round seed (mulberry32
//   seeded with keccak of seed, submitter, auditor). Cost counted: A·k work units per sampled
//   submission, whoever the auditors are.
// - Cheaters work honestly (building reputation) until a first-cheat round drawn uniformly from
//   [dues, dues + CHEAT_START_SPREAD]; from then on each round they forge a fraction f of their
//   leaves (a fresh random subset of exactly round(f·W) leaves; the subsets are nested across f).
//   A cheater auditing another cheater stays silent (collusion); an honest auditor raises an audit
//   when one of its k leaves is forged, and the audit is upheld.
// - Upheld → score reset to 0 (back to 100 % sampling while paying dues), as in TaskManager; the
//   cheater stays and keeps forging (the most expensive case for the audit budget). Every round a
//   node is not convicted its score grows by 1 (reputation = rounds passed).
// - Re-execution = units re-executed by all auditors ÷ units done by all nodes, rounds r ≥ dues.
//   Rounds to catch = catch round − first-cheat round + 1 (caught in the first forged round = 1).
//   A cheater not caught by the last round counts as not caught in every window.
// - Baseline for `caught3`: a reputation-free scheme with the same average audit budget: every
//   submission sampled uniformly at p_u = measured re-execution · W / (A·k) (same A, k, draws,
//   forged leaves and auditor positions), no dues, no score.
//
// Parameters and why: a cheater with any history sits at the floor, so the per-round catch chance is
// at most floor · (1 − (1 − f)^(A·k)); ≥ 99 % within 3 rounds needs that ≥ 1 − 0.01^(1/3) = 78.5 %,
// so the floor must be ≥ ~80 % whatever the rest is (the sweep in params shows the devnet's 20 %
// floor catching far fewer). Fisherman audits are cheap (k of W leaves), so a high sampling floor
// costs little: floor 85 %, A = 2, k = 25 gives 1 − 0.75^50 ≈ 1 per sample at f = 25 %
// (1 − 0.9^50 = 99.5 % at f = 10 %) for ≈ 0.85·50/1000 ≈ 4–5 % re-execution. dues 3, decay 2 are the
// devnet's (decay 2 reaches the floor one round after dues).
//
// What it shows: since cheaters build reputation first, they sit at the floor like every honest
// node, so reputation buys no catch rate over uniform sampling at the same budget (caught3 ratio ≈ 1);
// what it buys is the cost side: fresh and convicted nodes pay 100 % while long-standing ones pay the
// floor, and with fisherman audits (k of W leaves) the floor costs ≈ 4 % re-execution, not 85 %.
import { join } from 'node:path'
import { machineFacts, writeBenchResult } from './results-file.ts'

import { auditorIndices, auditProbabilityBps, isSampled, sampleDraw } from '@coop/protocol'
import { encodeAbiParameters, getAddress, keccak256, stringToHex, type Address, type Hex } from 'viem'

const NODES = 200
const CHEATER_SHARE = 0.05
const LEAVES = 1000 // W
const ROUNDS = 28
const SEEDS = 200
const TASK_ID = 1n
const DUES = 3n
const DECAY = 2n
const FLOOR_BPS = 8500n
const AUDITORS = 2 // A, auditorsPerSample
const LEAVES_PER_AUDIT = 25 // k
const CHEAT_START_SPREAD = 12 // first cheat uniform in [dues, dues + 12]; ≥ 13 rounds left to catch
const FRACTIONS = [0.1, 0.25, 0.5, 1.0]
const HEADLINE_F = 0.25
const SWEEP_FLOORS = [2000n, 5000n, 7000n, 8000n, 8500n, 9000n]

const cheaterCount = Math.round(NODES * CHEATER_SHARE)
const addresses: Address[] = Array.from({ length: NODES }, (_, i) => getAddress(keccak256(stringToHex(`coop bench audit node ${i}`)).slice(0, 42)))

function mulberry32(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const seed32 = (hex: Hex) => Number.parseInt(hex.slice(2, 10), 16)
const roundSeed = (s: number, r: number): Hex =>
  keccak256(encodeAbiParameters([{ type: 'string' }, { type: 'uint256' }, { type: 'uint256' }], ['coop.bench.audit', BigInt(s), BigInt(r)]))

/** Everything random about one seed, independent of the scheme and of f. */
type World = {
  seeds: Hex[] // [round]
  draws: Uint16Array[] // [round][node] = sampleDraw
  cheaters: number[]
  isCheater: Uint8Array
  firstCheat: Map<number, number>
  /** per (round, cheater): auditors, each auditor's k leaf positions, and the leaf ranks (forged iff rank < f·W) */
  cheaterAudit: Map<string, { auditors: number[]; positions: number[][]; rank: Uint16Array }>
}

function buildWorld(s: number): World {
  const rng = mulberry32(seed32(keccak256(stringToHex(`coop bench audit world ${s}`))))
  const order = Array.from({ length: NODES }, (_, i) => i)
  for (let i = NODES - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  const cheaters = order.slice(0, cheaterCount).sort((a, b) => a - b)
  const isCheater = new Uint8Array(NODES)
  const firstCheat = new Map<number, number>()
  for (const c of cheaters) {
    isCheater[c] = 1
    firstCheat.set(c, Number(DUES) + Math.floor(rng() * (CHEAT_START_SPREAD + 1)))
  }
  const draws: Uint16Array[] = []
  const seeds: Hex[] = []
  const cheaterAudit: World['cheaterAudit'] = new Map()
  for (let r = 0; r < ROUNDS; r++) {
    const seed = roundSeed(s, r)
    seeds.push(seed)
    const row = new Uint16Array(NODES)
    for (let i = 0; i < NODES; i++) row[i] = Number(sampleDraw(seed, TASK_ID, BigInt(r), addresses[i]!))
    draws.push(row)
    for (const c of cheaters) {
      if (r < firstCheat.get(c)!) continue
      const auditors = auditorIndices(seed, TASK_ID, BigInt(r), BigInt(c), BigInt(AUDITORS), BigInt(NODES)).map(Number)
      const positions = auditors.map((a) => {
        const pr = mulberry32(seed32(keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint256' }, { type: 'uint256' }], [seed, BigInt(c), BigInt(a)]))))
        return Array.from({ length: LEAVES_PER_AUDIT }, () => Math.floor(pr() * LEAVES))
      })
      // A random permutation of the leaves: the forged set for fraction f is the leaves ranked < f·W.
      const fr = mulberry32(seed32(keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint256' }, { type: 'string' }], [seed, BigInt(c), 'forge']))))
      const perm = Array.from({ length: LEAVES }, (_, i) => i)
      for (let i = LEAVES - 1; i > 0; i--) {
        const j = Math.floor(fr() * (i + 1))
        ;[perm[i], perm[j]] = [perm[j]!, perm[i]!]
      }
      const rank = new Uint16Array(LEAVES)
      perm.forEach((leaf, i) => (rank[leaf] = i))
      cheaterAudit.set(`${r}:${c}`, { auditors, positions, rank })
    }
  }
  return { seeds, draws, cheaters, isCheater, firstCheat, cheaterAudit }
}

type Scheme = { kind: 'reputation'; floorBps: bigint } | { kind: 'uniform'; pBps: bigint }
type RunResult = { reexecuted: number; work: number; roundsToCatch: (number | null)[] }

const probCache = new Map<string, bigint>()
function probability(scheme: Scheme, score: number): bigint {
  if (scheme.kind === 'uniform') return scheme.pBps
  const key = `${scheme.floorBps}:${score}`
  let p = probCache.get(key)
  if (p === undefined) probCache.set(key, (p = auditProbabilityBps(BigInt(score), DUES, scheme.floorBps, DECAY)))
  return p
}

function run(world: World, scheme: Scheme, f: number): RunResult {
  const score = new Array<number>(NODES).fill(0)
  const caughtAt = new Map<number, number>()
  const forgedCount = Math.round(f * LEAVES)
  let reexecuted = 0
  let work = 0
  for (let r = 0; r < ROUNDS; r++) {
    const row = world.draws[r]!
    for (let i = 0; i < NODES; i++) {
      const p = probability(scheme, score[i]!)
      const sampled = row[i]! < Number(p)
      if (r >= Number(DUES)) {
        work += LEAVES
        if (sampled) reexecuted += AUDITORS * LEAVES_PER_AUDIT
      }
      let convicted = false
      if (world.isCheater[i] && r >= world.firstCheat.get(i)!) {
        // The cheater path goes through isSampled itself (same draw, same answer).
        if (isSampled(world.seeds[r]!, TASK_ID, BigInt(r), addresses[i]!, p) !== sampled) throw new Error('isSampled disagrees with sampleDraw')
        if (sampled) {
          const audit = world.cheaterAudit.get(`${r}:${i}`)!
          convicted = audit.auditors.some((a, j) => !world.isCheater[a] && audit.positions[j]!.some((leaf) => audit.rank[leaf]! < forgedCount))
        }
      }
      if (convicted) {
        score[i] = 0
        if (!caughtAt.has(i)) caughtAt.set(i, r)
      } else score[i]! += 1
    }
  }
  const roundsToCatch = world.cheaters.map((c) => (caughtAt.has(c) ? caughtAt.get(c)! - world.firstCheat.get(c)! + 1 : null))
  return { reexecuted, work, roundsToCatch }
}

type Summary = {
  f: number; reexecution: number; caughtWithin1: number; caughtWithin2: number; caughtWithin3: number; neverCaught: number
  roundsToCatch: { mean: number; p50: number; p95: number; max: number }; histogram: Record<string, number>
  perSeedCaught3: { min: number; p5: number; p50: number; seedsBelow99: number }; cheaters: number
}
const round4 = (x: number) => Math.round(x * 10000) / 10000
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!

function summarize(f: number, results: RunResult[]): Summary {
  const all = results.flatMap((r) => r.roundsToCatch)
  const caught = all.filter((x): x is number => x !== null).sort((a, b) => a - b)
  const within = (n: number) => all.filter((x) => x !== null && x <= n).length / all.length
  const histogram: Record<string, number> = { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0, '6+': 0, never: 0 }
  for (const x of all) histogram[x === null ? 'never' : x >= 6 ? '6+' : String(x)]! += 1
  const perSeed = results.map((r) => r.roundsToCatch.filter((x) => x !== null && x <= 3).length / r.roundsToCatch.length).sort((a, b) => a - b)
  return {
    f, cheaters: all.length,
    reexecution: round4(results.reduce((a, r) => a + r.reexecuted, 0) / results.reduce((a, r) => a + r.work, 0)),
    caughtWithin1: round4(within(1)), caughtWithin2: round4(within(2)), caughtWithin3: round4(within(3)), neverCaught: all.length - caught.length,
    roundsToCatch: caught.length === 0 ? { mean: NaN, p50: NaN, p95: NaN, max: NaN } : {
      mean: round4(caught.reduce((a, b) => a + b, 0) / caught.length), p50: quantile(caught, 0.5), p95: quantile(caught, 0.95), max: caught[caught.length - 1]!,
    },
    histogram,
    perSeedCaught3: { min: round4(perSeed[0]!), p5: round4(quantile(perSeed, 0.05)), p50: round4(quantile(perSeed, 0.5)), seedsBelow99: perSeed.filter((x) => x < 0.99).length },
  }
}

async function main() {
  const started = performance.now()
  const worlds: World[] = []
  for (let s = 0; s < SEEDS; s++) worlds.push(buildWorld(s))
  const built = performance.now()

  const ours = FRACTIONS.map((f) => summarize(f, worlds.map((w) => run(w, { kind: 'reputation', floorBps: FLOOR_BPS }, f))))
  // Uniform baseline at each f's own measured budget: p_u = reexecution · W / (A·k).
  const uniformBps = (reexecution: number) => BigInt(Math.min(10000, Math.round((reexecution * LEAVES) / (AUDITORS * LEAVES_PER_AUDIT) * 10000)))
  const uniform = ours.map((o) => {
    const pBps = uniformBps(o.reexecution)
    return { ...summarize(o.f, worlds.map((w) => run(w, { kind: 'uniform', pBps }, o.f))), pBps: Number(pBps) }
  })
  const sweep = SWEEP_FLOORS.map((floorBps) => {
    const sm = summarize(HEADLINE_F, worlds.map((w) => run(w, { kind: 'reputation', floorBps }, HEADLINE_F)))
    return { floorBps: Number(floorBps), reexecution: sm.reexecution, caughtWithin3: sm.caughtWithin3, meanRoundsToCatch: sm.roundsToCatch.mean }
  })
  const seconds = (performance.now() - started) / 1000

  const pct = (x: number) => `${(x * 100).toFixed(2)}%`.padStart(8)
  console.log(`audit replication: ${NODES} nodes (${cheaterCount} cheaters), W=${LEAVES} leaves, ${ROUNDS} rounds, ${SEEDS} seeds; dues ${DUES}, decay ${DECAY}, floor ${Number(FLOOR_BPS) / 100}%, A=${AUDITORS}, k=${LEAVES_PER_AUDIT}`)
  console.log(`scheme     f     re-exec  vs full  caught≤1 caught≤2 caught≤3  mean  p50 p95 max never  seeds<99%`)
  for (const [name, rows] of [['ours', ours], ['uniform', uniform]] as const) {
    for (const o of rows) {
      console.log(`${name.padEnd(8)} ${String(o.f * 100).padStart(4)}% ${pct(o.reexecution)} ${(1 / o.reexecution).toFixed(1).padStart(6)}x ${pct(o.caughtWithin1)} ${pct(o.caughtWithin2)} ${pct(o.caughtWithin3)} ${o.roundsToCatch.mean.toFixed(2).padStart(5)} ${String(o.roundsToCatch.p50).padStart(4)} ${String(o.roundsToCatch.p95).padStart(3)} ${String(o.roundsToCatch.max).padStart(3)} ${String(o.neverCaught).padStart(5)} ${String(o.perSeedCaught3.seedsBelow99).padStart(5)}/${SEEDS}`)
    }
  }
  console.log(`floor sweep at f=25%: ${sweep.map((x) => `${x.floorBps / 100}% → re-exec ${pct(x.reexecution).trim()}, caught≤3 ${pct(x.caughtWithin3).trim()}`).join('; ')}`)
  console.log(`(${seconds.toFixed(1)} s: worlds ${((built - started) / 1000).toFixed(1)} s)`)

  const headline = ours.find((o) => o.f === HEADLINE_F)!
  const baseline = uniform.find((o) => o.f === HEADLINE_F)!
  const machine = machineFacts()
  const params = {
    model: 'simulation with @coop/protocol auditProbabilityBps / sampleDraw+isSampled / auditorIndices; see the header of bench/scale-audit.ts',
    nodes: NODES, cheaters: cheaterCount, leavesPerRound: LEAVES, rounds: ROUNDS, seeds: { count: SEEDS, range: `0..${SEEDS - 1}` }, taskId: String(TASK_ID),
    duesRounds: Number(DUES), decay: Number(DECAY), auditFloorBps: Number(FLOOR_BPS), auditorsPerSample: AUDITORS, leavesPerAuditor: LEAVES_PER_AUDIT,
    firstCheatRound: `uniform in [${DUES}, ${Number(DUES) + CHEAT_START_SPREAD}]`, headlineF: HEADLINE_F,
    colluding: 'cheaters never report cheaters they audit', afterConviction: 'score 0 (dues again), keeps forging',
    perF: ours, uniformBaselinePerF: uniform, floorSweepAtHeadlineF: sweep, seconds: Math.round(seconds * 10) / 10, machine,
  }
  const measuredAt = new Date().toISOString()
  const files = [
    {
      id: 'scale.audit.reexecution', metric: `work units re-executed by auditors ÷ work units done, rounds after dues, 5% cheaters forging f=${HEADLINE_F * 100}%`, unit: 'fraction',
      ours: headline.reexecution, baseline: 1.0, baselineName: 'full audit (every item re-executed once)',
      ratio: Math.round((1.0 / headline.reexecution) * 1000) / 1000, better: 'lower', params, measuredAt,
    },
    {
      id: 'scale.audit.caught3', metric: `fraction of cheaters (forging f=${HEADLINE_F * 100}%) caught within 3 rounds of their first cheat`, unit: 'fraction',
      ours: headline.caughtWithin3, baseline: baseline.caughtWithin3,
      baselineName: `reputation-free uniform sampling at the same audit budget (p=${baseline.pBps / 100}% of submissions, same A and k), same run`,
      ratio: Math.round((headline.caughtWithin3 / baseline.caughtWithin3) * 1000) / 1000, better: 'higher', params, measuredAt,
    },
  ]
  for (const file of files) {
    writeBenchResult(file)
    console.log(`${file.id.padEnd(24)} ours ${file.ours}   baseline ${file.baseline} (${file.baselineName})   ratio ${file.ratio} (${file.better} is better)`)
  }
}

await main()
