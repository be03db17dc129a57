import { StandardMerkleTree } from '@openzeppelin/merkle-tree'
import { type Address, type Hex, concat, encodeAbiParameters, keccak256 } from 'viem'
import { ProtocolError } from './errors.ts'
import { checkedAdd } from './uint256.ts'
import { assertBytes32, assertUint256, toChecksumAddress } from './validate.ts'

// Distribution lists: one leaf per node, claimed with TaskManager.claimRewards. The leaf is
// TaskManager.distributionLeaf; the tree is OpenZeppelin's StandardMerkleTree (sorted-pair
// hashing, verified on-chain by OZ MerkleProof). Vectors: vectors/merkle.json.

/** ABI types of a leaf, in TaskManager.distributionLeaf's order. */
export const DISTRIBUTION_LEAF_TYPES = ['uint256', 'uint256', 'address', 'uint256', 'uint256'] as const

export interface DistributionEntry {
  node: Address
  /** Reward token. */
  reward: bigint
  /** Stake token (slashed stake returned to the cycle). */
  bonus: bigint
}

export interface DistributionLeaf extends DistributionEntry {
  leaf: Hex
  proof: Hex[]
}

export interface Distribution {
  taskId: bigint
  cycle: bigint
  root: Hex
  /** Posted as rewardTotal; must not exceed the cycle's budget. */
  totalReward: bigint
  /** Posted as bonusTotal; must not exceed the cycle's bonus. */
  totalBonus: bigint
  /** In the order of the entries given, with checksummed nodes. */
  leaves: DistributionLeaf[]
  /** Proof per checksummed node address (see proofOf for any casing). */
  proofs: Record<Address, Hex[]>
}

/**
 * TaskManager.distributionLeaf: keccak256(keccak256(abi.encode(taskId, cycle, node, reward,
 * bonus))). Hashing twice keeps a 64-byte inner node from ever passing as a leaf.
 */
export function distributionLeaf(taskId: bigint, cycle: bigint, node: Address, reward: bigint, bonus: bigint): Hex {
  const encoded = encodeAbiParameters(
    DISTRIBUTION_LEAF_TYPES.map((type) => ({ type })),
    [
      assertUint256(taskId, 'taskId'),
      assertUint256(cycle, 'cycle'),
      toChecksumAddress(node, 'node'),
      assertUint256(reward, 'reward'),
      assertUint256(bonus, 'bonus'),
    ],
  )
  return keccak256(keccak256(encoded))
}

/**
 * Builds the list's Merkle tree. Leaves are sorted by hash inside the tree, so the root depends
 * only on the set of entries, not on their order: any honest distributor gets the same root.
 */
export function buildDistribution(input: { taskId: bigint; cycle: bigint; entries: readonly DistributionEntry[] }): Distribution {
  const taskId = assertUint256(input.taskId, 'taskId')
  const cycle = assertUint256(input.cycle, 'cycle')
  if (input.entries.length === 0) {
    throw new ProtocolError('EMPTY_DISTRIBUTION', 'a distribution needs at least one entry', { details: { taskId, cycle } })
  }
  const entries = normalizeEntries(input.entries)
  let totalReward = 0n
  let totalBonus = 0n
  for (const entry of entries) {
    totalReward = checkedAdd(totalReward, entry.reward)
    totalBonus = checkedAdd(totalBonus, entry.bonus)
  }
  const tree = StandardMerkleTree.of(
    entries.map((entry) => [taskId, cycle, entry.node, entry.reward, entry.bonus]),
    [...DISTRIBUTION_LEAF_TYPES],
  )
  const root = tree.root as Hex
  const proofs: Record<Address, Hex[]> = {}
  const leaves = entries.map((entry, index): DistributionLeaf => {
    const proof = tree.getProof(index) as Hex[]
    proofs[entry.node] = proof
    return { ...entry, leaf: distributionLeaf(taskId, cycle, entry.node, entry.reward, entry.bonus), proof }
  })
  return { taskId, cycle, root, totalReward, totalBonus, leaves, proofs }
}

/** The proof of `node` in `distribution`, whatever the casing of `node`; undefined if absent. */
export function proofOf(distribution: Distribution, node: Address): Hex[] | undefined {
  return distribution.proofs[toChecksumAddress(node, 'node')]
}

/** OZ MerkleProof.processProof: folds the proof into a root, hashing each pair in sorted order. */
export function merkleRootFromProof(leaf: Hex, proof: readonly Hex[]): Hex {
  let computed = assertBytes32(leaf, 'leaf')
  for (const [index, sibling] of proof.entries()) {
    assertBytes32(sibling, `proof[${index}]`)
    computed = BigInt(computed) < BigInt(sibling) ? keccak256(concat([computed, sibling])) : keccak256(concat([sibling, computed]))
  }
  return computed
}

/** What claimRewards checks: the proof leads from the node's leaf to the posted root. */
export function verifyDistributionProof(input: {
  root: Hex
  taskId: bigint
  cycle: bigint
  node: Address
  reward: bigint
  bonus: bigint
  proof: readonly Hex[]
}): boolean {
  const leaf = distributionLeaf(input.taskId, input.cycle, input.node, input.reward, input.bonus)
  return BigInt(merkleRootFromProof(leaf, input.proof)) === BigInt(assertBytes32(input.root, 'root'))
}

/**
 * The default distribution function: the reward budget and the bonus split equally among the
 * nodes whose submissions passed, sorted by address so every distributor lists them alike.
 * The integer remainder (budget mod n, bonus mod n) is given to nobody: it stays out of the
 * totals, and finalizeDistribution returns it to the task (budget to escrow, bonus to the slash
 * pool of the next cycle). No passed node yields no entries.
 */
export function equalSplit(budget: bigint, bonus: bigint, passedNodes: readonly Address[]): DistributionEntry[] {
  assertUint256(budget, 'budget')
  assertUint256(bonus, 'bonus')
  const nodes = uniqueAddresses(passedNodes).sort(compareAddresses)
  if (nodes.length === 0) return []
  const count = BigInt(nodes.length)
  return nodes.map((node) => ({ node, reward: budget / count, bonus: bonus / count }))
}

/** Orders addresses by numeric value (as uint160), independent of checksum casing. */
export function compareAddresses(a: Address, b: Address): number {
  const x = BigInt(a)
  const y = BigInt(b)
  return x < y ? -1 : x > y ? 1 : 0
}

function normalizeEntries(entries: readonly DistributionEntry[]): DistributionEntry[] {
  const nodes = uniqueAddresses(entries.map((entry) => entry.node))
  return entries.map((entry, index) => ({
    node: nodes[index] as Address,
    reward: assertUint256(entry.reward, `entries[${index}].reward`),
    bonus: assertUint256(entry.bonus, `entries[${index}].bonus`),
  }))
}

/** Checksums every address and rejects repeats: a node can claim a cycle only once, so a second leaf is unclaimable. */
function uniqueAddresses(addresses: readonly Address[]): Address[] {
  const seen = new Set<Address>()
  return addresses.map((address, index) => {
    const node = toChecksumAddress(address, `nodes[${index}]`)
    if (seen.has(node)) throw new ProtocolError('DUPLICATE_NODE', 'node is listed twice', { details: { node } })
    seen.add(node)
    return node
  })
}
