// The devnet's live progress: one line per task per round (printed when the next round starts),
// from the chain view's events, plus a line for each audit raised/resolved as it happens. For an
// ingest task (sensor-log) `work c6` is `payloads c6 20/20`: readings accepted by nodes / sent by devices.
//
//   [01:12] r6 web-archive │ work c6 │ submit c5 5/5, 3 sampled │ audits 1 raised, 1 upheld │ slashed node-3 200 COOP │ distribute c4 final by node-2: 1000 │ claimed 4 (1000)
import type { Address } from 'viem'

import { formatAmount } from '../amounts.ts'
import type { ChainView, DevnetNode, DevnetTask } from './devnet.ts'

export type Progress = { stop(): void }

type Counters = { claims: number; claimed: bigint; slashes: { node: Address; amount: bigint }[] }

export function createProgress(options: {
  view: ChainView
  tasks: DevnetTask[]
  nodes: DevnetNode[]
  log: (line: string) => void
  startedAt: number
  /** Device payloads of a SCALE ingest task's cycle (sensor-log): sent by the simulated devices, accepted by nodes. */
  payloads?: (taskId: bigint, cycle: bigint) => { sent: number; accepted: number } | undefined
}): Progress {
  const { view, tasks, nodes, log, startedAt } = options
  const names = new Map<string, string>(nodes.map((node) => [node.address.toLowerCase(), node.name]))
  const nameOf = (address: unknown) => (typeof address === 'string' ? (names.get(address.toLowerCase()) ?? `${address.slice(0, 8)}…`) : '?')
  const taskName = (taskId: unknown) => tasks.find((task) => task.taskId === taskId)?.name ?? `task ${String(taskId)}`
  const counters = new Map<bigint, Counters>()
  const fresh = (): Counters => ({ claims: 0, claimed: 0n, slashes: [] })
  for (const task of tasks) counters.set(task.taskId, fresh())
  const clock = () => {
    const seconds = Math.floor((Date.now() - startedAt) / 1000)
    return `[${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}]`
  }

  const roundLine = (taskId: bigint, round: bigint) => {
    // `round` just ended: its work cycle is `round`, it submitted/audited round−1, distributed round−2.
    const rounds = view.rounds(taskId, { limit: 64 })
    const find = (cycle: bigint) => rounds.find((entry) => entry.cycle === cycle)
    const payloads = options.payloads?.(taskId, round)
    const parts = [`${clock()} r${round} ${taskName(taskId).padEnd(11)}`, payloads ? `payloads c${round} ${payloads.accepted}/${payloads.sent}` : `work c${round}`]
    if (round >= 1n) {
      const cycle = find(round - 1n)
      const submissions = cycle?.submissions ?? []
      const sampled = submissions.filter((submission) => submission.sampled === true).length
      parts.push(`submit c${round - 1n} ${submissions.length}/${nodes.length}${submissions.length ? `, ${sampled} sampled` : ''}`)
      const audits = view.audits(taskId).filter((audit) => audit.cycle === round - 1n && audit.kind === 'submission')
      const upheld = audits.filter((audit) => audit.upheld).length
      parts.push(`audits ${audits.length} raised${audits.length ? `, ${upheld} upheld` : ''}`)
    }
    const count = counters.get(taskId) ?? fresh()
    if (count.slashes.length) parts.push(`slashed ${count.slashes.map((slash) => `${nameOf(slash.node)} ${formatAmount(slash.amount, 2)}`).join(', ')} COOP`)
    if (round >= 2n) {
      const cycle = find(round - 2n)
      const distribution = cycle?.distribution
      if (!cycle || cycle.submissions.length === 0) parts.push(`distribute c${round - 2n} -`)
      else if (distribution && distribution.poster) {
        parts.push(`distribute c${round - 2n} ${distribution.status} by ${nameOf(distribution.poster)}: ${formatAmount(distribution.rewardTotal, 2)}`)
      } else parts.push(`distribute c${round - 2n} ${distribution?.status ?? 'pending'}`)
    }
    if (count.claims) parts.push(`claimed ${count.claims} (${formatAmount(count.claimed, 2)})`)
    counters.set(taskId, fresh())
    return parts.join(' │ ')
  }

  const unsubscribe = view.subscribe((event) => {
    try {
      const taskId = event.taskId
      if (typeof taskId !== 'bigint') return
      const count = counters.get(taskId)
      if (event.type === 'round' && event.event === undefined && typeof event.round === 'bigint' && event.round >= 1n) {
        log(roundLine(taskId, event.round - 1n))
      } else if (event.type === 'slash' && count) {
        count.slashes.push({ node: event.node as Address, amount: event.amount as bigint })
      } else if (event.type === 'claim' && count && event.kind !== 'vote') {
        count.claims += 1
        count.claimed += (event.reward as bigint | undefined) ?? 0n
      } else if (event.type === 'audit') {
        const what = event.kind === 'distribution' ? 'challenge of the list' : 'audit'
        if (event.status === 'raised') {
          log(`${clock()}    ${taskName(taskId)}: ${what} #${event.auditId} of c${event.cycle} raised by ${nameOf(event.accuser)} against ${nameOf(event.accused)}`)
        } else if (event.status === 'upheld' || event.status === 'rejected') {
          log(`${clock()}    ${taskName(taskId)}: audit #${event.auditId} ${event.status} (${nameOf(event.accused)} ${event.status === 'upheld' ? 'convicted' : 'cleared'})`)
        }
      }
    } catch {}
  })
  return { stop: unsubscribe }
}
