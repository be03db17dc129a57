import { ProtocolError } from './errors.ts'

export const MAX_UINT256 = 2n ** 256n - 1n

// Checked arithmetic: Solidity 0.8 reverts on overflow, underflow and division by zero, so the
// twins throw at exactly the same inputs instead of returning a value the chain never would.

export function checkedAdd(a: bigint, b: bigint): bigint {
  const sum = a + b
  if (sum > MAX_UINT256) throw new ProtocolError('UINT256_OVERFLOW', 'uint256 addition overflows', { details: { a, b } })
  return sum
}

export function checkedSub(a: bigint, b: bigint): bigint {
  if (b > a) throw new ProtocolError('UINT256_UNDERFLOW', 'uint256 subtraction underflows', { details: { a, b } })
  return a - b
}

export function checkedMul(a: bigint, b: bigint): bigint {
  const product = a * b
  if (product > MAX_UINT256) {
    throw new ProtocolError('UINT256_OVERFLOW', 'uint256 multiplication overflows', { details: { a, b } })
  }
  return product
}

export function checkedDiv(a: bigint, b: bigint): bigint {
  if (b === 0n) throw new ProtocolError('DIVISION_BY_ZERO', 'division by zero', { details: { a } })
  return a / b
}

export function checkedMod(a: bigint, b: bigint): bigint {
  if (b === 0n) throw new ProtocolError('DIVISION_BY_ZERO', 'modulo by zero', { details: { a } })
  return a % b
}
