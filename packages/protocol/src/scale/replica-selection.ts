import { type Address, encodeAbiParameters, getAddress, hexToBigInt, isAddress, keccak256 } from 'viem'
import { scaleError } from './errors.ts'

// Which nodes hold a copy of a round DAG (DESIGN.md §2 "Replication"): rendezvous (highest random
// weight) hashing of (task, cycle, owner, candidate). Every node computes the same ranking from
// on-chain facts alone, so a node that lost its blocks knows where to look, and removing one
// candidate only moves the rounds it held (the others keep their holders).

/** Hard cap on k (replication factor) a task may ask for. */
export const MAX_REPLICATION = 16

/** The rendezvous weight of `candidate` for `owner`'s round DAG of (taskId, cycle). */
export function replicaWeight(taskId: bigint, cycle: bigint, owner: Address, candidate: Address): bigint {
  return hexToBigInt(
    keccak256(
      encodeAbiParameters(
        [{ type: 'string' }, { type: 'uint256' }, { type: 'uint256' }, { type: 'address' }, { type: 'address' }],
        ['coop/scale/replica/1', taskId, cycle, owner, candidate],
      ),
    ),
  )
}

/**
 * Every candidate other than the owner, best first (highest weight; ties, impossible in practice,
 * by address). A node pushes to the first k − 1 and moves down the ranking past replicas that do
 * not answer. Duplicates are ignored; addresses are compared case-insensitively.
 */
export function rankReplicas(taskId: bigint, cycle: bigint, owner: Address, candidates: readonly Address[]): Address[] {
  if (typeof taskId !== 'bigint' || taskId < 0n) throw scaleError('MALFORMED', 'taskId is not a uint256', { taskId: String(taskId) })
  if (typeof cycle !== 'bigint' || cycle < 0n) throw scaleError('MALFORMED', 'cycle is not a uint256', { cycle: String(cycle) })
  if (!isAddress(owner, { strict: false })) throw scaleError('MALFORMED', 'owner is not an address', { owner })
  const self = getAddress(owner)
  const unique = new Map<string, Address>()
  for (const candidate of candidates) {
    if (!isAddress(candidate, { strict: false })) throw scaleError('MALFORMED', 'candidate is not an address', { candidate })
    const address = getAddress(candidate)
    if (address !== self) unique.set(address, address)
  }
  return [...unique.values()]
    .map((address) => ({ address, weight: replicaWeight(taskId, cycle, self, address) }))
    .sort((a, b) => (a.weight === b.weight ? (a.address < b.address ? -1 : 1) : a.weight > b.weight ? -1 : 1))
    .map((entry) => entry.address)
}

/** The k − 1 preferred replicas (fewer when there are not enough candidates). */
export function replicaHolders(taskId: bigint, cycle: bigint, owner: Address, candidates: readonly Address[], replication: number): Address[] {
  if (!Number.isSafeInteger(replication) || replication < 1 || replication > MAX_REPLICATION) {
    throw scaleError('MALFORMED', `replication is not an integer in 1…${MAX_REPLICATION}`, { replication })
  }
  return rankReplicas(taskId, cycle, owner, candidates).slice(0, replication - 1)
}
