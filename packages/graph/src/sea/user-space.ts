// GUN's user space: souls that carry a public key (`~pub`, `~pub/…`, `x~pub.…`) hold values signed by
// that key over (soul, key, value, state), stored as the JSON string `{":":value,"~":signature}`
// (sea/index.js: SEA.opt.pack / check.pub).

import type { Graph, Soul, Value } from '../types.ts'
import { signRaw } from './sign.ts'
import { isObject, seaStringify } from './parse.ts'
import type { SeaPair } from './types.ts'

const PUB_CUT = /[^\w_-]/

/**
 * gun's `SEA.opt.pub(soul)`: the public key a soul belongs to — the two dot-separated base64url parts
 * after the first `~` — or undefined for souls outside user space (including `~@alias` souls).
 */
export function pubOfSoul(soul: Soul): string | undefined {
  const afterTilde = soul.split('~')[1]
  if (!afterTilde) return undefined
  const parts = afterTilde.split(PUB_CUT).slice(0, 2)
  if (parts.length !== 2 || parts[0] === undefined || parts[1] === undefined) return undefined
  if (parts[0].startsWith('@')) return undefined
  return `${parts[0]}.${parts[1]}`
}

/** The soul of a user's root node. */
export function userSoul(pub: string): Soul {
  return `~${pub}`
}

/** What gun signs for a user-space write: `{"#":soul,".":key,":":value,">":state}` (this key order). */
export function userSigningPayload(soul: Soul, key: string, value: Value, state: number): { '#': Soul; '.': string; ':': Value; '>': number } {
  return { '#': soul, '.': key, ':': value, '>': state }
}

/** A signed user-space value, as stored and sent: the JSON string `{":":value,"~":signature}`. */
export async function signUserValue(soul: Soul, key: string, value: Value, state: number, signer: Pick<SeaPair, 'pub' | 'priv'>): Promise<string> {
  const signed = await signRaw(userSigningPayload(soul, key, value, state), signer)
  return seaStringify({ ':': value, '~': signed.s })
}

/** Splits a stored user-space value into the value and its signature; undefined when it is not one. */
export function unpackUserValue(stored: Value | undefined): { value: Value; signature: string; raw: Record<string, unknown> } | undefined {
  if (typeof stored !== 'string') return undefined
  let raw: unknown
  try {
    raw = JSON.parse(stored)
  } catch {
    return undefined
  }
  if (!isObject(raw) || raw[':'] === undefined || typeof raw['~'] !== 'string' || raw['~'].length === 0) return undefined
  return { value: raw[':'] as Value, signature: raw['~'], raw }
}

/**
 * Signs every key of `delta` whose soul belongs to `signer.pub` (not the `pub` key of `~pub`, which gun
 * stores as the plain public key), leaving other souls as they are. Returns a new graph.
 */
export async function signUserDelta(delta: Graph, signer: Pick<SeaPair, 'pub' | 'priv'>): Promise<Graph> {
  const out: Graph = {}
  const jobs: Array<Promise<void>> = []
  for (const soul of Object.keys(delta)) {
    const node = delta[soul]!
    const states = node._['>']
    const copy = { _: { '#': soul, '>': { ...states } } } as Graph[string]
    out[soul] = copy
    const owned = pubOfSoul(soul) === signer.pub
    for (const key of Object.keys(node)) {
      if (key === '_') continue
      const value = node[key] as Value
      if (!owned || (key === 'pub' && soul === userSoul(signer.pub))) {
        copy[key] = value
        continue
      }
      jobs.push(
        signUserValue(soul, key, value, states[key]!, signer).then((signed) => {
          copy[key] = signed
        }),
      )
    }
  }
  await Promise.all(jobs)
  return out
}
