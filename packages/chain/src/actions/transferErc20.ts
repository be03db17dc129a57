import { erc20Abi, type Address } from 'viem'

import { writeContract, type AnyClient, type WriteOptions, type WriteResult } from '../internal/contract.ts'

export type TransferErc20Parameters = WriteOptions & {
  /** Token address. */
  address: Address
  to: Address
  amount: bigint
}

export type TransferErc20ReturnType = WriteResult<typeof erc20Abi>

/** ERC-20 transfer. */
export async function transferErc20(client: AnyClient, parameters: TransferErc20Parameters): Promise<TransferErc20ReturnType> {
  const { address, to, amount, ...options } = parameters
  return writeContract(client, { abi: erc20Abi, address, functionName: 'transfer', args: [to, amount], ...options })
}
