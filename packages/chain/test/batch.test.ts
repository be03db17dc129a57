// Batched submissions on anvil through the actions: nodes sign (EIP-712), one batcher posts,
// entries decode from calldata + event, proofs materialize them, and a batched node is audited,
// selected and paid like a direct one. Plus the pure tree against the contract's.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { buildDistribution, equalSplit } from '@coop/protocol'
import fc from 'fast-check'
import { keccak256, parseUnits, stringToHex, type Hex } from 'viem'

import {
  batchEntriesRoot,
  batchEntryLeaf,
  batchEntryProof,
  decodeBatchWeights,
  isContractError,
  setChainTime,
  taskParams,
  type BatchedEntry,
  type SignedSubmission,
  type TaskParams,
} from '../src/index.ts'
import { rejection, startDevnet, type Devnet, type TestNode } from './helpers.ts'

const STAKE = parseUnits('1000', 18)
let net: Devnet
let params: TaskParams
let taskId: bigint
let startTime: bigint
const start = (round: bigint) => startTime + round * params.roundLength
const work = (node: TestNode, cycle: bigint) => keccak256(stringToHex(`${node.address}:${cycle}`))

before(async () => {
  net = await startDevnet(4)
  params = taskParams({ stakeToken: net.addresses.coopToken, rewardToken: net.addresses.rewardToken })
  ;({ taskId, startTime } = await net.coop.createTask({ params, bounty: parseUnits('10000', 18) }))
  for (const [i, node] of net.nodes.entries()) {
    await node.coop.stake({ taskId, amount: STAKE * BigInt(i + 1) })
    await node.coop.registerNode({ p2pAddress: `/ip4/127.0.0.1/tcp/4001/p2p/batch-${node.name}` })
  }
})
after(async () => {
  await net?.stop()
})

test('the TS batch tree: every proof folds to the root by OpenZeppelin MerkleProof rules', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 2 ** 31 }), (count, seed) => {
      const leaves = Array.from({ length: count }, (_, i) => keccak256(stringToHex(`${seed}:${i}`)))
      const root = batchEntriesRoot(leaves)
      for (let i = 0; i < count; i++) {
        // OpenZeppelin MerkleProof.processProof: fold with the sorted-pair hash.
        const folded = batchEntryProof(leaves, i).reduce<Hex>(
          (acc, sibling) => (BigInt(acc) < BigInt(sibling) ? keccak256(`${acc}${sibling.slice(2)}`) : keccak256(`${sibling}${acc.slice(2)}`)),
          leaves[i]!,
        )
        assert.equal(folded, root)
      }
    }),
    { seed: 42, numRuns: 60 },
  )
  assert.throws(() => batchEntryProof([keccak256('0x01')], 1), /outside the batch/)
  assert.throws(() => decodeBatchWeights('0x00', 1), /20 per entry/)
})

test('nodes sign, one batcher posts all, entries decode from calldata + event and match the entries root', async () => {
  await setChainTime(net.time, start(1n))
  const signed: SignedSubmission[] = []
  for (const node of net.nodes.slice(0, 3)) signed.push(await node.coop.signSubmission({ taskId, cycle: 0n, root: work(node, 0n) }))
  // The batcher is not a node: any account may post.
  const posted = await net.coop.submitBatch({ taskId, cycle: 0n, entries: signed })
  assert.equal(posted.batchIndex, 0n)
  assert.deepEqual(
    posted.recorded.map((entry) => [entry.node, entry.position, entry.weightEnd - entry.weightStart]),
    net.nodes.slice(0, 3).map((node, i) => [node.address, BigInt(i), STAKE * BigInt(i + 1)]),
  )
  const batch = await net.coop.getBatchEntries({ taskId, cycle: 0n })
  assert.equal(batch.length, 1)
  assert.deepEqual(batch[0]!.entries, posted.recorded)
  assert.equal(batchEntriesRoot(posted.recorded.map(batchEntryLeaf)), batch[0]!.entriesRoot)
  // The leaf rule is the contract's.
  const onChainLeaf = await net.creator.readContract({
    address: net.addresses.taskManager,
    abi: (await import('../src/index.ts')).taskManagerAbi,
    functionName: 'batchEntryLeaf',
    args: [posted.recorded[1]!],
  })
  assert.equal(onChainLeaf, batchEntryLeaf(posted.recorded[1]!))

  // The fourth node submits directly; a second batch with a repeated node is refused, naming it.
  const fourth = net.nodes[3]!
  await fourth.coop.submit({ taskId, cycle: 0n, root: work(fourth, 0n) })
  const again = await rejection(() => net.coop.submitBatch({ taskId, cycle: 0n, entries: [signed[1]!] }))
  assert.ok(isContractError(again, 'BatchEntryRejected'), String(again))
  assert.equal(again.args[0], 0n, 'entry index')
  assert.equal(again.args[1], net.nodes[1]!.address)
  // A signature over another root is refused with the entry's index.
  const forged = { ...(await fourth.coop.signSubmission({ taskId, cycle: 0n, root: work(fourth, 9n) })), root: work(fourth, 0n) }
  const bad = await rejection(() => net.coop.submitBatch({ taskId, cycle: 0n, entries: [forged] }))
  assert.ok(isContractError(bad, 'InvalidBatchSignature'), String(bad))

  const { submitters } = await net.coop.getCycleSubmitters({ taskId, cycle: 0n })
  assert.deepEqual(
    submitters.map((s) => [s.node, s.index, s.batch !== undefined]),
    [[fourth.address, 0n, false], ...net.nodes.slice(0, 3).map((node, i) => [node.address, BigInt(i + 1), true])],
    'direct submitters first, then batched entries by position',
  )
})

test('a batched node is materialized from its proof, audited and convicted like a direct one', async () => {
  await setChainTime(net.time, start(1n) + params.submissionWindow)
  const [accused, accuser] = [net.nodes[0]!, net.nodes[3]!]
  const early = await rejection(() => accuser.coop.raiseAudit({ taskId, cycle: 0n, accused: accused.address, evidenceCid: work(accuser, 99n) }))
  assert.ok(isContractError(early, 'NoSubmission'), 'a batched submission is audited once materialized')
  const proof = await accuser.coop.buildMaterializeProof({ taskId, cycle: 0n, node: accused.address })
  assert.ok(proof)
  const materialized = await accuser.coop.materializeSubmission({ taskId, cycle: 0n, ...proof })
  assert.equal(materialized.index, 1n)
  assert.equal(materialized.created, true)
  const again = await accuser.coop.materializeSubmission({ taskId, cycle: 0n, ...proof })
  assert.equal(again.created, false, 'idempotent')
  const submission = await net.coop.getSubmission({ taskId, cycle: 0n, node: accused.address })
  assert.equal(submission.root, work(accused, 0n))
  assert.equal(submission.batched, true)

  const { auditId, deadline } = await accuser.coop.raiseAudit({ taskId, cycle: 0n, accused: accused.address, evidenceCid: work(accuser, 99n) })
  await net.nodes[2]!.coop.vote({ auditId, side: 1 })
  await setChainTime(net.time, deadline)
  await net.coop.resolveAudit({ auditId })
  assert.equal((await net.coop.getAudit({ auditId })).upheld, true)
  assert.equal((await net.coop.getSubmission({ taskId, cycle: 0n, node: accused.address })).convicted, true)
  const forgedEntry: BatchedEntry = { ...proof.entry, weightEnd: proof.entry.weightEnd + 1n }
  const forged = await rejection(() => accuser.coop.materializeSubmission({ taskId, cycle: 0n, batchIndex: 0n, entry: forgedEntry, proof: proof.proof }))
  assert.ok(isContractError(forged, 'InvalidBatchProof'))
})

test('the selected distributor is found across direct and batched lines; a batched poster materializes and posts its list and SCALE head', async () => {
  await setChainTime(net.time, start(2n))
  const attempt = await net.coop.currentDistributionAttempt({ taskId, cycle: 0n })
  const selected = await net.coop.selectedDistributor({ taskId, cycle: 0n, attempt })
  assert.ok(selected.node)
  const poster = net.nodes.find((node) => node.address === selected.node)!
  if (selected.batched) await poster.coop.materializeSubmission({ taskId, cycle: 0n, ...selected.batched })
  const { submitters } = await net.coop.getCycleSubmitters({ taskId, cycle: 0n })
  const passed: Hex[] = []
  for (const s of submitters) if (!(await net.coop.getSubmission({ taskId, cycle: 0n, node: s.node })).convicted) passed.push(s.node)
  const state = await net.coop.getCycle({ taskId, cycle: 0n })
  const list = buildDistribution({ taskId, cycle: 0n, entries: equalSplit(state.budget, state.bonus, passed) })
  if ((await net.coop.getSubmission({ taskId, cycle: 0n, node: poster.address })).convicted) return // a convict's turn only times out
  await poster.coop.postDistribution({
    taskId,
    cycle: 0n,
    submitterIndex: selected.index,
    merkleRoot: list.root,
    listCid: keccak256('0x11'),
    rewardTotal: list.totalReward,
    bonusTotal: list.totalBonus,
    scaleHead: keccak256('0x5ca1e'),
  })
  assert.equal((await net.coop.getCycle({ taskId, cycle: 0n })).scaleHead, keccak256('0x5ca1e'))
  await setChainTime(net.time, start(2n) + params.distributionAuditWindow)
  await net.coop.finalizeDistribution({ taskId, cycle: 0n })
})
