import type { Address } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { readContract, type AnyClient, type ReadOptions } from '../internal/contract.ts'

export type GetP2pAddressParameters = ReadOptions & {
  /** TaskManager address. */
  address: Address
  node: Address
}

/** A node's registered p2p multiaddr ('' if unregistered) (TaskManager.p2pAddressOf). */
export async function getP2pAddress(client: AnyClient, parameters: GetP2pAddressParameters): Promise<string> {
  const { address, node, ...options } = parameters
  return readContract(client, { abi: taskManagerAbi, address, functionName: 'p2pAddressOf', args: [node], ...options })
}
