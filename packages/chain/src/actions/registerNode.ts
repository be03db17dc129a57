import type { Address } from 'viem'

import { taskManagerAbi } from '../generated/contracts.ts'
import { writeContract, type AnyClient, type WriteOptions, type WriteResult } from '../internal/contract.ts'

export type RegisterNodeParameters = WriteOptions & {
  /** TaskManager address. */
  address: Address
  /** libp2p multiaddr with peer id, e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW… */
  p2pAddress: string
}

export type RegisterNodeReturnType = WriteResult<typeof taskManagerAbi>

/** Publishes the caller's p2p address (TaskManager.registerNode); required before submitting. */
export async function registerNode(client: AnyClient, parameters: RegisterNodeParameters): Promise<RegisterNodeReturnType> {
  const { address, p2pAddress, ...options } = parameters
  return writeContract(client, {
    abi: taskManagerAbi,
    address,
    functionName: 'registerNode',
    args: [p2pAddress],
    ...options,
  })
}
