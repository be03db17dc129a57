// Prometheus metrics of one node (its own registry, so several in-process nodes never collide).
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'

export type NodeMetrics = ReturnType<typeof createMetrics>

export function createMetrics(options: { name: string; defaultMetrics?: boolean; p2pDropped?: () => Record<string, number> }) {
  const registry = new Registry()
  registry.setDefaultLabels({ node: options.name })
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry })
  const counter = (name: string, help: string, labelNames: string[] = []) => new Counter({ name, help, labelNames, registers: [registry] })
  const metrics = {
    registry,
    rounds: counter('coop_rounds_total', 'Rounds this node worked', ['task']),
    work: counter('coop_work_total', 'Task work calls', ['task', 'result']),
    submissions: counter('coop_submissions_total', 'Submissions confirmed on-chain', ['task']),
    auditsChecked: counter('coop_audits_checked_total', 'Sampled submissions this node checked', ['task', 'result']),
    auditsRaised: counter('coop_audits_raised_total', 'Audits this node raised', ['task']),
    votes: counter('coop_votes_total', 'Votes cast', ['task', 'side']),
    resolutions: counter('coop_resolutions_total', 'Audits this node resolved', ['task']),
    distributions: counter('coop_distributions_posted_total', 'Distribution lists this node posted', ['task']),
    challenges: counter('coop_challenges_total', 'Distribution challenges this node raised', ['task']),
    finalizations: counter('coop_finalizations_total', 'Distributions this node finalized', ['task']),
    claims: counter('coop_claims_total', 'Cycles claimed', ['task']),
    voteRewards: counter('coop_vote_rewards_total', 'Vote rewards claimed', ['task']),
    slashes: counter('coop_slashes_observed_total', 'Slashes seen on-chain', ['task', 'self']),
    transactions: counter('coop_transactions_total', 'Transactions by kind and outcome', ['kind', 'status']),
    rpcErrors: counter('coop_rpc_errors_total', 'RPC failures (retried or not)'),
    p2pRequests: counter('coop_p2p_requests_total', 'p2p requests this node made', ['protocol', 'result']),
    sandboxErrors: counter('coop_sandbox_errors_total', 'Task program calls that failed', ['task', 'method']),
    currentRound: new Gauge({ name: 'coop_current_round', help: 'Current round per task', labelNames: ['task'], registers: [registry] }),
    p2pDropped: new Gauge({
      name: 'coop_p2p_dropped_total',
      help: 'Inbound p2p messages dropped, by reason (from the host)',
      labelNames: ['code'],
      registers: [registry],
      collect() {
        const dropped = options.p2pDropped?.() ?? {}
        for (const [code, count] of Object.entries(dropped)) this.set({ code }, count)
      },
    }),
  }
  return metrics
}
