// The devnet's summary: per node (summed over the devnet's tasks, with a per-task breakdown) and
// totals, from the chain view's read model (every number comes from on-chain events and state).
// Amounts are decimal strings of wei (18 decimals).
import type { Address } from 'viem'

import { formatAmount } from '../amounts.ts'
import type { ChainView, DevnetNode, DevnetTask } from './devnet.ts'

export type DevnetNodeTaskSummary = {
  taskId: string
  task: string
  stake: string
  unbonding: string
  reputation: number
  passed: number
  failed: number
  rewards: string
  bonus: string
  slashed: string
  submissions: number
  audited: number
  auditsAgainst: number
  auditsUpheld: number
  claimedCycles: number[]
  /** Audit sampling over time: per submitted cycle (ascending), whether the on-chain assignment
   * sampled it (null while the cycle's seed is not fixed yet). */
  auditTrail: { cycle: number; sampled: boolean | null }[]
}

export type DevnetNodeSummary = {
  name: string
  address: Address
  behaviour: 'honest' | 'cheater'
  cheatFromRound?: number
  /** Active stake, summed over the tasks. */
  stake: string
  /** Reputation score (rounds passed since the last conviction), summed over the tasks. */
  reputation: number
  /** Reward token claimed, summed over the tasks. */
  rewards: string
  /** Stake token claimed as distribution bonus (returned slashes). */
  bonus: string
  /** Stake lost to upheld audits. */
  slashed: string
  submissions: number
  /** How many of its submissions were sampled for audit (TaskLens.isSampled). */
  audited: number
  /** Upheld audits against it. */
  convictions: number
  /** Cycles claimed, counted over the tasks. */
  claimedCycles: number
  /** Times the devnet restarted it after it exited on its own. */
  restarts: number
  tasks: DevnetNodeTaskSummary[]
}

export type DevnetTaskSummary = {
  taskId: string
  name: string
  programCid: string
  finalizedCycles: number[]
  failedCycles: number[]
  submissions: number
  auditsRaised: number
  auditsUpheld: number
  rewardsPosted: string
  rewardsClaimed: string
}

export type DevnetSummary = {
  /** Finalized rounds asked for with --rounds (undefined: ran until stopped). */
  rounds: number | undefined
  finalizedRounds: number
  auditsRaised: number
  auditsUpheld: number
  totals: {
    finalizedRounds: number
    auditsRaised: number
    auditsUpheld: number
    submissions: number
    slashes: number
    slashed: string
    rewards: string
  }
  nodes: DevnetNodeSummary[]
  tasks: DevnetTaskSummary[]
  durationSeconds: number
  rpcUrl: string
  dashboardUrl: string | undefined
  /** Present when the data dir is kept. */
  dataDir: string | undefined
  interrupted?: boolean
}

export function buildSummary(input: {
  view: ChainView
  tasks: DevnetTask[]
  nodes: DevnetNode[]
  restarts: Map<string, number>
  requestedRounds: number | undefined
  finalizedRounds: number
  startedAt: number
  rpcUrl: string
  dashboardUrl: string | undefined
  dataDir: string | undefined
  /** Claimed cycles per `${taskId}:${lowercase address}` (RewardClaimed logs). */
  claimed?: Map<string, number[]>
}): DevnetSummary {
  const { view, tasks, nodes } = input
  const taskSummaries: DevnetTaskSummary[] = []
  const trails = new Map<string, { cycle: number; sampled: boolean | null }[]>()
  const claimedCycles = input.claimed ?? new Map<string, number[]>()
  let auditsRaised = 0
  let auditsUpheld = 0
  let slashes = 0
  for (const task of tasks) {
    const rounds = view.rounds(task.taskId, { limit: 100_000 })
    const audits = view.audits(task.taskId)
    auditsRaised += audits.length
    auditsUpheld += audits.filter((audit) => audit.upheld).length
    slashes += audits.filter((audit) => audit.slashed !== null).length
    let posted = 0n
    let claimed = 0n
    let submissions = 0
    for (const round of rounds) {
      submissions += round.submissions.length
      for (const submission of round.submissions) {
        const key = `${task.taskId}:${submission.node.toLowerCase()}`
        trails.set(key, [...(trails.get(key) ?? []), { cycle: Number(round.cycle), sampled: submission.sampled }])
      }
      if (round.distribution.status === 'final') posted += round.distribution.rewardTotal
      claimed += round.distribution.rewardClaimed
    }
    taskSummaries.push({
      taskId: task.taskId.toString(),
      name: task.name,
      programCid: task.programCid,
      finalizedCycles: rounds.filter((round) => round.distribution.status === 'final').map((round) => Number(round.cycle)).sort((a, b) => a - b),
      failedCycles: rounds.filter((round) => round.distribution.status === 'failed').map((round) => Number(round.cycle)).sort((a, b) => a - b),
      submissions,
      auditsRaised: audits.length,
      auditsUpheld: audits.filter((audit) => audit.upheld).length,
      rewardsPosted: posted.toString(),
      rewardsClaimed: claimed.toString(),
    })
  }

  const nodeSummaries = nodes.map<DevnetNodeSummary>((node) => {
    const perTask: DevnetNodeTaskSummary[] = tasks.map((task) => {
      const state = view.nodes(task.taskId).find((entry) => entry.address.toLowerCase() === node.address.toLowerCase())
      const cycles = claimedCycles.get(`${task.taskId}:${node.address.toLowerCase()}`) ?? []
      return {
        taskId: task.taskId.toString(),
        task: task.name,
        stake: (state?.stake ?? 0n).toString(),
        unbonding: (state?.unbonding ?? 0n).toString(),
        reputation: state?.score ?? 0,
        passed: state?.passed ?? 0,
        failed: state?.failed ?? 0,
        rewards: (state?.rewards ?? 0n).toString(),
        bonus: (state?.bonus ?? 0n).toString(),
        slashed: (state?.slashed ?? 0n).toString(),
        submissions: state?.submissions ?? 0,
        audited: state?.audited ?? 0,
        auditsAgainst: state?.auditsAgainst ?? 0,
        auditsUpheld: state?.auditsUpheld ?? 0,
        claimedCycles: cycles,
        auditTrail: (trails.get(`${task.taskId}:${node.address.toLowerCase()}`) ?? []).sort((a, b) => a.cycle - b.cycle),
      }
    })
    const sum = (field: 'stake' | 'rewards' | 'bonus' | 'slashed') => perTask.reduce((total, entry) => total + BigInt(entry[field]), 0n).toString()
    const count = (field: 'reputation' | 'submissions' | 'audited' | 'auditsUpheld') => perTask.reduce((total, entry) => total + entry[field], 0)
    return {
      name: node.name,
      address: node.address,
      behaviour: node.behaviour,
      ...(node.cheatFromRound !== undefined ? { cheatFromRound: node.cheatFromRound } : {}),
      stake: sum('stake'),
      reputation: count('reputation'),
      rewards: sum('rewards'),
      bonus: sum('bonus'),
      slashed: sum('slashed'),
      submissions: count('submissions'),
      audited: count('audited'),
      convictions: count('auditsUpheld'),
      claimedCycles: perTask.reduce((total, entry) => total + entry.claimedCycles.length, 0),
      restarts: input.restarts.get(node.name) ?? 0,
      tasks: perTask,
    }
  })

  const totals = {
    finalizedRounds: input.finalizedRounds,
    auditsRaised,
    auditsUpheld,
    submissions: taskSummaries.reduce((total, task) => total + task.submissions, 0),
    slashes,
    slashed: nodeSummaries.reduce((total, node) => total + BigInt(node.slashed), 0n).toString(),
    rewards: nodeSummaries.reduce((total, node) => total + BigInt(node.rewards), 0n).toString(),
  }
  return {
    rounds: input.requestedRounds,
    finalizedRounds: totals.finalizedRounds,
    auditsRaised,
    auditsUpheld,
    totals,
    nodes: nodeSummaries,
    tasks: taskSummaries,
    durationSeconds: Math.round((Date.now() - input.startedAt) / 1000),
    rpcUrl: input.rpcUrl,
    dashboardUrl: input.dashboardUrl,
    dataDir: input.dataDir,
  }
}

/** The summary as a table for people. */
export function formatSummaryTable(summary: DevnetSummary): string {
  const header = ['node', 'behaviour', 'stake', 'reputation', 'rewards', 'slashed', 'submissions', 'audited', 'claimed cycles']
  const rows = summary.nodes.map((node) => [
    node.name,
    node.behaviour === 'cheater' ? `cheater (r${node.cheatFromRound ?? 0}+)` : 'honest',
    formatAmount(BigInt(node.stake), 2),
    String(node.reputation),
    formatAmount(BigInt(node.rewards), 2),
    formatAmount(BigInt(node.slashed), 2),
    String(node.submissions),
    `${node.audited} (${node.submissions ? Math.round((100 * node.audited) / node.submissions) : 0}%)`,
    String(node.claimedCycles),
  ])
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)))
  const line = (cells: string[]) => cells.map((cell, column) => (column < 2 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ')
  const out = [line(header), widths.map((width) => '─'.repeat(width)).join('  '), ...rows.map(line)]
  out.push('')
  out.push(
    `finalized rounds ${summary.finalizedRounds}${summary.rounds !== undefined ? ` (asked ${summary.rounds})` : ''} · audits raised ${summary.auditsRaised}, upheld ${summary.auditsUpheld} · ` +
      `slashes ${summary.totals.slashes} (${formatAmount(BigInt(summary.totals.slashed), 2)} COOP) · rewards claimed ${formatAmount(BigInt(summary.totals.rewards), 2)} · ${summary.durationSeconds} s`,
  )
  for (const task of summary.tasks) {
    out.push(`  task ${task.taskId} ${task.name}: final cycles [${task.finalizedCycles.join(', ')}]${task.failedCycles.length ? `, failed [${task.failedCycles.join(', ')}]` : ''}, ${task.submissions} submissions, ${task.auditsRaised} audits (${task.auditsUpheld} upheld)`)
  }
  out.push('audit sampling per cycle (● sampled, ○ not, ? seed not fixed yet):')
  for (const node of summary.nodes) {
    const trails = node.tasks.map((task) => `${task.task} ${task.auditTrail.map((entry) => (entry.sampled === null ? '?' : entry.sampled ? '●' : '○')).join('')}`)
    out.push(`  ${node.name.padEnd(8)} ${trails.join('   ')}`)
  }
  out.push('amounts: stake in COOP, rewards in the reward token; stake/reputation/rewards summed over the tasks')
  return `${out.join('\n')}\n`
}
