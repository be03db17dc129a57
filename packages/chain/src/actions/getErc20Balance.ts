import { erc20Abi, type Address } from 'viem'

import { readContract, type AnyClient, type ReadOptions } from '../internal/contract.ts'

export type GetErc20BalanceParameters = ReadOptions & {
  /** Token address. */
  address: Address
  owner: Address
}

/** ERC-20 balanceOf. */
export async function getErc20Balance(client: AnyClient, parameters: GetErc20BalanceParameters): Promise<bigint> {
  const { address, owner, ...options } = parameters
  return readContract(client, { abi: erc20Abi, address, functionName: 'balanceOf', args: [owner], ...options })
}
