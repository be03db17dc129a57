import { erc20Abi, type Address } from 'viem'

import { writeContract, type AnyClient, type WriteOptions, type WriteResult } from '../internal/contract.ts'

export type ApproveErc20Parameters = WriteOptions & {
  /** Token address. */
  address: Address
  /** Usually the TaskManager. */
  spender: Address
  amount: bigint
}

export type ApproveErc20ReturnType = WriteResult<typeof erc20Abi>

/** ERC-20 approve: lets the TaskManager pull stake or bounty tokens. */
export async function approveErc20(client: AnyClient, parameters: ApproveErc20Parameters): Promise<ApproveErc20ReturnType> {
  const { address, spender, amount, ...options } = parameters
  return writeContract(client, { abi: erc20Abi, address, functionName: 'approve', args: [spender, amount], ...options })
}
