// Relay policy (seed 004 §4.3 item 1, "Trust Based": "peers do not relay data through the network unless
// it is from an identity that they trust … proven by verifying the signature of the data with a public key
// that a peer has previously added to their encrypted trust table"; item 5: weighted trust).

import { putKey } from '@coop/protocol'
import { GraphError } from '../errors.ts'
import type { Graph, Value } from '../types.ts'
import { pubOfSoul } from '../sea/user-space.ts'
import { verifyUserDelta, type RejectedWrite } from '../sea/verify-user-delta.ts'
import type { TrustScore } from './weighted-trust.ts'

export type RelayPolicy = {
  /** Trust per public key: a map (e.g. from trustScores, or pub → weight) or a lookup; unknown = 0. */
  trust: ReadonlyMap<string, number | TrustScore> | ((pub: string) => number | undefined)
  /** Relay data whose signer's weight is at least this (default: any weight above 0). */
  minWeight?: number
  /** Also relay data no key signs (public souls, the alias list, content-addressed souls). Default false. */
  relayPublic?: boolean
}

export type RelayVerdict = {
  /** What may be relayed: signed (verified) by a key trusted enough. */
  allowed: Graph
  /** The rest: BAD_SIGNATURE (unsigned/forged where a signature is required) or UNTRUSTED. */
  refused: RejectedWrite[]
  /** The weight of each signer seen in the delta. */
  weights: Map<string, number>
}

function weightOf(policy: RelayPolicy, pub: string): number {
  const found = typeof policy.trust === 'function' ? policy.trust(pub) : policy.trust.get(pub)
  const weight = typeof found === 'number' ? found : found?.weight
  return typeof weight === 'number' && Number.isFinite(weight) ? weight : 0
}

/** The key that vouches for a write: the soul's owner, or for an alias link the linked account. */
function signerOf(soul: string, key: string): string | undefined {
  if (soul === '~@') return undefined
  if (soul.startsWith('~@')) return pubOfSoul(key)
  return pubOfSoul(soul)
}

/**
 * Splits `delta` into what a relay following `policy` forwards and what it refuses: signatures are
 * checked first (verifyUserDelta: forged → BAD_SIGNATURE), then each write's signer must have a trust
 * weight ≥ minWeight (else UNTRUSTED, details.weight); unsigned public data is UNTRUSTED unless relayPublic.
 */
export async function shouldRelay(delta: Graph, policy: RelayPolicy): Promise<RelayVerdict> {
  const minWeight = policy.minWeight ?? Number.MIN_VALUE
  const verified = await verifyUserDelta(delta)
  const refused = [...verified.rejected]
  const allowed: Graph = {}
  const weights = new Map<string, number>()
  for (const soul of Object.keys(verified.allowed)) {
    const node = verified.allowed[soul]!
    for (const key of Object.keys(node)) {
      if (key === '_') continue
      const signer = signerOf(soul, key)
      let reason: GraphError | undefined
      if (signer === undefined) {
        if (!policy.relayPublic) reason = new GraphError('UNTRUSTED', 'Not relayed: no key signs this data', { details: { soul, key } })
      } else {
        const weight = weights.get(signer) ?? weightOf(policy, signer)
        weights.set(signer, weight)
        if (!(weight >= minWeight && weight > 0)) {
          reason = new GraphError('UNTRUSTED', 'Not relayed: the signing key is not trusted enough', { details: { soul, key, pub: signer, weight, minWeight: policy.minWeight ?? 0 } })
        }
      }
      if (reason === undefined) putKey(allowed, soul, key, node[key] as Value, node._['>'][key]!)
      else refused.push({ soul, key, error: reason })
    }
  }
  return { allowed, refused, weights }
}

/**
 * The policy as a filter for a relay's inbound path (or a GraphStore `verify` hook): returns what may be
 * relayed and reports the refused writes to `onRefused`.
 */
export function createRelayFilter(policy: RelayPolicy, onRefused?: (refused: RejectedWrite[]) => void): (delta: Graph) => Promise<Graph> {
  return async (delta) => {
    const verdict = await shouldRelay(delta, policy)
    if (verdict.refused.length > 0) onRefused?.(verdict.refused)
    return verdict.allowed
  }
}
