// SCALE heads, replication and recovery end to end: three node processes (src/main.ts) on anvil run
// a SCALE task (./fixtures/scale-task.ts, 24 leaves per round, replication k = 2) with 10 s rounds.
//   - every finalized cycle anchors a head; `coop scale verify` checks node-1's history of heads
//     against the chain (exit 0) and catches a tampered copy of it (exit 1);
//   - node-1's rounds are acked by a replica; node-1 is killed, its block store deleted, and after a
//     restart it fetches its rounds back from the replicas and answers leaf requests again.
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { after, before, test } from 'node:test'

import { DistributionStatus } from '@coop/chain'
import { buildRoundDag, decodeScaleHead } from '@coop/protocol'
import type { Address } from 'viem'

import { main as cli } from '../../cli/src/main.ts'
import { honestLeaves } from './fixtures/scale-task.ts'
import { startTestChain, waitFor, type TestChain } from './helpers.ts'
import { createScaleFixtureTask, nodeConfig, SCALE_LEAVES, SCALE_ROUND, spawnNodeProcess, stopNetwork } from './network-helpers.ts'

const ROUND = SCALE_ROUND
const LEAVES = SCALE_LEAVES

let chain: TestChain
const children: ChildProcess[] = []
let tamperServer: Server | undefined

before(async () => {
  chain = await startTestChain(3)
})
after(async () => {
  tamperServer?.close()
  await stopNetwork(chain, { children })
})

async function runCli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const code = await cli(argv, { stdout: { write: (chunk: string) => (stdout += chunk) }, stderr: { write: (chunk: string) => (stderr += chunk) }, env: {}, cwd: process.cwd() })
  return { code, stdout, stderr }
}

test('heads are anchored and verify against the chain; a node that lost its blocks recovers them from replicas', { timeout: 170_000 }, async () => {
  const task = await createScaleFixtureTask(chain, { unbondingRounds: 3, rounds: 8 })
  const taskId = task.taskId
  const names = ['node-1', 'node-2', 'node-3']
  const dataDirs = names.map((name) => join(chain.dir, name))
  const spawnNode = (index: number) => {
    rmSync(join(dataDirs[index]!, 'http.port'), { force: true })
    return spawnNodeProcess(chain, nodeConfig(chain, index, { tasks: [task.taskConfig] }), children)
  }
  const apiUrl = (index: number) => waitFor(`${names[index]} API`, () => `http://127.0.0.1:${readFileSync(join(dataDirs[index]!, 'http.port'), 'utf8').trim()}`, 30_000)
  const node1 = chain.nodes[0]!.address as Address
  let first = spawnNode(0)
  spawnNode(1)
  spawnNode(2)

  // The first two cycles that finalize with a head anchored (normally 0 and 1; a cycle a loaded
  // machine lets fail is skipped, as the chain skips it).
  const cycles = await waitFor('two cycles final with a SCALE head', async () => {
    const anchored: bigint[] = []
    for (let cycle = 0n; cycle < 5n && anchored.length < 2; cycle++) {
      const state = await chain.coop.getCycle({ taskId, cycle })
      if (state.status === DistributionStatus.Final && BigInt(state.scaleHead) !== 0n) anchored.push(cycle)
    }
    return anchored.length === 2 ? anchored : undefined
  }, Number(ROUND) * 10_000)
  const [c1, c2] = cycles as [bigint, bigint]
  const url = await apiUrl(0)
  const served = await waitFor('node-1 keeps both heads', async () => {
    const heads = (await (await fetch(`${url}/api/tasks/${taskId}/heads`)).json()) as { cycle: number; digest: string; bytes: string }[]
    return heads.some((head) => head.cycle === Number(c2)) ? heads : undefined
  }, Number(ROUND) * 2_000)
  for (const cycle of cycles) {
    const head = served.find((entry) => entry.cycle === Number(cycle))!
    assert.equal(head.digest, (await chain.coop.getCycle({ taskId, cycle })).scaleHead.toLowerCase())
    const raw = new Uint8Array(await (await fetch(`${url}/api/tasks/${taskId}/heads/${cycle}`)).arrayBuffer())
    assert.equal(decodeScaleHead(raw).digest, head.digest)
    // The head lists node-1's round root as the chain has it.
    const root = (await chain.coop.getSubmission({ taskId, cycle, node: node1 })).root
    assert.ok(decodeScaleHead(raw).head.submissions.some((s) => s.node === node1 && s.root === root.toLowerCase()))
  }
  const headOf = (cycle: bigint) => decodeScaleHead(Buffer.from(served.find((head) => head.cycle === Number(cycle))!.bytes.slice(2), 'hex'))
  assert.equal(headOf(c2).head.prev, headOf(c1).cid, 'the second head links the first')

  // coop scale verify: OK against the chain; a tampered copy of the history fails.
  const chainArgs = ['--task', taskId.toString(), '--rpc', chain.anvil.rpcUrl, '--task-manager', chain.addresses.taskManager]
  const verified = await runCli(['scale', 'verify', '--node-url', url, ...chainArgs, '--through', c2.toString()])
  assert.equal(verified.code, 0, verified.stdout + verified.stderr)
  assert.match(verified.stdout, new RegExp(`cycle ${c1} {2}OK`))
  assert.match(verified.stdout, new RegExp(`cycle ${c2} {2}OK`))
  tamperServer = createServer(async (req, res) => {
    const upstream = (await (await fetch(`${url}${req.url}`)).json()) as { cycle: number; bytes: string }[]
    // Drop the first head from the history and flip one byte of the second.
    const tampered = upstream.filter((head) => head.cycle !== Number(c1)).map((head) => (head.cycle === Number(c2) ? { ...head, bytes: `${head.bytes.slice(0, -2)}${head.bytes.endsWith('00') ? '01' : '00'}` } : head))
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(tampered))
  })
  await new Promise<void>((ok) => tamperServer!.listen(0, '127.0.0.1', ok))
  const tamperedUrl = `http://127.0.0.1:${(tamperServer.address() as AddressInfo).port}`
  const caught = await runCli(['scale', 'verify', '--node-url', tamperedUrl, ...chainArgs, '--through', c2.toString()])
  assert.equal(caught.code, 1, caught.stdout + caught.stderr)
  assert.match(caught.stdout, new RegExp(`cycle ${c1} {2}FAIL {2}MISSING_HEAD`))
  assert.match(caught.stdout, new RegExp(`cycle ${c2} {2}FAIL`))

  // node-1's round of cycle c2 is held by a replica (a signed ack recorded).
  const ackedHolder = await waitFor('a replica acked node-1\'s round', () => {
    const db = new DatabaseSync(join(dataDirs[0]!, 'state.sqlite'), { readOnly: true })
    try {
      const row = db.prepare('SELECT holder FROM scale_replica_acks WHERE task_id = ? AND cycle = ?').get(taskId.toString(), Number(c2)) as { holder?: string } | undefined
      return row?.holder
    } finally {
      db.close()
    }
  }, 20_000)
  assert.ok(chain.nodes.slice(1).some((node) => node.address.toLowerCase() === ackedHolder.toLowerCase()))

  // Kill node-1, delete its block store, restart it: it fetches its rounds back and answers again.
  first.kill('SIGKILL')
  await new Promise((ok) => first.once('exit', ok))
  rmSync(join(dataDirs[0]!, 'content', 'blocks'), { recursive: true, force: true })
  first = spawnNode(0)
  const restartedUrl = await apiUrl(0)
  const dag = buildRoundDag(honestLeaves(taskId, Number(c2), node1, LEAVES))
  const proof = await waitFor('node-1 answers a leaf request of that round again', async () => {
    const response = await fetch(`${restartedUrl}/api/tasks/${taskId}/rounds/${c2}/proof/5`)
    return response.status === 200 ? ((await response.json()) as { root: string; leafCid: string }) : undefined
  }, 40_000, 500)
  assert.equal(proof.root, dag.root)
  assert.equal(proof.leafCid, dag.leafCids[5])
  const log = readFileSync(join(chain.dir, 'node-1.log'), 'utf8')
  assert.match(log, /recovered the blocks of a round from its holders/)
})
