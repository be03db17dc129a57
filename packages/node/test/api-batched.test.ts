// Batched submissions in the chain view and the HTTP API, on a real anvil with real batches
// (api-batched-scenario.ts): entries decoded from the submitBatch calldata show up in
// /api/tasks/:id/rounds and /nodes like direct submissions, marked `batched`, with their batch,
// position and committed score; the view's sampling and auditors for the mixed cycle agree with
// TaskLens wherever TaskLens can answer (direct submitters, and batched ones once materialized);
// SubmissionMaterialized is followed; a view applying one block per range agrees with one that
// reads everything at once.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { auditorsOf, createCoopPublicClient, isSampled } from '@coop/chain'
import { zeroAddress, type Address } from 'viem'

import { createApiServer, createChainView, type ApiServer, type ChainView } from '../src/api/index.ts'
import type { ViewEvent } from '../src/view/index.ts'
import { startBatchedScenario, type BatchedScenario } from './api-batched-scenario.ts'

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any

let net: BatchedScenario
let view: ChainView
let stepwise: ChainView
let api: ApiServer
const events: ViewEvent[] = []

async function get(path: string): Promise<Json> {
  const response = await fetch(api.url + path)
  assert.equal(response.status, 200, path)
  return response.json()
}

const cycle0 = async (): Promise<Json> => (await get('/api/tasks/1/rounds?limit=5')).find((r: Json) => r.cycle === '0')

before(async () => {
  net = await startBatchedScenario()
  const client = createCoopPublicClient({ rpcUrl: net.anvil.rpcUrl })
  view = createChainView({ client, addresses: net.addresses, names: net.names })
  view.subscribe((event) => events.push(event))
  // One block per getLogs range: the batch events are applied apart from everything else.
  stepwise = createChainView({ client, addresses: net.addresses, names: net.names, blockRange: 1n })
  await Promise.all([view.sync(), stepwise.sync()])
  api = await createApiServer({ view, name: 'devnet' })
})

after(async () => {
  await api?.close()
  await view?.stop()
  await stepwise?.stop()
  await net?.stop()
})

test('GET /api/tasks/:id/rounds lists batched submitters like direct ones, marked batched', async () => {
  const [n1, n2, n3, n4] = net.nodes
  const round = await cycle0()
  assert.equal(round.phase, 'submission')
  assert.deepEqual(
    round.submissions.map((s: Json) => [s.node, s.via, s.root, s.weight]),
    [n1, n2, n3, n4].map((n, i) => [n.address, i === 0 ? 'direct' : 'batched', net.rootOf(n), String(n.stake)]), // score 0: weight = stake
  )
  assert.equal(round.submissions[0].batch, null)
  assert.deepEqual(
    round.submissions.slice(1).map((s: Json) => s.batch),
    [
      { batchIndex: '0', position: '0', score: '0', materialized: false },
      { batchIndex: '0', position: '1', score: '0', materialized: false },
      { batchIndex: '1', position: '2', score: '0', materialized: false },
    ],
  )
  assert.ok(round.submissions.every((s: Json) => s.sampled === null && s.auditors.length === 0), 'seed not fixed yet')

  // The batches as the chain committed them.
  const onChain = await net.coop.getBatchEntries({ taskId: net.taskId, cycle: 0n })
  assert.deepEqual(
    round.batches.map((b: Json) => [b.batchIndex, b.count, b.entriesRoot, b.transactionHash, b.decoded, b.weightStart, b.weightEnd]),
    onChain.map((b) => [
      String(b.batchIndex),
      b.entries.length,
      b.entriesRoot,
      b.transactionHash,
      true,
      String(b.entries[0]!.weightStart),
      String(b.entries[b.entries.length - 1]!.weightEnd),
    ]),
  )
  assert.deepEqual(
    net.batches.flatMap((b) => b.recorded.map((e) => [e.node, String(e.position)])),
    round.submissions.slice(1).map((s: Json) => [s.node, s.batch.position]),
  )

  // The stepwise view (one block per range) has the same model.
  assert.deepEqual(stepwise.rounds(net.taskId, { limit: 5 }), view.rounds(net.taskId, { limit: 5 }))
  assert.deepEqual(stepwise.nodes(net.taskId), view.nodes(net.taskId))
})

test('GET /api/tasks/:id/nodes counts batched submissions', async () => {
  const body = await get('/api/tasks/1/nodes')
  const byAddress = new Map<Address, Json>(body.map((n: Json) => [n.address, n]))
  assert.equal(byAddress.size, 4)
  for (const [i, node] of net.nodes.entries()) {
    const row = byAddress.get(node.address)
    assert.equal(row.name, node.name)
    assert.deepEqual([row.submissions, row.batched], [1, i === 0 ? 0 : 1], node.name)
    assert.equal(row.lastCycle, '0', `${node.name} last cycle`)
    assert.equal(row.stake, String(node.stake))
  }
  // Listeners saw one submission event per node, batched ones marked.
  const submitted = events.filter((e) => e.type === 'submission').map((e) => [e.node, e.via])
  assert.deepEqual(submitted, net.nodes.map((n, i) => [n.address, i === 0 ? 'direct' : 'batched']))
})

test('once the seed is fixed: sampling and auditors over the merged selection order agree with TaskLens', async () => {
  await net.closeAndSeed()
  await Promise.all([view.sync(), stepwise.sync()])
  const lens = { address: net.addresses.taskLens, taskId: net.taskId, cycle: 0n }
  const client = createCoopPublicClient({ rpcUrl: net.anvil.rpcUrl })
  let round = await cycle0()
  assert.equal(round.phase, 'audit')
  const order = round.submissions.map((s: Json) => s.node)
  for (const s of round.submissions) {
    assert.equal(typeof s.sampled, 'boolean')
    assert.equal(s.auditProbabilityBps, 10_000) // score 0: paying dues
    assert.equal(s.auditors.length, Number(net.params.auditorsPerSample))
    assert.ok(!s.auditors.includes(s.node) && s.auditors.every((a: Address) => order.includes(a)))
  }
  // TaskLens answers for the direct submitter; it names a batched auditor address(0).
  const direct = round.submissions[0]
  assert.equal(direct.sampled, await isSampled(client, { ...lens, node: direct.node }))
  const lensAuditors = await auditorsOf(client, { ...lens, node: direct.node })
  assert.equal(lensAuditors.length, direct.auditors.length)
  // TaskLens names a direct auditor and leaves a batched one address(0): every slot is checked.
  const batched = new Set(round.submissions.filter((s: Json) => s.via === 'batched').map((s: Json) => s.node))
  const sameAuditor = (lensAuditor: Address, viewAuditor: Address) => (lensAuditor === zeroAddress ? batched.has(viewAuditor) : lensAuditor === viewAuditor)
  lensAuditors.forEach((a, i) => assert.ok(sameAuditor(a, direct.auditors[i]), `auditor ${i}: lens ${a}, view ${direct.auditors[i]}`))

  // Materialized, TaskLens sees the batched entries too; the view follows SubmissionMaterialized.
  await net.materializeAll()
  await Promise.all([view.sync(), stepwise.sync()])
  round = await cycle0()
  for (const s of round.submissions.slice(1)) {
    assert.equal(s.batch.materialized, true)
    assert.equal(s.sampled, await isSampled(client, { ...lens, node: s.node }), `${s.node} sampled`)
  }
  for (const s of round.submissions) {
    const fromLens = await auditorsOf(client, { ...lens, node: s.node })
    assert.equal(fromLens.length, s.auditors.length)
    fromLens.forEach((a, i) => assert.ok(sameAuditor(a, s.auditors[i]), `${s.node} auditor ${i}: lens ${a}, view ${s.auditors[i]}`))
  }
  const nodes = await get('/api/tasks/1/nodes')
  for (const s of round.submissions) {
    assert.equal(nodes.find((n: Json) => n.address === s.node).audited, s.sampled ? 1 : 0)
  }
  assert.ok(events.some((e) => e.type === 'submission' && e.status === 'materialized' && e.node === net.nodes[3].address))
  assert.deepEqual(stepwise.rounds(net.taskId, { limit: 5 }), view.rounds(net.taskId, { limit: 5 }))
})
