// A user's trust table (seed 004 §4.3 item 1: "a p' public key that a peer has previously added to their
// encrypted trust table"; A3.2: "the user's encrypted web of trust"), kept encrypted in the user's own
// graph. It is a group (src/sea/group.ts) named "trust": the entries are group data, so only the owner
// and the friends the owner chose to show it to (for degrees of separation) can read it, and un-sharing
// re-keys. Entry keys are opaque (a hash of the owner's epriv and the trusted key), so the graph does not
// reveal whom a user trusts.

import { GraphError } from '../errors.ts'
import type { GraphStore } from '../graph-store.ts'
import { sha256, toBase64Url } from '../sea/encoding.ts'
import { addMember, createGroup, groupMembers, groupSoul, openGroupKey, putGroupData, readGroupData, removeMember } from '../sea/group.ts'
import type { PublicIdentity, SeaPair } from '../sea/types.ts'
import type { User } from '../sea/user.ts'
import { weightedTrust, type TrustScore, type WeightedTrustOptions } from './weighted-trust.ts'

export const TRUST_GROUP = 'trust'

export type TrustEntry = { pub: string; weight: number }

async function entryKey(owner: SeaPair, pub: string): Promise<string> {
  return toBase64Url(await sha256(`coop-trust\n${owner.epriv}\n${pub}`))
}

async function tableKey(owner: User) {
  if (owner.store.value(groupSoul(owner.pub, TRUST_GROUP), 'epoch') === undefined) return createGroup(owner, TRUST_GROUP)
  return openGroupKey(owner.store, owner.pair, owner.pub, TRUST_GROUP)
}

export type TrustOptions = {
  /**
   * Show our trust table to this key (it needs `epub`), so its owner can follow our links when computing
   * degrees of separation. Default false.
   */
  share?: boolean
}

/** Sets how much `owner` trusts `subject`: a weight in [0, 1] (0 = explicitly untrusted). */
export async function setTrust(owner: User, subject: string | PublicIdentity, weight: number, options: TrustOptions = {}): Promise<void> {
  const pub = typeof subject === 'string' ? subject : subject?.pub
  if (typeof pub !== 'string' || pub.split('.').length !== 2) throw new GraphError('INVALID_KEY', 'Trust needs a public key (x.y)')
  if (typeof weight !== 'number' || !(weight >= 0 && weight <= 1)) throw new GraphError('MALFORMED', 'A trust weight is a number in [0, 1]', { details: { weight } })
  const key = await tableKey(owner)
  await putGroupData(owner, key, await entryKey(owner.pair, pub), { pub, weight } satisfies TrustEntry)
  if (options.share) {
    if (typeof subject === 'string' || typeof subject.epub !== 'string') throw new GraphError('INVALID_KEY', 'Sharing the trust table needs the epub of the trusted key')
    await shareTrustTable(owner, subject)
  }
}

/** Shows `owner`'s trust table to `reader` (so it can follow `owner`'s links), without changing trust. */
export async function shareTrustTable(owner: User, reader: PublicIdentity): Promise<void> {
  await tableKey(owner)
  const members = await groupMembers(owner.store, owner.pub, TRUST_GROUP)
  if (!members.some((m) => m.pub === reader.pub)) await addMember(owner, TRUST_GROUP, reader)
}

/** Stops showing the table to `readerPub`: re-keys, so it cannot read the table from now on. */
export async function unshareTrustTable(owner: User, readerPub: string): Promise<void> {
  const members = await groupMembers(owner.store, owner.pub, TRUST_GROUP)
  if (members.some((m) => m.pub === readerPub)) await removeMember(owner, TRUST_GROUP, readerPub)
}

/** Removes `pub` from the table; if it could read the table, re-keys so it cannot read what follows. */
export async function removeTrust(owner: User, pub: string): Promise<void> {
  const key = await tableKey(owner)
  await putGroupData(owner, key, await entryKey(owner.pair, pub), null)
  const members = await groupMembers(owner.store, owner.pub, TRUST_GROUP)
  if (members.some((m) => m.pub === pub)) await removeMember(owner, TRUST_GROUP, pub)
}

/**
 * The trust table of `ownerPub` as `reader` can read it (the owner, or a friend it was shared with):
 * trusted key → weight. GraphError NOT_A_MEMBER when the reader may not read it.
 */
export async function readTrustTable(store: GraphStore, reader: SeaPair, ownerPub: string): Promise<Map<string, number>> {
  if (store.value(groupSoul(ownerPub, TRUST_GROUP), 'epoch') === undefined) return new Map()
  const key = await openGroupKey(store, reader, ownerPub, TRUST_GROUP)
  const node = store.get(groupSoul(ownerPub, TRUST_GROUP, 'data'))
  const table = new Map<string, number>()
  for (const id of node === undefined ? [] : Object.keys(node)) {
    if (id === '_') continue
    const entry = (await readGroupData(store, key, id)) as TrustEntry | null | undefined
    if (entry && typeof entry.pub === 'string' && typeof entry.weight === 'number') table.set(entry.pub, entry.weight)
  }
  return table
}

/**
 * Loads every trust table `reader` can read within `maxDegrees` hops of itself (its own, those shared
 * with it, those shared with it by their owners…), for weightedTrust.
 */
export async function loadTrustWeb(store: GraphStore, reader: SeaPair, maxDegrees = 3): Promise<Map<string, ReadonlyMap<string, number>>> {
  const web = new Map<string, ReadonlyMap<string, number>>()
  let level = [reader.pub]
  for (let degree = 0; degree < maxDegrees && level.length > 0; degree++) {
    const next: string[] = []
    for (const pub of level) {
      if (web.has(pub)) continue
      let table: Map<string, number>
      try {
        table = await readTrustTable(store, reader, pub)
      } catch (error) {
        if (error instanceof GraphError && (error.code === 'NOT_A_MEMBER' || error.code === 'DECRYPT_FAILED')) continue // not shown to us
        throw error
      }
      web.set(pub, table)
      for (const [to, weight] of table) if (weight > 0 && !web.has(to)) next.push(to)
    }
    level = next
  }
  return web
}

/** `reader`'s weighted trust in every key it can reach (see weightedTrust for the formula). */
export async function trustScores(store: GraphStore, reader: SeaPair, options: WeightedTrustOptions = {}): Promise<Map<string, TrustScore>> {
  const web = await loadTrustWeb(store, reader, options.maxDegrees ?? 3)
  return weightedTrust(reader.pub, (pub) => web.get(pub), options)
}

