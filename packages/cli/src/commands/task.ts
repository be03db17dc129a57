// coop task create | fund | status | stop
import { existsSync, readFileSync, statSync } from 'node:fs'
import { resolve } from 'node:path'

import { getCycle, taskParams, type Cycle, type TaskParams } from '@coop/chain'
import { getAddress, isAddress, type Address, type Hex } from 'viem'

import { bigintValue, intValue, requireString, stringValue, type Command, type CommandContext, type OptionSpec } from '../args.ts'
import { parseAmount, formatAmount } from '../amounts.ts'
import { cidDigest, rawCid, rawCidFromDigest } from '../cid.ts'
import { chainContext, chainOptions, jsonOption, loadTask, signerContext, signerOptions, type ChainContext } from '../context.ts'
import { devnetAmounts, devnetTiming } from '../devnet/params.ts'
import { CliError, toCliError } from '../errors.ts'
import { currentRoundAt, cyclePhaseName } from '../phase.ts'
import { ensureAllowance, toJson, tokenInfo } from '../tx.ts'

export const taskIdOption = { task: { type: 'string', placeholder: 'id', description: 'task id', required: true } } as const satisfies Record<string, OptionSpec>

export function taskIdValue(context: CommandContext, command: string): bigint {
  requireString(context.values, 'task', command, '`coop status` lists the tasks of a deployment')
  return bigintValue(context.values, 'task', command)!
}

export async function chainNow(client: ChainContext['publicClient']): Promise<bigint> {
  const block = await client.getBlock({ blockTag: 'latest' })
  const wall = BigInt(Math.floor(Date.now() / 1000))
  return block.timestamp > wall ? block.timestamp : wall
}

/** Bundles a task entry with @coop/sdk (or reads a prebuilt bundle) and returns its CID. */
export async function programFromFile(file: string): Promise<{ cid: string; digest: Hex; bytes: number }> {
  const path = resolve(file)
  if (!existsSync(path)) {
    throw new CliError(`program not found: ${path}`, { code: 'INVALID_OPTION', hint: 'pass a task entry such as tasks/compute/index.ts, or a bundle (.mjs)' })
  }
  if (/\.(ts|mts|cts)$/.test(path) || statSync(path).isDirectory()) {
    const { bundleTask } = await import('@coop/sdk')
    const bundle = await bundleTask(path)
    return { cid: bundle.cid, digest: cidDigest(bundle.cid), bytes: bundle.code.byteLength }
  }
  const bytes = readFileSync(path)
  const cid = rawCid(bytes)
  return { cid, digest: cidDigest(cid), bytes: bytes.byteLength }
}

const timingOptions = {
  'round-length': { type: 'string', placeholder: 's', description: 'round length in seconds', defaultText: String(devnetTiming.roundLength) },
  'submission-window': { type: 'string', placeholder: 's', description: 'submission window (s)', defaultText: String(devnetTiming.submissionWindow) },
  'audit-window': { type: 'string', placeholder: 's', description: 'audit window (s, > submission window)', defaultText: String(devnetTiming.auditWindow) },
  'vote-window': { type: 'string', placeholder: 's', description: 'vote window per audit (s)', defaultText: String(devnetTiming.voteWindow) },
  'distribution-window': { type: 'string', placeholder: 's', description: 'time each drawn distributor has to post (s)', defaultText: String(devnetTiming.distributionWindow) },
  'distribution-audit-window': { type: 'string', placeholder: 's', description: 'challenge period of a posted list (s)', defaultText: String(devnetTiming.distributionAuditWindow) },
  'dues-rounds': { type: 'string', placeholder: 'n', description: 'rounds a new node is audited at 100%', defaultText: String(devnetTiming.duesRounds) },
  'audit-decay': { type: 'string', placeholder: 'k', description: 'K in p = K / (K + score − dues)', defaultText: String(devnetTiming.auditDecay) },
  'audit-floor-bps': { type: 'string', placeholder: 'bps', description: 'minimum audit probability', defaultText: String(devnetTiming.auditFloorBps) },
  'auditors-per-sample': { type: 'string', placeholder: 'n', description: 'auditors assigned to a sampled submission', defaultText: String(devnetTiming.auditorsPerSample) },
  'slash-bps': { type: 'string', placeholder: 'bps', description: 'stake share slashed on an upheld audit', defaultText: String(devnetTiming.slashBps) },
  'unbonding-rounds': { type: 'string', placeholder: 'n', description: 'rounds stake stays locked (≥ 3)', defaultText: String(devnetTiming.unbondingRounds) },
} as const satisfies Record<string, OptionSpec>

export const taskCreateCommand: Command = {
  path: ['task', 'create'],
  summary: 'create a task: program, tokens, bounty and round timing',
  description:
    'Bundles the task program (or reads a bundle), records its CID on-chain, approves the reward token and escrows the bounty. ' +
    'Defaults are the devnet timing (12 s rounds); tokens default to the deployment\'s COOP (stake) and reward token.',
  options: {
    ...chainOptions,
    ...signerOptions,
    program: { type: 'string', placeholder: 'file', description: 'task entry (.ts, bundled with @coop/sdk) or a prebuilt bundle' },
    'program-cid': { type: 'string', placeholder: 'cid', description: 'program CID (bafk…) or 0x sha2-256 digest, instead of --program' },
    bounty: { type: 'string', placeholder: 'tokens', description: 'reward tokens escrowed now', defaultText: '10 × bounty per round' },
    'bounty-per-round': { type: 'string', placeholder: 'tokens', description: 'reward tokens paid out per cycle', defaultText: '1000' },
    'min-stake': { type: 'string', placeholder: 'tokens', description: 'minimum stake to submit', defaultText: '100' },
    'stake-token': { type: 'string', placeholder: '0x…', description: 'ERC-20 staked by nodes', defaultText: 'the deployment\'s COOP' },
    'reward-token': { type: 'string', placeholder: '0x…', description: 'ERC-20 paid as reward', defaultText: 'the deployment\'s reward token' },
    ...timingOptions,
    ...jsonOption,
  },
  examples: [
    'coop task create --deployment /tmp/coop-devnet/deployment.json --as creator --program tasks/compute/index.ts --bounty 5000',
    'coop task create --rpc http://127.0.0.1:8545 --key 0x… --task-manager 0x… --task-lens 0x… --stake-token 0x… --reward-token 0x… --program-cid bafkrei…',
  ],
  async run({ values, io }) {
    const name = 'coop task create'
    const programFile = stringValue(values, 'program')
    const programCidRaw = stringValue(values, 'program-cid')
    if (!programFile && !programCidRaw) {
      throw new CliError(`${name}: missing --program or --program-cid`, { code: 'MISSING_OPTION', hint: 'for example --program tasks/compute/index.ts' })
    }
    const context = signerContext(values, io, name)
    const token = (option: string, fallback: Address | undefined): Address => {
      const raw = stringValue(values, option)
      if (raw !== undefined) {
        if (!isAddress(raw)) throw new CliError(`${name}: --${option} is not an address`, { code: 'INVALID_OPTION', hint: 'pass a 0x… ERC-20 address' })
        return getAddress(raw)
      }
      if (!fallback) throw new CliError(`${name}: missing --${option}`, { code: 'MISSING_OPTION', hint: `pass --${option} 0x… or --deployment <file>` })
      return fallback
    }
    const stakeToken = token('stake-token', context.deployment?.addresses.coopToken)
    const rewardToken = token('reward-token', context.deployment?.addresses.rewardToken)
    const program = programFile ? await programFromFile(programFile) : { cid: programCidRaw!, digest: cidDigest(programCidRaw!), bytes: 0 }
    const seconds = (option: keyof typeof timingOptions, fallback: bigint) => BigInt(intValue(values, option, name, { min: 1, fallback: Number(fallback) })!)
    const small = (option: keyof typeof timingOptions, fallback: number, max: number) => intValue(values, option, name, { min: 0, max, fallback })!
    const bountyPerRound = stringValue(values, 'bounty-per-round') ? parseAmount(stringValue(values, 'bounty-per-round')!, 'bounty-per-round') : devnetAmounts.bountyPerRound
    const params: TaskParams = taskParams({
      stakeToken,
      rewardToken,
      programCid: program.digest,
      minStake: stringValue(values, 'min-stake') ? parseAmount(stringValue(values, 'min-stake')!, 'min-stake') : devnetAmounts.minStake,
      bountyPerRound,
      roundLength: seconds('round-length', devnetTiming.roundLength),
      submissionWindow: seconds('submission-window', devnetTiming.submissionWindow),
      auditWindow: seconds('audit-window', devnetTiming.auditWindow),
      voteWindow: seconds('vote-window', devnetTiming.voteWindow),
      distributionWindow: seconds('distribution-window', devnetTiming.distributionWindow),
      distributionAuditWindow: seconds('distribution-audit-window', devnetTiming.distributionAuditWindow),
      duesRounds: small('dues-rounds', devnetTiming.duesRounds, 65_535),
      auditDecay: small('audit-decay', devnetTiming.auditDecay, 65_535),
      auditFloorBps: small('audit-floor-bps', devnetTiming.auditFloorBps, 10_000),
      auditorsPerSample: small('auditors-per-sample', devnetTiming.auditorsPerSample, 255),
      slashBps: small('slash-bps', devnetTiming.slashBps, 10_000),
      unbondingRounds: small('unbonding-rounds', devnetTiming.unbondingRounds, 255),
    })
    const bounty = stringValue(values, 'bounty') ? parseAmount(stringValue(values, 'bounty')!, 'bounty') : bountyPerRound * 10n
    try {
      if (bounty > 0n) await ensureAllowance(context.client, rewardToken, context.taskManager, bounty)
      const created = await context.signer.createTask({ params, bounty })
      const result = {
        taskId: created.taskId,
        programCid: program.cid,
        programDigest: program.digest,
        startTime: created.startTime,
        funded: created.funded,
        creator: context.account,
        transaction: created.hash,
      }
      if (values.json) io.stdout.write(`${toJson(result)}\n`)
      else {
        const reward = await tokenInfo(context.client, rewardToken)
        io.stdout.write(
          `created task ${created.taskId}: program ${program.cid}${program.bytes ? ` (${program.bytes} bytes)` : ''}, ` +
            `${formatAmount(created.funded)} ${reward.symbol} escrowed, ${formatAmount(bountyPerRound)} per round, ` +
            `${params.roundLength} s rounds from ${new Date(Number(created.startTime) * 1000).toISOString()}\n` +
            `  → nodes join with \`coop stake --task ${created.taskId} --amount <tokens>\` and \`coop node start … --task ${created.taskId}\`\n`,
        )
      }
    } catch (error) {
      throw toCliError(error, { rpcUrl: context.rpcUrl })
    }
  },
}

export const taskFundCommand: Command = {
  path: ['task', 'fund'],
  summary: 'add reward tokens to a task\'s bounty escrow (anyone may fund)',
  options: { ...chainOptions, ...signerOptions, ...taskIdOption, amount: { type: 'string', placeholder: 'tokens', description: 'reward tokens to add (e.g. 5000, 0.5, 1000wei)', required: true }, ...jsonOption },
  examples: ['coop task fund --deployment deployment.json --as creator --task 1 --amount 5000'],
  async run(context) {
    const name = 'coop task fund'
    const taskId = taskIdValue(context, name)
    const amount = parseAmount(requireString(context.values, 'amount', name, 'for example --amount 5000'))
    const chain = signerContext(context.values, context.io, name)
    const task = await loadTask(chain, taskId, name)
    try {
      await ensureAllowance(chain.client, task.params.rewardToken, chain.taskManager, amount)
      const result = await chain.signer.fundTask({ taskId, amount })
      const after = await loadTask(chain, taskId, name)
      if (context.values.json) context.io.stdout.write(`${toJson({ taskId, funded: amount, escrow: after.escrow, transaction: result.hash })}\n`)
      else {
        const reward = await tokenInfo(chain.client, task.params.rewardToken)
        context.io.stdout.write(`funded task ${taskId} with ${formatAmount(amount)} ${reward.symbol}; escrow now ${formatAmount(after.escrow)} ${reward.symbol} (${after.escrow / task.params.bountyPerRound} rounds)\n`)
      }
    } catch (error) {
      throw toCliError(error, { rpcUrl: chain.rpcUrl })
    }
  },
}

export const taskStopCommand: Command = {
  path: ['task', 'stop'],
  summary: 'stop a task (creator only): no new cycle opens, cycles in flight still settle',
  options: { ...chainOptions, ...signerOptions, ...taskIdOption, ...jsonOption },
  async run(context) {
    const name = 'coop task stop'
    const taskId = taskIdValue(context, name)
    const chain = signerContext(context.values, context.io, name)
    await loadTask(chain, taskId, name)
    try {
      const result = await chain.signer.stopTask({ taskId })
      if (context.values.json) context.io.stdout.write(`${toJson({ taskId, stopped: true, transaction: result.hash })}\n`)
      else context.io.stdout.write(`stopped task ${taskId}; once its last cycles settle, the creator can take back the rest\n`)
    } catch (error) {
      throw toCliError(error, { rpcUrl: chain.rpcUrl })
    }
  },
}

export type CycleStatus = {
  cycle: bigint
  phase: string
  submitters: number
  seed: Hex | undefined
  budget: bigint
  bonus: bigint
  openAudits: number
  attempt: number
  poster: Address | undefined
  rewardTotal: bigint
  rewardClaimed: bigint
}

export async function taskStatus(chain: ChainContext, taskId: bigint, cycles: number) {
  const name = 'coop task status'
  const task = await loadTask(chain, taskId, name)
  const now = await chainNow(chain.publicClient)
  const round = currentRoundAt(task, now)
  const rows: CycleStatus[] = []
  const zero = `0x${'0'.repeat(64)}`
  for (let cycle = round; cycle >= 0n && rows.length < cycles; cycle--) {
    const state: Cycle = await getCycle(chain.publicClient, { address: chain.taskManager, taskId, cycle })
    rows.push({
      cycle,
      phase: cyclePhaseName(task, cycle, now, state),
      submitters: state.submitters.length,
      seed: state.seed === zero ? undefined : state.seed,
      budget: state.budget,
      bonus: state.bonus,
      openAudits: state.openAudits,
      attempt: state.attempt,
      poster: state.poster === '0x0000000000000000000000000000000000000000' ? undefined : state.poster,
      rewardTotal: state.rewardTotal,
      rewardClaimed: state.rewardClaimed,
    })
  }
  const { params } = task
  return {
    taskId,
    name: chain.deployment?.tasks.find((entry) => entry.taskId === taskId.toString())?.name,
    programCid: rawCidFromDigest(params.programCid),
    creator: task.creator,
    startTime: task.startTime,
    now,
    round,
    stopped: task.stopped,
    escrow: task.escrow,
    slashPool: task.slashPool,
    cyclesInFlight: task.cyclesInFlight,
    params,
    cycles: rows,
  }
}

export const taskStatusCommand: Command = {
  path: ['task', 'status'],
  summary: 'a task\'s parameters, escrow, current round and its latest cycles',
  options: {
    ...chainOptions,
    ...taskIdOption,
    cycles: { type: 'string', placeholder: 'n', description: 'how many recent cycles to show', defaultText: '6' },
    ...jsonOption,
  },
  examples: ['coop task status --deployment deployment.json --task 1'],
  async run(context) {
    const name = 'coop task status'
    const taskId = taskIdValue(context, name)
    const count = intValue(context.values, 'cycles', name, { min: 1, max: 1000, fallback: 6 })!
    const chain = chainContext(context.values, context.io, name)
    let status: Awaited<ReturnType<typeof taskStatus>>
    try {
      status = await taskStatus(chain, taskId, count)
    } catch (error) {
      throw toCliError(error, { rpcUrl: chain.rpcUrl })
    }
    if (context.values.json) {
      context.io.stdout.write(`${toJson(status)}\n`)
      return
    }
    const [reward, stake] = await Promise.all([tokenInfo(chain.publicClient as never, status.params.rewardToken), tokenInfo(chain.publicClient as never, status.params.stakeToken)])
    const p = status.params
    const out = [
      `task ${status.taskId}${status.name ? ` (${status.name})` : ''}: program ${status.programCid}`,
      `  creator ${status.creator}, started ${new Date(Number(status.startTime) * 1000).toISOString()}${status.stopped ? ', STOPPED' : ''}`,
      `  round ${status.round} · escrow ${formatAmount(status.escrow)} ${reward.symbol} (${status.escrow / p.bountyPerRound} rounds) · slash pool ${formatAmount(status.slashPool)} ${stake.symbol} · cycles in flight ${status.cyclesInFlight}`,
      `  min stake ${formatAmount(p.minStake)} ${stake.symbol} · bounty ${formatAmount(p.bountyPerRound)} ${reward.symbol}/round · round ${p.roundLength} s: submit ${p.submissionWindow} s, audit ${p.auditWindow} s, vote ${p.voteWindow} s, distribute ${p.distributionWindow} s, challenge ${p.distributionAuditWindow} s`,
      `  dues ${p.duesRounds} rounds · audit decay ${p.auditDecay} · floor ${p.auditFloorBps / 100}% · ${p.auditorsPerSample} auditors/sample · slash ${p.slashBps / 100}% · unbonding ${p.unbondingRounds} rounds`,
      '',
      `  ${'cycle'.padEnd(7)}${'phase'.padEnd(14)}${'submitters'.padEnd(12)}${'audits open'.padEnd(13)}${'distribution'}`,
      ...status.cycles.map(
        (row) =>
          `  ${String(row.cycle).padEnd(7)}${row.phase.padEnd(14)}${String(row.submitters).padEnd(12)}${String(row.openAudits).padEnd(13)}` +
          (row.poster ? `posted by ${row.poster} (attempt ${row.attempt}), ${formatAmount(row.rewardTotal)} ${reward.symbol}, claimed ${formatAmount(row.rewardClaimed)}` : row.budget > 0n ? `budget ${formatAmount(row.budget)} ${reward.symbol}` : '-'),
      ),
    ]
    context.io.stdout.write(`${out.join('\n')}\n`)
  },
}
