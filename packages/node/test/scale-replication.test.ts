// Replication and recovery of round DAGs over real p2p hosts, real SQLite states, block stores and
// round stores (src/scale/replication.ts). The chain's answers (the cycle's submitters, the owners'
// on-chain roots) are a table here; scale-network.test.ts runs the same code against anvil.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

import { createCoopHost, isP2pError, verifyEnvelope, type CoopHost } from '@coop/p2p'
import { buildRoundDag, rankReplicas } from '@coop/protocol'
import { createContentStore, type ContentStore } from '@coop/sdk'
import { pino } from 'pino'
import { type Address, type Hex, getAddress } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'

import { REPLICA_PROTOCOL, Replication } from '../src/scale/replication.ts'
import { RoundStore } from '../src/scale/round-store.ts'
import { ScaleState } from '../src/scale/scale-state.ts'
import { openState, type NodeStore } from '../src/state/store.ts'
import { payloadSizedLeaf } from './scale-prune-series.ts'

const silent = pino({ level: 'silent' })
const TASK = 1n
const CYCLE = 3

type Peer = { address: Address; host: CoopHost; state: NodeStore; content: ContentStore; rounds: RoundStore; scale: ScaleState; replication: Replication; dir: string }

const dir = mkdtempSync(join(tmpdir(), 'coop-scale-replication-'))
const onChainRoots = new Map<string, Hex>()
let submitters: Address[] = []
const peers: Peer[] = []
const addressBook = new Map<string, string>()

function replicationOf(peer: Omit<Peer, 'replication'>): Replication {
  return new Replication({
    host: peer.host,
    rounds: peer.rounds,
    content: peer.content,
    scale: peer.scale,
    chain: {
      submitters: async () => submitters,
      submittedRoot: async (_task, _cycle, node) => onChainRoots.get(node.toLowerCase()) ?? `0x${'00'.repeat(32)}`,
    },
    multiaddrOf: async (node) => addressBook.get(node.toLowerCase()) ?? '',
    hasTask: (taskId) => taskId === TASK.toString(),
    logger: silent as never,
    requestTimeoutMs: 5_000,
  })
}

async function startPeer(name: string, privateKey: Hex): Promise<Peer> {
  const address = privateKeyToAccount(privateKey).address
  const peerDir = join(dir, name)
  const host = await createCoopHost({ privateKey, logger: silent })
  const state = openState(join(peerDir, 'state.sqlite'))
  const content = createContentStore(join(peerDir, 'content'))
  const rounds = new RoundStore({ state, content, self: address })
  const partial = { address, host, state, content, rounds, scale: new ScaleState(state), dir: peerDir }
  const peer = { ...partial, replication: replicationOf(partial) }
  peer.replication.serve()
  addressBook.set(address.toLowerCase(), host.multiaddrs()[0]!)
  return peer
}

const keys = [generatePrivateKey(), generatePrivateKey(), generatePrivateKey(), generatePrivateKey()]

before(async () => {
  for (const [i, key] of keys.entries()) peers.push(await startPeer(`node-${i}`, key))
  submitters = peers.map((peer) => peer.address)
})
after(async () => {
  for (const peer of peers) {
    await peer.host.stop()
    peer.state.close()
  }
  rmSync(dir, { recursive: true, force: true })
})

test('a round is pushed to the k − 1 ranked replicas, each verifies and acks it (signed), and holds the same DAG', async () => {
  const owner = peers[0]!
  const leaves = Array.from({ length: 300 }, (_, i) => payloadSizedLeaf(CYCLE, i))
  const record = await owner.rounds.buildOwnRound(TASK.toString(), CYCLE, leaves)
  onChainRoots.set(owner.address.toLowerCase(), record.digest!)
  const result = await owner.replication.replicate(TASK, CYCLE, 3)
  const ranking = rankReplicas(TASK, BigInt(CYCLE), owner.address, submitters)
  assert.deepEqual(result.holders, ranking.slice(0, 2))
  assert.deepEqual([...result.acked].sort(), ranking.slice(0, 2).sort())
  assert.equal(result.missing, 0)
  const acks = owner.scale.acks(TASK.toString(), CYCLE, owner.address)
  assert.equal(acks.length, 2)
  for (const ack of acks) {
    // The ack is the replica's signed answer: it verifies on its own, long after the fact.
    const message = await verifyEnvelope(ack.signed, { maxClockSkewMs: Infinity })
    assert.equal(getAddress(message.from), getAddress(ack.holder))
    assert.equal((message.body as { root: string }).root, record.root)
    const replica = peers.find((peer) => peer.address.toLowerCase() === ack.holder)!
    const held = replica.rounds.getRound(TASK.toString(), CYCLE, owner.address)!
    assert.equal(held.root, record.root)
    assert.equal(held.leafCount, 300)
    assert.equal((await replica.rounds.proveLeaf(TASK.toString(), CYCLE, 123, owner.address)).leafCid, buildRoundDag(leaves).leafCids[123])
  }
  const notChosen = peers.find((peer) => peer !== owner && !ranking.slice(0, 2).includes(peer.address))!
  assert.equal(notChosen.rounds.getRound(TASK.toString(), CYCLE, owner.address), undefined)
  // Again: nothing to do, no new push.
  assert.equal((await owner.replication.replicate(TASK, CYCLE, 3)).acked.length, 2)
})

test('an unreachable replica is skipped: the next node of the ranking takes the round', async () => {
  const owner = peers[1]!
  const record = await owner.rounds.buildOwnRound(TASK.toString(), CYCLE, Array.from({ length: 40 }, (_, i) => payloadSizedLeaf(CYCLE + 100, i)))
  onChainRoots.set(owner.address.toLowerCase(), record.digest!)
  const ranking = rankReplicas(TASK, BigInt(CYCLE), owner.address, submitters)
  const saved = addressBook.get(ranking[0]!.toLowerCase())!
  addressBook.set(ranking[0]!.toLowerCase(), '') // the first choice has no p2p address right now
  try {
    const result = await owner.replication.replicate(TASK, CYCLE, 2)
    assert.deepEqual(result.acked, [ranking[1]])
  } finally {
    addressBook.set(ranking[0]!.toLowerCase(), saved)
  }
})

test('bad pushes are refused with typed, signed errors and nothing is stored', async () => {
  const [owner, replica] = peers as [Peer, Peer]
  const dag = buildRoundDag(Array.from({ length: 8 }, (_, i) => payloadSizedLeaf(77, i)))
  const blocks = [...dag.blocks].map(([cid, bytes]) => ({ cid, bytes }))
  const push = (from: Peer, body: Record<string, unknown>) =>
    from.host.request(addressBook.get(replica.address.toLowerCase())!, REPLICA_PROTOCOL, { taskId: '1', cycle: 9, node: from.address, root: dag.root, leafCount: 8, part: 0, last: true, blocks, ...body })
  const refused = async (promise: Promise<unknown>, code: string) => {
    await assert.rejects(promise, (error: unknown) => isP2pError(error, 'REMOTE_ERROR') && (error as { details: { remoteCode?: string } }).details.remoteCode === code, `expected ${code}`)
  }
  onChainRoots.set(owner.address.toLowerCase(), `0x${'11'.repeat(32)}`)
  await refused(push(owner, {}), 'REPLICA_REJECTED') // not the owner's on-chain root
  onChainRoots.set(owner.address.toLowerCase(), dag.digest)
  const flipped = blocks.map((block, i) => (i === 0 ? { cid: block.cid, bytes: Uint8Array.from(block.bytes, (b, k) => (k === 0 ? b ^ 1 : b)) } : block))
  await refused(push(owner, { blocks: flipped }), 'REPLICA_REJECTED') // a block that does not hash to its CID
  await refused(push(owner, { blocks: blocks.slice(1) }), 'BLOCK_MISSING') // incomplete DAG
  await refused(push(owner, { leafCount: 9 }), 'REPLICA_REJECTED') // wrong announced size
  await refused(push(owner, { taskId: '2' }), 'TASK_NOT_FOUND')
  await refused(push(owner, { part: 1 }), 'SCALE_BAD_REQUEST') // out of order
  await refused(push(owner, { blocks: 'x' }), 'SCALE_BAD_REQUEST')
  await refused(push(owner, { node: replica.address }), 'REPLICA_REJECTED') // its own round
  submitters = submitters.filter((node) => node !== replica.address)
  try {
    await refused(push(owner, {}), 'REPLICA_REJECTED') // the replica is not a node of the cycle
  } finally {
    submitters = peers.map((peer) => peer.address)
  }
  assert.equal(replica.rounds.getRound('1', 9, owner.address)?.status ?? 'absent', 'absent')
  // A good push after all that is taken.
  const ack = await push(owner, {})
  assert.equal((ack.body as { stored: boolean }).stored, true)
  assert.equal(replica.rounds.getRound('1', 9, owner.address)?.root, dag.root)
})

test('a node that lost its block store fetches its rounds back by CID from the replicas and proves leaves again', async () => {
  const owner = peers[0]!
  const before = owner.rounds.getRound(TASK.toString(), CYCLE)!
  const proofBefore = await owner.rounds.proveLeaf(TASK.toString(), CYCLE, 250)
  // Lose every block (the SQLite state survives: roots, acks).
  rmSync(join(owner.dir, 'content', 'blocks'), { recursive: true, force: true })
  const reopened = createContentStore(join(owner.dir, 'content'))
  const rounds = new RoundStore({ state: owner.state, content: reopened, self: owner.address })
  await assert.rejects(rounds.proveLeaf(TASK.toString(), CYCLE, 250))
  const replication = replicationOf({ ...owner, content: reopened, rounds })
  assert.ok((await replication.missingBlocks(before)).length > 0)
  const result = await replication.recoverTask(TASK.toString())
  assert.equal(result.failed, 0)
  const held = rounds.listRounds(TASK.toString(), { status: 'built' })
  assert.equal(result.rounds, held.length, 'its own round and the replicas it held')
  assert.ok(result.blocks >= 599)
  assert.deepEqual(await replication.missingBlocks(before), [])
  const proof = await rounds.proveLeaf(TASK.toString(), CYCLE, 250)
  assert.deepEqual(proof.leaf, proofBefore.leaf)
  assert.equal(proof.root, before.root)
})
