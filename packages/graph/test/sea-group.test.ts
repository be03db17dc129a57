import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { isGraphError } from '../src/errors.ts'
import { GraphStore } from '../src/graph-store.ts'
import { pair } from '../src/sea/index.ts'
import { addMember, createGroup, groupMembers, groupSoul, openGroupKey, putGroupData, readGroupData, removeMember } from '../src/sea/group.ts'
import { decryptFrom, encryptFor } from '../src/sea/recipient.ts'
import { createUser } from '../src/sea/user.ts'
import { userGraphVerifier } from '../src/sea/verify-user-delta.ts'
import { SEA } from './sea-gun.ts'

const rejectsWith = (code: string) => (error: unknown) => {
  assert.ok(isGraphError(error), `expected a GraphError ${code}, got ${String(error)}`)
  assert.equal(error.code, code)
  return true
}

// Account creation is not what these tests are about: a cheaper work factor for them.
const FAST = { iterations: 1000 }

describe('encryption to a recipient (ECDH)', () => {
  test('only the recipient (and the sender) can read it; a gun app reads it with SEA.secret + SEA.decrypt', async () => {
    const alice = await pair()
    const bob = await pair()
    const eve = await pair()
    const message = await encryptFor({ text: 'for bob only' }, alice, bob)
    assert.deepEqual(await decryptFrom(message, bob, alice), { text: 'for bob only' })
    assert.deepEqual(await decryptFrom(message, alice, bob), { text: 'for bob only' })
    await assert.rejects(decryptFrom(message, eve, alice), rejectsWith('DECRYPT_FAILED'))
    assert.deepEqual(await SEA.decrypt(message, await SEA.secret(alice.epub, bob)), { text: 'for bob only' })
    const fromGun = await SEA.encrypt('from gun', await SEA.secret(bob.epub, alice))
    assert.equal(await decryptFrom(fromGun, bob, alice), 'from gun')
  })
})

describe('group keys with re-keying on removal (seed A3.3)', () => {
  test('members read group data; a removed member cannot decrypt anything written or re-cyphered afterwards', async () => {
    const store = await GraphStore.open({ verify: userGraphVerifier() })
    const alice = await createUser(store, 'alice', 'alice password', FAST)
    const bob = await createUser(store, 'bob', 'bob password', FAST)
    const carol = await createUser(store, 'carol', 'carol password', FAST)
    const dave = await createUser(store, 'dave', 'dave password', FAST)

    const v1 = await createGroup(alice, 'book-club', [bob, carol])
    assert.equal(v1.epoch, 1)
    assert.deepEqual((await groupMembers(store, alice.pub, 'book-club')).map((m) => m.pub).sort(), [alice.pub, bob.pub, carol.pub].sort())
    await putGroupData(alice, v1, 'next-book', { title: 'Dune', chapter: 3 })
    // what travels and is stored is ciphertext
    assert.match(String(store.value(groupSoul(alice.pub, 'book-club', 'data'), 'next-book')), /SEA\{\\"ct\\"/)

    const bobKey1 = await openGroupKey(store, bob.pair, alice.pub, 'book-club')
    const carolKey1 = await openGroupKey(store, carol.pair, alice.pub, 'book-club')
    assert.equal(bobKey1.key, v1.key)
    assert.equal(carolKey1.key, v1.key)
    assert.deepEqual(await readGroupData(store, carolKey1, 'next-book'), { title: 'Dune', chapter: 3 })
    await assert.rejects(openGroupKey(store, dave.pair, alice.pub, 'book-club'), rejectsWith('NOT_A_MEMBER'))

    // a member's share opens with gun's SEA too (same ECDH + AES-GCM envelope)
    const share = JSON.parse(String(store.value(groupSoul(alice.pub, 'book-club', 'keys'), bob.pub)))[':']
    assert.deepEqual(await SEA.decrypt(share, await SEA.secret(alice.epub, bob.pair)), { epoch: 1, key: v1.key })

    const v2 = await removeMember(alice, 'book-club', carol.pub)
    assert.equal(v2.epoch, 2)
    assert.notEqual(v2.key, v1.key)
    await putGroupData(alice, v2, 'meeting', 'Thursday 7pm')

    // carol, who kept her old key, can read neither the new data nor the re-cyphered old data
    await assert.rejects(readGroupData(store, carolKey1, 'meeting'), rejectsWith('DECRYPT_FAILED'))
    await assert.rejects(readGroupData(store, carolKey1, 'next-book'), rejectsWith('DECRYPT_FAILED'))
    await assert.rejects(openGroupKey(store, carol.pair, alice.pub, 'book-club'), rejectsWith('NOT_A_MEMBER'))
    assert.deepEqual((await groupMembers(store, alice.pub, 'book-club')).map((m) => m.pub).sort(), [alice.pub, bob.pub].sort())

    // bob gets the new key and reads everything
    const bobKey2 = await openGroupKey(store, bob.pair, alice.pub, 'book-club')
    assert.equal(bobKey2.key, v2.key)
    assert.equal(await readGroupData(store, bobKey2, 'meeting'), 'Thursday 7pm')
    assert.deepEqual(await readGroupData(store, bobKey2, 'next-book'), { title: 'Dune', chapter: 3 })
    // bob's stale key no longer opens anything
    await assert.rejects(readGroupData(store, bobKey1, 'meeting'), rejectsWith('DECRYPT_FAILED'))

    // adding dave shares the current key
    await addMember(alice, 'book-club', dave)
    assert.equal((await openGroupKey(store, dave.pair, alice.pub, 'book-club')).key, v2.key)
    await store.close()
  })

  test('only the owner can change a group: a member forging a share or the epoch is refused (BAD_SIGNATURE)', async () => {
    const store = await GraphStore.open({ verify: userGraphVerifier() })
    const alice = await createUser(store, 'alice', 'alice password', FAST)
    const mallory = await createUser(store, 'mallory', 'mallory password', FAST)
    await createGroup(alice, 'g', [mallory])
    const before = store.graph()
    // mallory signs with her own key but writes into alice's group souls
    const forged = { [groupSoul(alice.pub, 'g')]: { _: { '#': groupSoul(alice.pub, 'g'), '>': { epoch: Date.now() } }, epoch: 99 } }
    const { signUserDelta } = await import('../src/sea/user-space.ts')
    await assert.rejects(store.put(await signUserDelta(forged, mallory.pair)), rejectsWith('BAD_SIGNATURE'))
    await assert.rejects(store.put(forged), rejectsWith('BAD_SIGNATURE'))
    assert.deepEqual(store.graph(), before)
    await assert.rejects(createGroup(alice, 'bad id!'), rejectsWith('MALFORMED'))
    await assert.rejects(removeMember(alice, 'g', alice.pub), rejectsWith('MALFORMED'))
    await store.close()
  })
})
