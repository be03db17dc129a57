// Example task: deterministic proof-of-computation. Every cycle each node derives its own inputs
// from (taskId, cycle, node, i) and iterates sha256 over each; auditors recompute a seeded sample.
import { createHash, randomBytes } from 'node:crypto'
import {
  type Address,
  type AuditVerdict,
  type RoundInfo,
  type TaskContext,
  configInt,
  defaultDistribution,
  defineTask,
  samplePositions,
  shouldCheat,
  submissionRoot,
  toHex,
} from '@coop/sdk'

export type ComputeItem = { i: number; input: Uint8Array; output: Uint8Array }
export type ComputeSubmission = { v: 1; cycle: number; iterations: number; items: ComputeItem[] }

export type ComputeConfig = {
  /** Inputs per node per cycle. Default 64. */
  inputsPerCycle: number
  /** sha256 iterations per input. Default 2000. */
  iterations: number
  /** Items an auditor recomputes. Default 8. */
  auditSample: number
  /** Share of the items a cheater forges (0 < f ≤ 1). Default 1 (skips the work entirely). */
  cheatFraction: number
  /** Cycles of results kept in kv. Default 4. */
  keepCycles: number
}

export function computeConfig(ctx: Pick<TaskContext, 'config'>): ComputeConfig {
  const c = ctx.config
  const fraction = typeof c.cheatFraction === 'number' && c.cheatFraction > 0 && c.cheatFraction <= 1 ? c.cheatFraction : 1
  return {
    inputsPerCycle: configInt(c.inputsPerCycle, 64, 1, 4096),
    iterations: configInt(c.iterations, 2000, 1, 1_000_000),
    auditSample: configInt(c.auditSample, 8, 1, 4096),
    cheatFraction: fraction,
    keepCycles: configInt(c.keepCycles, 4, 1, 1000),
  }
}

function sha256(data: Uint8Array | string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest())
}

/** Input i of `node` for (taskId, cycle): nobody chooses their own inputs. */
export function deriveInput(taskId: bigint, cycle: number, node: Address, i: number): Uint8Array {
  return sha256(`coop.compute.input|${taskId}|${cycle}|${node.toLowerCase()}|${i}`)
}

/** The work: `iterations` rounds of sha256. */
export function iterateSha256(input: Uint8Array, iterations: number): Uint8Array {
  let digest = input
  for (let k = 0; k < iterations; k++) digest = sha256(digest)
  return digest
}

function sameBytes(a: unknown, b: Uint8Array): boolean {
  return a instanceof Uint8Array && a.byteLength === b.byteLength && a.every((byte, index) => byte === b[index])
}

const resultKey = (cycle: number) => `result/${String(cycle).padStart(12, '0')}`

async function compute(round: RoundInfo, ctx: TaskContext): Promise<ComputeItem[]> {
  const { inputsPerCycle, iterations, cheatFraction } = computeConfig(ctx)
  const cheating = shouldCheat(round, ctx)
  const forged = new Set(cheating ? samplePositions(toHex(randomBytes(32)), Math.ceil(inputsPerCycle * cheatFraction), inputsPerCycle) : [])
  const items: ComputeItem[] = []
  for (let i = 0; i < inputsPerCycle; i++) {
    const input = deriveInput(round.taskId, round.cycle, ctx.address, i)
    // A cheater claims outputs without computing them.
    const output = forged.has(i) ? new Uint8Array(randomBytes(32)) : iterateSha256(input, iterations)
    items.push({ i, input, output })
  }
  return items
}

export default defineTask<ComputeSubmission>({
  name: 'compute',

  async work(round, ctx) {
    const items = await compute(round, ctx)
    await ctx.kv.put(resultKey(round.cycle), items)
    const { keepCycles } = computeConfig(ctx)
    for (const key of await ctx.kv.list('result/')) {
      if (Number(key.slice('result/'.length)) < round.cycle - keepCycles) await ctx.kv.delete(key)
    }
    ctx.log.info('computed', { cycle: round.cycle, items: items.length })
  },

  async submission(round, ctx) {
    const { iterations } = computeConfig(ctx)
    // A node that missed the work (e.g. restarted) does it now rather than submit nothing.
    const items = ((await ctx.kv.get(resultKey(round.cycle))) as ComputeItem[] | undefined) ?? (await compute(round, ctx))
    return { v: 1, cycle: round.cycle, iterations, items }
  },

  async audit(submission, round, submitter, ctx): Promise<AuditVerdict> {
    const { inputsPerCycle, iterations, auditSample } = computeConfig(ctx)
    const s = submission as Partial<ComputeSubmission> | null
    if (!s || typeof s !== 'object' || s.v !== 1 || !Array.isArray(s.items)) return { ok: false, reason: 'malformed submission' }
    if (s.cycle !== round.cycle) return { ok: false, reason: 'wrong cycle', evidence: { claimed: s.cycle, expected: round.cycle } }
    if (s.iterations !== iterations) return { ok: false, reason: 'wrong iteration count', evidence: { claimed: s.iterations, expected: iterations } }
    if (s.items.length !== inputsPerCycle) {
      return { ok: false, reason: 'wrong number of items', evidence: { claimed: s.items.length, expected: inputsPerCycle } }
    }
    // Inputs are cheap to check: all of them.
    for (const [index, item] of s.items.entries()) {
      const expected = deriveInput(round.taskId, round.cycle, submitter, index)
      if (!item || item.i !== index || !sameBytes(item.input, expected) || !(item.output instanceof Uint8Array) || item.output.byteLength !== 32) {
        return { ok: false, reason: 'item does not match its derived input', evidence: { i: index } }
      }
    }
    // Outputs are expensive: recompute a sample drawn from the cycle seed (or, offline, from the root).
    const seed = round.seed ?? submissionRoot(submission).digest
    for (const i of samplePositions(seed, auditSample, inputsPerCycle, submitter.toLowerCase())) {
      const item = s.items[i] as ComputeItem
      const expected = iterateSha256(item.input, iterations)
      if (!sameBytes(item.output, expected)) {
        return {
          ok: false,
          reason: 'output mismatch',
          evidence: { cycle: round.cycle, i, input: toHex(item.input), claimed: toHex(item.output), expected: toHex(expected) },
        }
      }
    }
    return { ok: true }
  },

  async distribution(submitters, bounty) {
    return defaultDistribution(submitters, bounty)
  },

  routes: {
    /** GET status: the cycles this node holds results for. */
    async status(_request, ctx) {
      const cycles = (await ctx.kv.list('result/')).map((key) => Number(key.slice('result/'.length)))
      return { address: ctx.address, cycles, config: computeConfig(ctx) }
    },
  },
})
