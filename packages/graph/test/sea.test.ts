import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import fc from 'fast-check'
import { isGraphError } from '../src/errors.ts'
import { decrypt, encrypt, encryptRaw, pair, secret, sign, signRaw, verify, work } from '../src/sea/index.ts'
import { SEA } from './sea-gun.ts'

const B64URL_COORD = /^[A-Za-z0-9_-]{43}$/

const rejectsWith = (code: string) => (error: unknown) => {
  assert.ok(isGraphError(error), `expected a GraphError ${code}, got ${String(error)}`)
  assert.equal(error.code, code)
  return true
}

// Values of the kinds gun apps sign and encrypt: strings (including JSON-looking and non-ASCII ones), numbers, objects.
const SAMPLES: unknown[] = ['hello', 'héllo wörld ☃ 𝄞', '42', '{"a":1}', 7, 3.25, true, { name: 'alice', n: [1, 2, { x: null }] }, '']

describe('SEA pair', () => {
  test("keys are GUN's format: pub/epub = x.y base64url JWK coordinates, priv/epriv = d", async () => {
    const keys = await pair()
    for (const pub of [keys.pub, keys.epub]) {
      const [x, y] = pub.split('.')
      assert.match(x!, B64URL_COORD)
      assert.match(y!, B64URL_COORD)
    }
    assert.match(keys.priv, B64URL_COORD)
    assert.match(keys.epriv, B64URL_COORD)
    assert.notEqual(keys.pub, keys.epub)
  })
})

describe('SEA sign / verify against gun SEA', () => {
  test('signed by ours verifies with gun, signed by gun verifies with ours, same envelope', async () => {
    const ours = await pair()
    const theirs = await SEA.pair()
    for (const data of SAMPLES) {
      const signedByUs = await sign(data, ours)
      assert.ok(signedByUs.startsWith('SEA{"m":'))
      assert.deepEqual(await SEA.verify(signedByUs, ours.pub), await SEA.verify(await SEA.sign(data, theirs), theirs.pub))
      assert.deepEqual(await verify(signedByUs, ours.pub), await SEA.verify(signedByUs, ours.pub), `gun verifies ours: ${JSON.stringify(data)}`)
      const signedByGun = await SEA.sign(data, theirs)
      assert.deepEqual(await verify(signedByGun, theirs.pub), await SEA.verify(signedByGun, theirs.pub), `ours verifies gun's: ${JSON.stringify(data)}`)
      // the raw form: same { m, s } shape as gun's { raw: 1 }
      const raw = await signRaw(data, ours)
      assert.deepEqual(Object.keys(raw), ['m', 's'])
      assert.deepEqual(await SEA.verify(raw, ours.pub), await SEA.verify(signedByGun, theirs.pub))
    }
  })

  test("gun's pair signs with ours and ours signs with gun (the keys are interchangeable)", async () => {
    const theirs = await SEA.pair()
    assert.equal(await SEA.verify(await sign('x', theirs), theirs.pub), 'x')
    const ours = await pair()
    assert.equal(await verify(await SEA.sign('y', ours), ours), 'y')
  })

  test('tampered message, wrong key, garbage: BAD_SIGNATURE from ours, undefined from gun', async () => {
    const keys = await pair()
    const other = await pair()
    const signed = await signRaw({ amount: 10 }, keys)
    const tampered = { ...signed, m: { amount: 1000 } }
    await assert.rejects(verify(tampered, keys.pub), rejectsWith('BAD_SIGNATURE'))
    assert.equal(await SEA.verify(tampered, keys.pub), undefined)
    await assert.rejects(verify(signed, other.pub), rejectsWith('BAD_SIGNATURE'))
    assert.equal(await SEA.verify(signed, other.pub), undefined)
    await assert.rejects(verify('SEA{"m":1}', keys.pub), rejectsWith('BAD_SIGNATURE'))
    await assert.rejects(verify(signed, 'not-a-key'), rejectsWith('BAD_SIGNATURE'))
    await assert.rejects(sign(undefined, keys), rejectsWith('MALFORMED'))
    await assert.rejects(sign('x', { pub: keys.pub, priv: 'AAAA' }), rejectsWith('INVALID_KEY'))
  })

  test("objects are hashed as gun's YSON text (keys sorted as strings), and insertion-order signatures still verify", async () => {
    const keys = await pair()
    const unordered = { zeta: 1, alpha: { b: 2, a: 1 }, '10': 'ten', '9': 'nine', list: [{ y: 1, x: 2 }] }
    assert.deepEqual(await SEA.verify(await sign(unordered, keys), keys.pub), unordered)
    assert.deepEqual(await verify(await SEA.sign(unordered, keys), keys.pub), unordered)
    assert.equal(await work(unordered, 's', { iterations: 10 }), await SEA.work(unordered, 's', undefined, { iterations: 10 }))
    // gun without YSON (a browser build) signs SHA-256 of JSON.stringify in insertion order
    const key = await globalThis.crypto.subtle.importKey('jwk', { kty: 'EC', crv: 'P-256', x: keys.pub.split('.')[0], y: keys.pub.split('.')[1], d: keys.priv }, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])
    const hash = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(JSON.stringify(unordered)))
    const s = Buffer.from(await globalThis.crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, hash)).toString('base64')
    assert.deepEqual(await verify({ m: unordered, s }, keys.pub), unordered)
  })

  test('already signed data is returned as it is (gun: "don\'t sign if we already signed it")', async () => {
    const keys = await pair()
    const once = await sign('hi', keys)
    assert.equal(await sign(once, keys), once)
  })
})

describe('SEA work against gun SEA', () => {
  test('PBKDF2-SHA256 with 100,000 iterations, 64 bytes, base64: same output as gun for the same salt', async () => {
    const cases: Array<[unknown, string]> = [
      ['password123', 'saltsalt'],
      ['pässwörd ☃', 'ſalt-ü'],
      [{ some: 'object' }, 'x'.repeat(64)],
    ]
    for (const [data, salt] of cases) {
      const ours = await work(data, salt)
      assert.equal(ours, await SEA.work(data, salt), `work(${JSON.stringify(data)})`)
      assert.equal(Buffer.from(ours, 'base64').length, 64)
    }
  })

  test('a pair as salt uses its epub; fewer iterations and the SHA-256 mode match gun too', async () => {
    const keys = await SEA.pair()
    assert.equal(await work('pw', keys, { iterations: 1000 }), await SEA.work('pw', keys, undefined, { iterations: 1000 }))
    assert.equal(await work('pw', { epub: keys.epub }, { iterations: 1000 }), await SEA.work('pw', keys.epub, undefined, { iterations: 1000 }))
    assert.equal(await work('data', null, { name: 'SHA-256' }), await SEA.work('data', null, undefined, { name: 'SHA-256' }))
  })

  test('the documented PBKDF2-HMAC-SHA256 vector (RFC 7914 §11, 80000 iterations, first 64 bytes)', async () => {
    const out = await work('Password', 'NaCl', { iterations: 80000, encode: 'hex' })
    assert.equal(
      out,
      '4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d',
    )
  })
})

describe('SEA encrypt / decrypt against gun SEA', () => {
  test('encrypted by ours decrypts with gun and vice versa (pair keys and string keys)', async () => {
    const ours = await pair()
    const theirs = await SEA.pair()
    for (const data of SAMPLES) {
      const byUs = await encrypt(data, ours)
      assert.ok(byUs.startsWith('SEA{"ct":'))
      const expected = await SEA.decrypt(await SEA.encrypt(data, theirs), theirs)
      assert.deepEqual(await SEA.decrypt(byUs, ours), expected, `gun decrypts ours: ${JSON.stringify(data)}`)
      assert.deepEqual(await decrypt(await SEA.encrypt(data, theirs), theirs), expected, `ours decrypts gun's: ${JSON.stringify(data)}`)
      assert.deepEqual(await SEA.decrypt(await encrypt(data, 'a passphrase'), 'a passphrase'), expected)
      assert.deepEqual(await decrypt(await SEA.encrypt(data, 'a passphrase'), 'a passphrase'), expected)
    }
  })

  test('envelope sizes as gun: 15-byte iv, 9-byte salt, ciphertext + 16-byte tag', async () => {
    const raw = await encryptRaw('abc', 'k')
    assert.deepEqual(Object.keys(raw), ['ct', 'iv', 's'])
    assert.equal(Buffer.from(raw.iv, 'base64').length, 15)
    assert.equal(Buffer.from(raw.s, 'base64').length, 9)
    assert.equal(Buffer.from(raw.ct, 'base64').length, 3 + 16)
  })

  test('random salts (bytes ≥ 0x80 go through SEA\'s byte-string key derivation) round-trip both ways', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ minLength: 1, maxLength: 20 }), async (text, key) => {
        assert.equal(await SEA.decrypt(await encrypt(text, key), key), await SEA.decrypt(await SEA.encrypt(text, key), key))
        assert.equal(await decrypt(await SEA.encrypt(text, key), key), await SEA.decrypt(await SEA.encrypt(text, key), key))
      }),
      { numRuns: 40, seed: 5 },
    )
  })

  test('wrong key or tampered ciphertext: DECRYPT_FAILED; not an envelope: MALFORMED', async () => {
    const sealed = await encryptRaw({ secret: 1 }, 'right key')
    await assert.rejects(decrypt(sealed, 'wrong key'), rejectsWith('DECRYPT_FAILED'))
    const ct = Buffer.from(sealed.ct, 'base64')
    ct[0]! ^= 1
    await assert.rejects(decrypt({ ...sealed, ct: ct.toString('base64') }, 'right key'), rejectsWith('DECRYPT_FAILED'))
    await assert.rejects(decrypt('SEA{"m":1,"s":"x"}', 'right key'), rejectsWith('MALFORMED'))
    await assert.rejects(encrypt('x', ''), rejectsWith('INVALID_KEY'))
  })
})

describe('SEA secret (ECDH) against gun SEA', () => {
  test('both sides derive the same secret, equal to gun\'s; encryption to a recipient works across implementations', async () => {
    const alice = await pair()
    const bob = await SEA.pair()
    const ours = await secret(bob.epub, alice)
    assert.equal(ours, await SEA.secret(alice.epub, bob))
    assert.equal(ours, await SEA.secret(bob.epub, alice))
    assert.equal(ours, await secret(alice, bob))
    assert.match(ours, B64URL_COORD)
    // alice encrypts to bob with ours; bob decrypts with gun's SEA
    const message = await encrypt({ to: 'bob', text: 'hi' }, ours)
    assert.deepEqual(await SEA.decrypt(message, await SEA.secret(alice.epub, bob)), { to: 'bob', text: 'hi' })
    const eve = await pair()
    await assert.rejects(decrypt(message, await secret(alice.epub, eve)), rejectsWith('DECRYPT_FAILED'))
    await assert.rejects(secret('bad.key', alice), rejectsWith('INVALID_KEY'))
  })
})

after(() => {})
