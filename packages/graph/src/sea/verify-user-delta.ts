// The SEA firewall for incoming deltas (GUN's sea/index.js `check`), as a GraphStore `verify` hook.

import { putKey } from '@coop/protocol'
import { GraphError } from '../errors.ts'
import { isLink } from '../model/validate.ts'
import type { Graph, Soul, Value } from '../types.ts'
import { sha256 } from './encoding.ts'
import { seaText } from './parse.ts'
import { pubOfSoul, unpackUserValue, userSigningPayload, userSoul } from './user-space.ts'
import { verifySignedMessage } from './verify.ts'

export type RejectedWrite = { soul: Soul; key: string; error: GraphError }
export type UserDeltaVerdict = { allowed: Graph; rejected: RejectedWrite[] }

/**
 * Sorts every key of `delta` into allowed or rejected by GUN's rules:
 * - `~@` (the alias list): the value must be the link `{ '#': '~@' + key }`;
 * - `~@alias` (an alias's public keys): the value must be a link to the soul named by the key;
 * - user space (a soul with a public key, see pubOfSoul): the `pub` key of `~pub` must equal pub;
 *   every other value must be `{":":value,"~":sig}` with sig a valid signature by that key over
 *   (soul, key, value, state) — unsigned, forged, replayed-elsewhere and certificate-carrying writes
 *   are rejected (BAD_SIGNATURE), a signed value that is not a graph value (INVALID_VALUE);
 * - souls with `#` (content addressed): the key's last `#` part must be the base64 (or hex) SHA-256 of
 *   the value (BAD_SIGNATURE: the "signature" is the hash);
 * - anything else is public data and passes (gun without `secure`).
 */
export async function verifyUserDelta(delta: Graph): Promise<UserDeltaVerdict> {
  const allowed: Graph = {}
  const rejected: RejectedWrite[] = []
  const checks: Array<Promise<void>> = []
  for (const soul of Object.keys(delta)) {
    const node = delta[soul]!
    const states = node._['>']
    for (const key of Object.keys(node)) {
      if (key === '_') continue
      const value = node[key] as Value
      const state = states[key]!
      checks.push(
        checkWrite(soul, key, value, state).then((problem) => {
          if (problem === undefined) putKey(allowed, soul, key, value, state)
          else rejected.push({ soul, key, error: new GraphError(problem.code, problem.message, { details: { soul, key, reason: problem.reason } }) })
        }),
      )
    }
  }
  await Promise.all(checks)
  return { allowed, rejected }
}

function isValue(value: unknown): boolean {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)) || isLink(value)
}

type Problem = { code: 'BAD_SIGNATURE' | 'INVALID_VALUE'; message: string; reason: string }

const bad = (message: string, reason: string): Problem => ({ code: 'BAD_SIGNATURE', message, reason })

async function checkWrite(soul: Soul, key: string, value: Value, state: number): Promise<Problem | undefined> {
  if (soul === '~@') {
    if (isLink(value) && value['#'] === `~@${key}`) return undefined
    return bad('The alias list may only link each alias to its own node', 'alias not same')
  }
  if (soul.startsWith('~@')) {
    if (isLink(value) && value['#'] === key) return undefined
    return bad("An alias's public key list may only link each key to itself", 'alias not same')
  }
  const pub = pubOfSoul(soul)
  if (pub !== undefined) {
    if (key === 'pub' && soul === userSoul(pub)) {
      return value === pub ? undefined : bad("A user's pub must be its own public key", 'account not same')
    }
    const packed = unpackUserValue(value)
    if (packed === undefined) return bad('Writes to a user graph must be signed by its key', 'unsigned')
    if ('*' in packed.raw || '+' in packed.raw) return bad('Certificate writes (gun user.certify) are not accepted', 'certificate')
    if (!isValue(packed.value)) return { code: 'INVALID_VALUE', message: 'A signed value must be null, a string, a boolean, a finite number or a link', reason: 'not a value' }
    const ok = await verifySignedMessage({ m: userSigningPayload(soul, key, packed.value, state), s: packed.signature }, pub)
    return ok ? undefined : bad("Signature does not match the user graph's key", 'forged')
  }
  if (soul.includes('#')) {
    const claimed = key.split('#').at(-1) ?? ''
    const hash = Buffer.from(await sha256(seaText(value)))
    if (claimed === hash.toString('base64') || (/^[0-9a-fA-F]+$/.test(claimed) && claimed.toLowerCase() === hash.toString('hex'))) return undefined
    return bad('Content-addressed data must hash to its key', 'hash not same')
  }
  return undefined
}

export type UserGraphVerifierOptions = {
  /**
   * 'reject' (default): a delta with any rejected write is refused whole — GraphError with the first
   * refusal's code (BAD_SIGNATURE, or INVALID_VALUE for a signed non-value; details.rejected counts
   * them), nothing stored. 'filter': the allowed keys are stored and the
   * rejected ones dropped (gun drops per key), reported to `onRejected`.
   */
  mode?: 'reject' | 'filter'
  onRejected?: (rejected: RejectedWrite[]) => void
}

/** A GraphStore `verify` hook enforcing verifyUserDelta. */
export function userGraphVerifier(options: UserGraphVerifierOptions = {}): (delta: Graph) => Promise<Graph> {
  const mode = options.mode ?? 'reject'
  return async (delta) => {
    const verdict = await verifyUserDelta(delta)
    if (verdict.rejected.length === 0) return delta
    options.onRejected?.(verdict.rejected)
    if (mode === 'filter') return verdict.allowed
    const first = verdict.rejected[0]!
    throw new GraphError(first.error.code, `Refused ${verdict.rejected.length} write(s) to signed data: ${first.error.shortMessage}`, {
      details: { soul: first.soul, key: first.key, rejected: verdict.rejected.length },
      cause: first.error,
    })
  }
}
