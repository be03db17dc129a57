// fast-check arbitraries shared by the property tests (not a test file itself).
import fc from 'fast-check'
import { type Address, type Hex, bytesToHex, getAddress } from 'viem'
import { MAX_UINT256 } from '../src/index.ts'

export const uint256 = fc.bigInt({ min: 0n, max: MAX_UINT256 })

/** Magnitudes spread over all bit widths up to `bits`, so both tiny and huge values appear. */
export const uintOfBits = (bits: number): fc.Arbitrary<bigint> =>
  fc.integer({ min: 0, max: bits }).chain((width) => fc.bigInt({ min: 0n, max: (1n << BigInt(width)) - 1n }))

export const bytes32: fc.Arbitrary<Hex> = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => bytesToHex(bytes))

export const address: fc.Arbitrary<Address> = fc
  .uint8Array({ minLength: 20, maxLength: 20 })
  .map((bytes) => getAddress(bytesToHex(bytes)))

export const bps = fc.bigInt({ min: 0n, max: 10_000n })

export const runs = { numRuns: 200 }
