// Group keys (seed 004 §3.4 "peers can secretly exchange other keys or group keys", appendix A3.3).
// A group lives in its owner's user graph, so only the owner can change it and every value is signed:
//   ~owner/groups/<id>          { epoch }                        the current key generation
//   ~owner/groups/<id>/members  { <pub>: <epub> | null }          null = removed
//   ~owner/groups/<id>/keys     { <pub>: SEA{ct,iv,s} | null }    {epoch,key} encrypted to that member (ECDH)
//   ~owner/groups/<id>/data     { <key>: SEA{ct,iv,s} }           group data, encrypted with the group key
// Removing a member re-keys (A3.3): a new random key, shared with the remaining members only, and all
// the data re-cyphered with it; the removed member's old key opens nothing written afterwards.

import { GraphError } from '../errors.ts'
import type { GraphStore } from '../graph-store.ts'
import type { Soul, Value } from '../types.ts'
import { decrypt } from './decrypt.ts'
import { randomBytes, toBase64Url } from './encoding.ts'
import { encrypt } from './encrypt.ts'
import { decryptFrom, encryptFor } from './recipient.ts'
import type { PublicIdentity, SeaPair } from './types.ts'
import { readUserValue, type User } from './user.ts'
import { userSoul } from './user-space.ts'

/** A group key of one generation: `key` is a random 256-bit base64url string used as a SEA key. */
export type GroupKey = { groupId: string; ownerPub: string; epoch: number; key: string }

const GROUP_ID = /^[\w.-]{1,128}$/

export function groupSoul(ownerPub: string, groupId: string, part?: 'members' | 'keys' | 'data'): Soul {
  if (!GROUP_ID.test(groupId)) throw new GraphError('MALFORMED', 'A group id is 1-128 letters, digits, "_", "." or "-"', { details: { groupId } })
  return `${userSoul(ownerPub)}/groups/${groupId}${part === undefined ? '' : `/${part}`}`
}

const groupPath = (groupId: string, part?: string) => `groups/${groupId}${part === undefined ? '' : `/${part}`}`

function newKey(): string {
  return toBase64Url(randomBytes(32))
}

async function shareKey(owner: User, groupId: string, key: GroupKey, members: PublicIdentity[]): Promise<void> {
  const shares: Record<string, Value> = {}
  for (const member of members) shares[member.pub] = await encryptFor({ epoch: key.epoch, key: key.key }, owner.pair, member)
  await owner.put(groupPath(groupId, 'keys'), shares)
}

/** Creates group `groupId` owned by `owner` with `members` (the owner is always a member). */
export async function createGroup(owner: User, groupId: string, members: PublicIdentity[] = []): Promise<GroupKey> {
  groupSoul(owner.pub, groupId)
  if (owner.store.value(groupSoul(owner.pub, groupId), 'epoch') !== undefined) {
    throw new GraphError('MALFORMED', 'This group already exists', { details: { groupId } })
  }
  const everyone = uniqueMembers([{ pub: owner.pub, epub: owner.epub }, ...members])
  const key: GroupKey = { groupId, ownerPub: owner.pub, epoch: 1, key: newKey() }
  await owner.put(groupPath(groupId, 'members'), Object.fromEntries(everyone.map((m) => [m.pub, m.epub])))
  await shareKey(owner, groupId, key, everyone)
  await owner.put(groupPath(groupId), { epoch: key.epoch })
  return key
}

function uniqueMembers(members: PublicIdentity[]): PublicIdentity[] {
  const byPub = new Map<string, PublicIdentity>()
  for (const member of members) {
    if (typeof member?.pub !== 'string' || typeof member.epub !== 'string') throw new GraphError('INVALID_KEY', 'A member needs pub and epub')
    byPub.set(member.pub, { pub: member.pub, epub: member.epub })
  }
  return [...byPub.values()]
}

/** The current members (pub → epub), from the owner's signed member list. */
export async function groupMembers(store: GraphStore, ownerPub: string, groupId: string): Promise<PublicIdentity[]> {
  const soul = groupSoul(ownerPub, groupId, 'members')
  const node = store.get(soul)
  if (node === undefined) return []
  const members: PublicIdentity[] = []
  for (const pub of Object.keys(node)) {
    if (pub === '_') continue
    const epub = await readUserValue(store, soul, pub)
    if (typeof epub === 'string') members.push({ pub, epub })
  }
  return members
}

async function currentEpoch(store: GraphStore, ownerPub: string, groupId: string): Promise<number> {
  const epoch = await readUserValue(store, groupSoul(ownerPub, groupId), 'epoch')
  if (typeof epoch !== 'number') throw new GraphError('NOT_A_MEMBER', 'No such group here', { details: { ownerPub, groupId } })
  return epoch
}

/**
 * The current group key, for `reader` (a member): its share decrypted with the ECDH secret of the
 * owner's epub and the reader's pair. GraphError NOT_A_MEMBER when the reader has no share of the
 * current generation (never added, or removed).
 */
export async function openGroupKey(store: GraphStore, reader: SeaPair, ownerPub: string, groupId: string): Promise<GroupKey> {
  const epoch = await currentEpoch(store, ownerPub, groupId)
  const share = await readUserValue(store, groupSoul(ownerPub, groupId, 'keys'), reader.pub)
  const ownerEpub = await readUserValue(store, userSoul(ownerPub), 'epub')
  if (typeof share !== 'string' || typeof ownerEpub !== 'string') {
    throw new GraphError('NOT_A_MEMBER', 'Not a member of this group', { details: { ownerPub, groupId, pub: reader.pub } })
  }
  const opened = (await decryptFrom(share, reader, ownerEpub)) as { epoch?: unknown; key?: unknown }
  if (opened?.epoch !== epoch || typeof opened.key !== 'string') {
    throw new GraphError('NOT_A_MEMBER', 'No share of the current group key for this member', { details: { ownerPub, groupId, epoch, pub: reader.pub } })
  }
  return { groupId, ownerPub, epoch, key: opened.key }
}

/** Adds a member: they get a share of the current key (and so can read the group's data). */
export async function addMember(owner: User, groupId: string, member: PublicIdentity): Promise<void> {
  const epoch = await currentEpoch(owner.store, owner.pub, groupId)
  const key = await openGroupKey(owner.store, owner.pair, owner.pub, groupId)
  const [fresh] = uniqueMembers([member])
  await owner.put(groupPath(groupId, 'members'), { [fresh!.pub]: fresh!.epub })
  await shareKey(owner, groupId, { ...key, epoch }, [fresh!])
}

/**
 * Removes a member by re-keying (A3.3): a new key of the next epoch, shared with the remaining members
 * only; the removed member's share and membership are deleted; every value of the group's data node is
 * re-cyphered with the new key. Returns the new key.
 */
export async function removeMember(owner: User, groupId: string, memberPub: string): Promise<GroupKey> {
  if (memberPub === owner.pub) throw new GraphError('MALFORMED', 'The owner cannot be removed from its group', { details: { groupId } })
  const old = await openGroupKey(owner.store, owner.pair, owner.pub, groupId)
  const remaining = (await groupMembers(owner.store, owner.pub, groupId)).filter((m) => m.pub !== memberPub)
  const next: GroupKey = { groupId, ownerPub: owner.pub, epoch: old.epoch + 1, key: newKey() }
  // Data first, then shares, then the epoch: a reader sees either the old generation or the new one whole.
  const dataSoul = groupSoul(owner.pub, groupId, 'data')
  const node = owner.store.get(dataSoul)
  const recyphered: Record<string, Value> = {}
  for (const key of node === undefined ? [] : Object.keys(node)) {
    if (key === '_') continue
    const sealed = await readUserValue(owner.store, dataSoul, key)
    recyphered[key] = sealed === null ? null : await encrypt(await decrypt(sealed, old.key), next.key)
  }
  if (Object.keys(recyphered).length > 0) await owner.put(groupPath(groupId, 'data'), recyphered)
  await owner.put(groupPath(groupId, 'members'), { [memberPub]: null })
  await owner.put(groupPath(groupId, 'keys'), { [memberPub]: null })
  await shareKey(owner, groupId, next, remaining)
  await owner.put(groupPath(groupId), { epoch: next.epoch })
  return next
}

/** Encrypts `value` with the group key and writes it under `key` in the group's data node (owner only). */
export async function putGroupData(owner: User, key: GroupKey, dataKey: string, value: unknown): Promise<void> {
  await owner.put(groupPath(key.groupId, 'data'), { [dataKey]: value === null ? null : await encrypt(value, key.key) })
}

/** Reads and decrypts one value of a group's data node. GraphError DECRYPT_FAILED with a stale or foreign key. */
export async function readGroupData(store: GraphStore, key: GroupKey, dataKey: string): Promise<unknown> {
  const sealed = await readUserValue(store, groupSoul(key.ownerPub, key.groupId, 'data'), dataKey)
  if (sealed === undefined || sealed === null) return sealed
  return decrypt(sealed, key.key)
}
