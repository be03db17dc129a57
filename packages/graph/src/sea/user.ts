// Accounts as gun's user.create / user.auth store them (sea/create.js, sea/auth.js):
//   ~@alias : { '~pub': { '#': '~pub' } }                       (unsigned, rule-checked)
//   ~pub    : { pub: 'pub' (plain), alias, epub, auth (signed) }  auth = '{"ek":{ct,iv,s},"s":salt}'
// where ek = AES-GCM({ priv, epriv }) under SEA.work(password, salt) — PBKDF2-SHA256, 100,000 iterations.

import { putKey } from '@coop/protocol'
import { GraphError } from '../errors.ts'
import type { GraphStore } from '../graph-store.ts'
import { isLink } from '../model/validate.ts'
import type { Graph, Soul, Value } from '../types.ts'
import { decrypt } from './decrypt.ts'
import { randomString } from './encoding.ts'
import { encryptRaw } from './encrypt.ts'
import { pair as newPair } from './pair.ts'
import { isObject } from './parse.ts'
import { secret } from './secret.ts'
import { signRaw } from './sign.ts'
import { pubOfSoul, signUserDelta, unpackUserValue, userSigningPayload, userSoul } from './user-space.ts'
import { verifySignedMessage } from './verify.ts'
import { work } from './work.ts'
import type { SeaPair } from './types.ts'

export const MIN_PASSWORD_LENGTH = 8 // gun: "Password too short!"

export type UserOptions = {
  /**
   * HAM state source for this user's writes. Default: the store's own state clock (store.nextState), so
   * the store never sees its user's fresh writes as coming from the future.
   */
  clock?: () => number
  /** PBKDF2 iterations (default 100,000, as gun and the issue). Only lower it in tests of other things. */
  iterations?: number
}

/** A signed-in user: its keys and its graph. */
export class User {
  readonly alias: string
  readonly pair: SeaPair
  readonly store: GraphStore
  readonly #clock: () => number

  constructor(store: GraphStore, alias: string, keys: SeaPair, clock: () => number = () => store.nextState()) {
    this.store = store
    this.alias = alias
    this.pair = keys
    this.#clock = clock
  }

  get pub(): string {
    return this.pair.pub
  }

  get epub(): string {
    return this.pair.epub
  }

  /** The soul of `path` in this user's graph: `~pub` for '', else `~pub/path`. */
  soul(path = ''): Soul {
    return path === '' ? userSoul(this.pair.pub) : `${userSoul(this.pair.pub)}/${path}`
  }

  /** Writes `values` into node `path` of this user's graph, each signed over (soul, key, value, state). */
  async put(path: string, values: Record<string, Value>): Promise<Graph> {
    const soul = this.soul(path)
    const delta: Graph = {}
    for (const [key, value] of Object.entries(values)) putKey(delta, soul, key, value, this.#clock())
    const signed = await signUserDelta(delta, this.pair)
    await this.store.put(signed)
    return signed
  }

  /** A value of this user's graph (signature checked), see readUserValue. */
  read(path: string, key: string): Promise<Value | undefined> {
    return readUserValue(this.store, this.soul(path), key)
  }
}

/**
 * Reads a user-space value and checks its signature against the soul's key (data may have come in
 * before a verifier was installed). Undefined when absent; GraphError BAD_SIGNATURE when not signed right.
 */
export async function readUserValue(store: GraphStore, soul: Soul, key: string): Promise<Value | undefined> {
  const stored = store.value(soul, key)
  if (stored === undefined) return undefined
  const pub = pubOfSoul(soul)
  if (pub === undefined) return stored
  if (key === 'pub' && soul === userSoul(pub)) return stored === pub ? stored : badData(soul, key)
  const packed = unpackUserValue(stored)
  const state = store.state(soul, key)!
  if (packed === undefined) return badData(soul, key)
  const ok = await verifySignedMessage({ m: userSigningPayload(soul, key, packed.value, state), s: packed.signature }, pub)
  return ok ? packed.value : badData(soul, key)
}

function badData(soul: Soul, key: string): never {
  throw new GraphError('BAD_SIGNATURE', 'Stored user data is not signed by its key', { details: { soul, key } })
}

/**
 * gun's `user.create(alias, password)`: a new pair, its private keys encrypted under the password's
 * PBKDF2 proof, the account node `~pub` and the alias link `~@alias` written to `store`.
 * GraphError USER_EXISTS when the alias already has an account here (gun: "User already created!"),
 * MALFORMED for an empty alias or a password shorter than 8 characters.
 */
export async function createUser(store: GraphStore, alias: string, password: string, options: UserOptions = {}): Promise<User> {
  if (typeof alias !== 'string' || alias.length === 0) throw new GraphError('MALFORMED', 'No user: the alias must be a non-empty string')
  if (typeof password !== 'string' || password.length < MIN_PASSWORD_LENGTH) {
    throw new GraphError('MALFORMED', `Password too short: at least ${MIN_PASSWORD_LENGTH} characters`)
  }
  if (accountsOf(store, alias).length > 0) throw new GraphError('USER_EXISTS', 'User already created', { details: { alias } })
  const clock = options.clock ?? (() => store.nextState())
  const salt = randomString(64)
  const proof = await work(password, salt, options.iterations === undefined ? {} : { iterations: options.iterations })
  const keys = await newPair()
  const ek = await encryptRaw({ priv: keys.priv, epriv: keys.epriv }, proof)
  const soul = userSoul(keys.pub)
  const account: Graph = {}
  putKey(account, soul, 'pub', keys.pub, clock())
  putKey(account, soul, 'alias', alias, clock())
  putKey(account, soul, 'epub', keys.epub, clock())
  putKey(account, soul, 'auth', JSON.stringify({ ek, s: salt }), clock())
  putKey(account, `~@${alias}`, soul, { '#': soul }, clock())
  await store.put(await signUserDelta(account, keys))
  return new User(store, alias, keys, clock)
}

/** The account souls an alias links to (`~@alias` → `~pub`), in the order stored. */
export function accountsOf(store: GraphStore, alias: string): Soul[] {
  const node = store.get(`~@${alias}`)
  if (node === undefined) return []
  const souls: Soul[] = []
  for (const key of Object.keys(node)) {
    if (key === '_') continue
    const value = node[key]
    if (isLink(value) && value['#'] === key && pubOfSoul(key) !== undefined) souls.push(key)
  }
  return souls
}

/**
 * gun's `user.auth(alias, password)`: for each account the alias links to, re-derives the proof from
 * the stored salt and decrypts the private keys; the first that decrypts and whose keys really belong
 * to the account's pub/epub wins. GraphError AUTH_FAILED otherwise ("Wrong user or password").
 */
export async function authUser(store: GraphStore, alias: string, password: string, options: UserOptions = {}): Promise<User> {
  for (const soul of accountsOf(store, alias)) {
    const keys = await openAccount(store, soul, password, options)
    if (keys !== undefined) return new User(store, alias, keys, options.clock)
  }
  throw new GraphError('AUTH_FAILED', 'Wrong user or password', { details: { alias } })
}

async function openAccount(store: GraphStore, soul: Soul, password: string, options: UserOptions): Promise<SeaPair | undefined> {
  const pub = pubOfSoul(soul)!
  let auth: Value | undefined
  let epub: Value | undefined
  try {
    auth = await readUserValue(store, soul, 'auth')
    epub = await readUserValue(store, soul, 'epub')
  } catch {
    return undefined // forged account data: not this one
  }
  if (typeof auth !== 'string' || typeof epub !== 'string') return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(auth)
  } catch {
    return undefined
  }
  if (!isObject(parsed) || typeof parsed.s !== 'string' || parsed.ek === undefined) return undefined
  const proof = await work(password, parsed.s, options.iterations === undefined ? {} : { iterations: options.iterations })
  let half: unknown
  try {
    half = await decrypt(parsed.ek, proof)
  } catch {
    return undefined
  }
  if (!isObject(half) || typeof half.priv !== 'string' || typeof half.epriv !== 'string') return undefined
  const keys: SeaPair = { pub, priv: half.priv, epub, epriv: half.epriv }
  return (await keysMatch(keys)) ? keys : undefined
}

/** True when priv signs for pub and epriv is the private key of epub (an ECDH round trip with a fresh pair). */
async function keysMatch(keys: SeaPair): Promise<boolean> {
  try {
    const probe = await signRaw('coop-key-check', keys)
    if (!(await verifySignedMessage(probe, keys.pub))) return false
    const other = await newPair()
    return (await secret(other.epub, keys)) === (await secret(keys.epub, other))
  } catch {
    return false
  }
}
