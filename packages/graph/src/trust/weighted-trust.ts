// Weighted trust with degrees of separation (seed 004 §4.3 item 5, "Weighted Trust": "weighted trust
// values, this lets users give discounts to acquaintances based on how many degrees of separation they
// have"; appendix A3.2 "Web of Trust": a verified contacts list per user forms a web of trust).
//
// Definition used here. Every user's trust table gives each key it trusts a weight in [0, 1]. For a
// path root → u1 → … → ud (d hops, d = the degrees of separation) the trust it carries is
//     w(root,u1) · w(u1,u2) · … · w(ud-1,ud) · decay^(d − 1)
// so a friend of a friend at full weight gets `decay` (default ½), three hops decay² — each extra degree
// of separation discounts by the factor `decay`, and weak links weaken everything behind them. The trust
// in a key is the best such path within `maxDegrees` hops (default 3). The root's own entries are final:
// a direct weight (0 included: an explicit distrust) is not overridden by a path through others.

export type TrustEdges = (pub: string) => ReadonlyMap<string, number> | undefined

export type WeightedTrustOptions = {
  /** Discount per extra degree of separation, in [0, 1] (default 0.5). */
  decay?: number
  /** Longest path considered, in hops (default 3). */
  maxDegrees?: number
}

export type TrustScore = { weight: number; degrees: number; path: string[] }

/**
 * The trust `root` places in every key reachable through trust tables (`edges(pub)` → that user's
 * table, undefined when unknown/unreadable). Pure; O(maxDegrees · edges). The root itself has weight 1.
 */
export function weightedTrust(root: string, edges: TrustEdges, options: WeightedTrustOptions = {}): Map<string, TrustScore> {
  const decay = options.decay ?? 0.5
  const maxDegrees = options.maxDegrees ?? 3
  if (!(decay >= 0 && decay <= 1)) throw new RangeError('decay must be in [0, 1]')
  if (!Number.isInteger(maxDegrees) || maxDegrees < 0) throw new RangeError('maxDegrees must be a non-negative integer')
  const best = new Map<string, TrustScore>([[root, { weight: 1, degrees: 0, path: [root] }]])
  const direct = edges(root)
  const final = new Set<string>([root, ...(direct?.keys() ?? [])])
  // frontier: best path of exactly `degree` hops to each key (Bellman-Ford by levels, bounded by maxDegrees)
  let frontier = new Map<string, TrustScore>([[root, best.get(root)!]])
  for (let degree = 1; degree <= maxDegrees && frontier.size > 0; degree++) {
    const next = new Map<string, TrustScore>()
    for (const [from, score] of frontier) {
      if (score.weight <= 0) continue
      const table = from === root ? direct : edges(from)
      if (table === undefined) continue
      for (const [to, raw] of table) {
        const w = clampWeight(raw)
        if (to === root || score.path.includes(to)) continue // no cycles
        if (degree > 1 && final.has(to)) continue // the root's own word stands
        const weight = score.weight * w * (degree > 1 ? decay : 1)
        const seen = next.get(to)
        if (seen === undefined || weight > seen.weight) next.set(to, { weight, degrees: degree, path: [...score.path, to] })
      }
    }
    for (const [to, score] of next) {
      const seen = best.get(to)
      if (seen === undefined || score.weight > seen.weight || (degree === 1 && final.has(to))) best.set(to, score)
    }
    frontier = next
  }
  return best
}

function clampWeight(weight: number): number {
  return Number.isFinite(weight) ? Math.min(1, Math.max(0, weight)) : 0
}
