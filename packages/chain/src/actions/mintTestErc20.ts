import type { Address } from 'viem'

import { testErc20Abi } from '../generated/contracts.ts'
import { writeContract, type AnyClient, type WriteOptions, type WriteResult } from '../internal/contract.ts'

export type MintTestErc20Parameters = WriteOptions & {
  /** TestERC20 address. */
  address: Address
  to: Address
  amount: bigint
}

export type MintTestErc20ReturnType = WriteResult<typeof testErc20Abi>

/** Mints a TestERC20 (devnet and tests only: anyone may mint it). */
export async function mintTestErc20(client: AnyClient, parameters: MintTestErc20Parameters): Promise<MintTestErc20ReturnType> {
  const { address, to, amount, ...options } = parameters
  return writeContract(client, { abi: testErc20Abi, address, functionName: 'mint', args: [to, amount], ...options })
}
