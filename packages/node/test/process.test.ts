// The node as an OS process (src/main.ts, what the cli spawns): SIGKILLed twice while it runs a
// task, it restarts on its state and carries on — every cycle submitted exactly once, every
// intent settled, rewards claimed — and SIGTERM stops it cleanly.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { after, before, test } from 'node:test'

import { taskManagerAbi } from '@coop/chain'
import { bundleTask } from '@coop/sdk'
import { parseEventLogs } from 'viem'
import { getLogs } from 'viem/actions'

import { digestOfCid, openState } from '../src/index.ts'
import { createTestTask, startTestChain, waitFor, type TestChain } from './helpers.ts'

const MAIN = resolve(import.meta.dirname, '../src/main.ts')
let chain: TestChain
let child: ChildProcess | undefined

before(async () => {
  chain = await startTestChain(1)
})
after(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL')
  if (process.env.COOP_KEEP_LOGS) console.log(`logs kept in ${chain.dir}`)
  else await chain?.stop()
  if (process.env.COOP_KEEP_LOGS) await chain?.anvil.stop()
})

function spawnNode(configPath: string, logPath: string): ChildProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', MAIN, '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] })
  const log = createWriteStream(logPath, { flags: 'a' })
  proc.stdout!.pipe(log)
  proc.stderr!.pipe(log)
  return proc
}

const exited = (proc: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve({ code: proc.exitCode, signal: proc.signalCode })
    proc.once('exit', (code, signal) => resolve({ code, signal }))
  })

test('a node process killed with SIGKILL resumes from its state; SIGTERM stops it cleanly', { timeout: 120_000 }, async () => {
  const bundle = await bundleTask(resolve(import.meta.dirname, '../../../tasks/compute/index.ts'))
  const bundlePath = join(chain.dir, 'compute.mjs')
  writeFileSync(bundlePath, bundle.code)
  const ROUND = 6n
  const task = await createTestTask(chain, {
    programCid: digestOfCid(bundle.cid),
    roundLength: ROUND,
    submissionWindow: 2n,
    auditWindow: 3n,
    voteWindow: 3n,
    distributionWindow: 2n,
    distributionAuditWindow: 1n,
    // Draws that land on a convicted or restarting node only time out: enough attempts that the
    // cycle never fails on an unlucky draw (3 attempts failed ~4% of runs).
    maxDistributionAttempts: 8,
    rounds: 4,
  })
  const dataDir = join(chain.dir, 'node')
  const configPath = join(chain.dir, 'node.json')
  const logPath = join(chain.dir, 'node.log')
  writeFileSync(
    configPath,
    JSON.stringify({
      name: 'solo',
      rpcUrl: chain.anvil.rpcUrl,
      privateKey: chain.nodes[0]!.privateKey,
      taskManager: chain.addresses.taskManager,
      taskLens: chain.addresses.taskLens,
      tasks: [{ taskId: task.taskId.toString(), program: bundlePath, config: { inputsPerCycle: 8, iterations: 50 }, stake: '200000000000000000000' }],
      dataDir,
      p2p: { listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [] },
      http: { host: '127.0.0.1', port: 0 },
      pollIntervalMs: 200,
      logLevel: 'debug',
    }),
  )
  const me = chain.nodes[0]!.address
  const submitted = async (cycle: bigint) => BigInt((await chain.coop.getSubmission({ taskId: task.taskId, cycle, node: me })).root) !== 0n

  child = spawnNode(configPath, logPath)
  await waitFor('the first submission', () => submitted(0n), 30_000)
  child.kill('SIGKILL')
  assert.equal((await exited(child)).signal, 'SIGKILL')

  child = spawnNode(configPath, logPath)
  await waitFor('the second submission', () => submitted(1n), 30_000)
  // Kill it again at an arbitrary instant mid-round.
  await new Promise((resolve) => setTimeout(resolve, 1_700))
  child.kill('SIGKILL')
  await exited(child)

  child = spawnNode(configPath, logPath)
  const claimed = (cycle: bigint) =>
    chain.creator.readContract({ abi: taskManagerAbi, address: chain.addresses.taskManager, functionName: 'claimed', args: [task.taskId, cycle, me] })
  await waitFor('cycles 0..2 claimed', async () => (await claimed(0n)) && (await claimed(1n)) && (await claimed(2n)), 60_000)
  const port = Number(readFileSync(join(dataDir, 'http.port'), 'utf8'))
  assert.equal(((await (await fetch(`http://127.0.0.1:${port}/api/status`)).json()) as { name: string }).name, 'solo')

  child.kill('SIGTERM')
  const exit = await exited(child)
  assert.equal(exit.code, 0, 'SIGTERM exits 0')
  const log = readFileSync(logPath, 'utf8')
  assert.match(log, /"msg":"node stopped"/)

  const logs = parseEventLogs({ abi: taskManagerAbi, logs: await getLogs(chain.creator, { address: chain.addresses.taskManager, fromBlock: 0n, toBlock: 'latest' }) })
  const submissions = logs.filter((log) => log.eventName === 'Submitted').map((log) => (log.args as { cycle: bigint }).cycle)
  assert.equal(new Set(submissions).size, submissions.length, 'no cycle submitted twice')
  assert.ok(submissions.length >= 3)
  assert.equal(logs.filter((log) => log.eventName === 'Staked').length, 1, 'staked once across three starts')
  assert.equal(logs.filter((log) => log.eventName === 'NodeRegistered').length, 1, 'restarts keep the registered p2p address')

  assert.ok(existsSync(join(dataDir, 'state.sqlite')))
  const state = openState(join(dataDir, 'state.sqlite'))
  try {
    const open = state.listIntents({ status: ['pending', 'sent'] })
    assert.deepEqual(open.map((intent) => `${intent.kind}:${intent.cycle}`), [], 'every intent settled')
    const submits = state.listIntents({ kind: 'submit', status: ['confirmed', 'skipped'] })
    assert.ok(submits.length >= 3)
  } finally {
    state.close()
  }
})
