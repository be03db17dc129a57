// What a peer admits from the wire, before anything is stored: signatures of user-space writes
// (SEA: `~pub` souls, alias lists, content-addressed souls) and, on a trust relay, the relay policy.
// Unlike a GraphStore `verify` hook, which silently drops what it filters, an admission reports the
// refused keys, so the mesh can answer the sender with an `err` ack naming them (and store the rest).
import { GraphError, type GraphErrorCode } from '../errors.ts'
import { verifyUserDelta, userGraphVerifier, type RejectedWrite } from '../sea/verify-user-delta.ts'
import { shouldRelay, type RelayPolicy } from '../trust/relay-policy.ts'
import type { Graph, Soul } from '../types.ts'

export type { RejectedWrite }

/** `allowed` is stored (and acked), `refused` is answered with an err ack naming each key. */
export type Admission = { allowed: Graph; refused: RejectedWrite[] }

/** Sorts an incoming delta (already decoded and shape-checked) into allowed and refused writes. */
export type AdmitWrites = (delta: Graph) => Admission | Promise<Admission>

/** A soul whose writes need a signature (or hash) check: user space has a `~`, content addressing a `#`. */
function isCheckedSoul(soul: Soul): boolean {
  return soul.includes('~') || soul.includes('#')
}

/**
 * Admits public data as is and user-space data only when verifiably signed by its owner
 * (sea.verifyUserDelta: unsigned, forged, replayed, certificate-carrying → BAD_SIGNATURE; a signed
 * non-value → INVALID_VALUE). A delta with no user-space soul costs one scan of its souls.
 */
export function admitSignedUserWrites(): AdmitWrites {
  return (delta) => {
    let checked = false
    for (const soul in delta) {
      if (isCheckedSoul(soul)) {
        checked = true
        break
      }
    }
    if (!checked) return { allowed: delta, refused: [] }
    return verifyUserDelta(delta).then((verdict) => (verdict.rejected.length === 0 ? { allowed: delta, refused: [] } : { allowed: verdict.allowed, refused: verdict.rejected }))
  }
}

/**
 * Admits only what the relay policy relays (trust.shouldRelay, seed 004 §4.3): writes signed (and
 * verified) by a key whose weighted trust is at least `minWeight`; forged ones are BAD_SIGNATURE,
 * the others UNTRUSTED (public data too, unless `relayPublic`).
 */
export function admitTrustedWrites(policy: RelayPolicy): AdmitWrites {
  return async (delta) => {
    const verdict = await shouldRelay(delta, policy)
    return { allowed: verdict.refused.length === 0 ? delta : verdict.allowed, refused: verdict.refused }
  }
}

/**
 * Pairs an admission (for the mesh) with a store `verify` hook that lets through exactly the deltas
 * the admission produced (no second signature check) and runs `verify` on any other put — writes
 * made on the store in-process, which never went through the mesh.
 */
export function gateWrites(admit: AdmitWrites, verify: (delta: Graph) => Graph | Promise<Graph> = userGraphVerifier()): { admit: AdmitWrites; verify: (delta: Graph) => Graph | Promise<Graph> } {
  const admitted = new WeakSet<Graph>()
  const remember = (admission: Admission): Admission => {
    admitted.add(admission.allowed)
    return admission
  }
  return {
    admit: (delta) => {
      const admission = admit(delta)
      return admission instanceof Promise ? admission.then(remember) : remember(admission)
    },
    verify: (delta) => {
      if (admitted.has(delta)) {
        admitted.delete(delta)
        return delta
      }
      return verify(delta)
    },
  }
}

/** Most refused keys listed in an ack (the count is always complete). */
export const MAX_LISTED_REFUSALS = 100

/** The one error an err ack carries for a partly or wholly refused put: BAD_SIGNATURE if any write was forged, else the first refusal's code. */
export function refusalError(refused: readonly RejectedWrite[], stored: number): GraphError {
  const code: GraphErrorCode = refused.some((write) => write.error.code === 'BAD_SIGNATURE') ? 'BAD_SIGNATURE' : (refused[0]?.error.code ?? 'MALFORMED')
  const named = refused
    .slice(0, 10)
    .map((write) => `${write.soul}.${write.key} ${write.error.code}`)
    .join(', ')
  const more = refused.length > 10 ? `, and ${refused.length - 10} more` : ''
  const summary = stored > 0 ? `Refused ${refused.length} write(s), stored the other ${stored}` : `Refused ${refused.length} write(s), stored nothing`
  return new GraphError(code, `${summary}: ${named}${more}`, { details: { refused: refused.length, stored } })
}
