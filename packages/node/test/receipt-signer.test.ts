// Receipt signatures: eip191-sign.mjs (noble directly) is byte for byte viem's signMessage, and the
// worker-thread signer gives the same signatures for many concurrent requests.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import fc from 'fast-check'
import { hexToBytes, recoverMessageAddress, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'

import { personalSign } from '../src/scale/eip191-sign.mjs'
import { createReceiptSigner } from '../src/scale/receipt-signer.ts'

test('personalSign equals viem signMessage (any key, any message incl. non-ASCII)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((k) => k.some((b) => b !== 0)), fc.string({ unit: 'grapheme', maxLength: 300 }), async (key, message) => {
      const hex = `0x${Buffer.from(key).toString('hex')}` as Hex
      let account: ReturnType<typeof privateKeyToAccount>
      try {
        account = privateKeyToAccount(hex)
      } catch {
        return // not a valid secp256k1 scalar (≥ n)
      }
      assert.equal(personalSign(hexToBytes(hex), message), await account.signMessage({ message }))
    }),
    { numRuns: 60, seed: 7 },
  )
})

test('the worker signer: same signatures as viem, in order, for a concurrent burst; closes cleanly', async () => {
  const key = `0x${'4c'.repeat(32)}` as Hex
  const account = privateKeyToAccount(key)
  const signer = createReceiptSigner(key, { worker: true })
  try {
    assert.equal(signer.address, account.address)
    const messages = Array.from({ length: 50 }, (_, i) => `Coop device receipt v1\nposition ${i}`)
    const sigs = await Promise.all(messages.map((message) => signer.signMessage({ message })))
    for (const [i, message] of messages.entries()) {
      assert.equal(sigs[i], await account.signMessage({ message }))
      assert.equal(await recoverMessageAddress({ message, signature: sigs[i]! }), account.address)
    }
  } finally {
    await signer.close()
  }
  // After close it signs on the calling thread.
  assert.equal(await signer.signMessage({ message: 'after' }), await account.signMessage({ message: 'after' }))
})
