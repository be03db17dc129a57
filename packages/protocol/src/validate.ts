import { type Address, type Hex, getAddress, isAddress } from 'viem'
import { BPS } from './constants.ts'
import { ProtocolError } from './errors.ts'
import { MAX_UINT256 } from './uint256.ts'

// Input checks shared by the rules. They reject what the ABI types cannot hold, so no rule
// silently computes on a negative number or a malformed seed.

const BYTES32 = /^0x[0-9a-fA-F]{64}$/

export function assertUint256(value: bigint, name: string): bigint {
  if (typeof value !== 'bigint' || value < 0n || value > MAX_UINT256) {
    throw new ProtocolError('INVALID_UINT256', `${name} is not a uint256`, { details: { [name]: value } })
  }
  return value
}

/** A share in basis points: at most 10000 (100%), as TaskManager validates for every bps param. */
export function assertBps(value: bigint, name: string): bigint {
  assertUint256(value, name)
  if (value > BPS) throw new ProtocolError('INVALID_BPS', `${name} exceeds 10000 bps`, { details: { [name]: value } })
  return value
}

export function assertBytes32(value: Hex, name: string): Hex {
  if (typeof value !== 'string' || !BYTES32.test(value)) {
    throw new ProtocolError('INVALID_BYTES32', `${name} is not 32 bytes of hex`, { details: { [name]: value } })
  }
  return value
}

/** Returns the checksummed address; any casing is accepted, since the chain does not see casing. */
export function toChecksumAddress(value: string, name: string): Address {
  if (typeof value !== 'string' || !isAddress(value, { strict: false })) {
    throw new ProtocolError('INVALID_ADDRESS', `${name} is not an address`, { details: { [name]: value } })
  }
  return getAddress(value)
}
