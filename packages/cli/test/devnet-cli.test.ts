// `coop devnet` as people run it: a real process through bin/coop.mjs. `--rounds 1 --json` prints
// only the JSON summary on stdout (progress on stderr) and exits 0; Ctrl-C (SIGINT) on an open-ended
// devnet stops everything cleanly, prints the summary and leaves no process behind.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

const bin = join(import.meta.dirname, '..', 'bin', 'coop.mjs')
const repoRoot = join(import.meta.dirname, '..', '..', '..')

/** Processes whose command line mentions `needle` (node processes started with a config in that dir). */
function processesMentioning(needle: string): string[] {
  const ps = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
  return ps.stdout
    .split('\n')
    .filter((line) => line.includes(needle) && !line.includes('ps -eo'))
    .map((line) => line.trim())
}

function run(args: string[], options: { onStderr?: (text: string) => void } = {}) {
  const child = spawn(process.execPath, [bin, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => (stdout += chunk))
  child.stderr.on('data', (chunk) => {
    stderr += chunk
    options.onStderr?.(stderr)
  })
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  return { child, done, output: () => ({ stdout, stderr }) }
}

test('coop devnet --nodes 2 --rounds 1 --json: JSON on stdout, exit 0, nothing left running', { timeout: 4 * 60_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'coop-devnet-cli-'))
  try {
    const devnet = run(['devnet', '--nodes', '2', '--rounds', '1', '--json', '--data-dir', dataDir, '--no-cheater'])
    const { code } = await devnet.done
    const { stdout, stderr } = devnet.output()
    assert.equal(code, 0, stderr.slice(-3000))
    const summary = JSON.parse(stdout) as Record<string, any>
    assert.ok(summary.finalizedRounds >= 1)
    assert.equal(summary.totals.finalizedRounds, summary.finalizedRounds)
    assert.equal(typeof summary.auditsRaised, 'number')
    assert.equal(typeof summary.auditsUpheld, 'number')
    assert.equal(summary.nodes.length, 2)
    for (const node of summary.nodes) {
      for (const field of ['name', 'behaviour', 'stake', 'reputation', 'rewards', 'slashed', 'submissions', 'audited']) assert.ok(field in node, `node lacks ${field}`)
      assert.equal(node.behaviour, 'honest')
      assert.match(node.stake, /^\d+$/)
      assert.ok(BigInt(node.rewards) > 0n)
    }
    assert.match(stderr, /^anvil +http:\/\/127\.0\.0\.1:\d+/m)
    assert.match(stderr, /^dashboard http:\/\/127\.0\.0\.1:\d+\//m)
    assert.match(stderr, / r1 web-archive +│ work c1 │ submit c0/)
    assert.match(stderr, /stopped +nodes, API, site and anvil/)
    assert.deepEqual(processesMentioning(dataDir), [])
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
})

test('coop devnet without --rounds: SIGINT stops everything, prints the summary, exit 0', { timeout: 3 * 60_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'coop-devnet-cli-'))
  try {
    let signalled = false
    const devnet = run(['devnet', '--nodes', '1', '--data-dir', dataDir, '--no-cheater'], {
      onStderr: () => {},
    })
    // Interrupt once the node is up (its progress line for round 0 appears).
    const started = Date.now()
    while (!signalled) {
      if (/ r0 compute/.test(devnet.output().stdout)) {
        assert.ok(processesMentioning(dataDir).length >= 1, 'the node process is not running')
        devnet.child.kill('SIGINT')
        signalled = true
      } else if (Date.now() - started > 90_000) throw new Error(`the devnet did not start:\n${devnet.output().stdout}\n${devnet.output().stderr}`)
      else await new Promise((resolve) => setTimeout(resolve, 200))
    }
    const { code } = await devnet.done
    const { stdout, stderr } = devnet.output()
    assert.equal(code, 0, stderr)
    assert.match(stderr, /SIGINT received, shutting down/)
    assert.match(stdout, /node-1 +honest/)
    assert.match(stdout, /stopped +nodes, API, site and anvil/)
    assert.deepEqual(processesMentioning(dataDir), [])
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
})

test('coop node start joins a running devnet (flags only), submits, serves its API, stops on SIGINT; coop claim pays what it left', { timeout: 3 * 60_000 }, async () => {
  const { startDevnet } = await import('../src/devnet/devnet.ts')
  const { runCli } = await import('./helpers.ts')
  const devnet = await startDevnet({ nodes: 1, tasks: ['compute'], cheater: null, dashboard: false })
  const dataDir = mkdtempSync(join(tmpdir(), 'coop-node-start-'))
  try {
    const creator = devnet.deployment.creator!
    const task = devnet.tasks[0]!
    const node = run([
      'node', 'start',
      '--rpc', devnet.rpcUrl,
      '--key', creator.privateKey!,
      '--task-manager', devnet.deployment.addresses.taskManager,
      '--task-lens', devnet.deployment.addresses.taskLens,
      '--task', task.taskId.toString(),
      '--program', task.bundle,
      '--name', 'joiner',
      '--data-dir', dataDir,
      '--log-level', 'warn',
    ])
    // It stakes, registers and submits like the devnet's own nodes.
    const deadline = Date.now() + 60_000
    while (!devnet.view.rounds(task.taskId).some((round) => round.submissions.some((submission) => submission.node === creator.address))) {
      if (Date.now() > deadline) throw new Error(`the joining node never submitted:\n${node.output().stderr.slice(-3000)}`)
      if (node.child.exitCode !== null) throw new Error(`coop node start exited ${node.child.exitCode}:\n${node.output().stderr.slice(-3000)}`)
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    const port = Number((await import('node:fs')).readFileSync(join(dataDir, 'http.port'), 'utf8'))
    const status = (await (await fetch(`http://127.0.0.1:${port}/api/status`)).json()) as { name: string; address: string }
    assert.equal(status.name, 'joiner')
    assert.equal(status.address, creator.address)
    // The other commands see it through the devnet's deployment.json.
    const shown = await runCli(['status', '--deployment', devnet.deploymentFile, '--address', creator.address, '--json'])
    assert.equal(shown.code, 0, shown.stderr)
    assert.ok(BigInt(JSON.parse(shown.stdout).accounts[0].tasks[0].stake) >= task.params.minStake)
    const taskStatus = await runCli(['task', 'status', '--deployment', devnet.deploymentFile, '--task', task.taskId.toString()])
    assert.equal(taskStatus.code, 0, taskStatus.stderr)
    assert.match(taskStatus.stdout, /task 1 \(compute\)/)
    // Stop it once its first submission's audit window is over (it answered its auditors), before
    // that cycle's list is final: its reward is left for `coop claim`.
    const first = devnet.view.rounds(task.taskId).filter((round) => round.submissions.some((submission) => submission.node === creator.address)).at(-1)!
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(first.times.auditCloses) * 1000 + 1_000 - Date.now())))
    node.child.kill('SIGINT')
    const { code } = await node.done
    assert.equal(code, 0, node.output().stderr.slice(-3000))
    assert.match(node.output().stderr, /coop node joiner \(0x[0-9a-fA-F]{40}\) running/)
    assert.deepEqual(processesMentioning(dataDir), [])

    // coop claim, with the lists another node of the task holds.
    const finalDeadline = Date.now() + 60_000
    while (devnet.view.rounds(task.taskId).find((round) => round.cycle === first.cycle)?.distribution.status !== 'final') {
      if (Date.now() > finalDeadline) throw new Error(`cycle ${first.cycle} never became final`)
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    const claim = await runCli(['claim', '--deployment', devnet.deploymentFile, '--as', 'creator', '--task', task.taskId.toString(), '--node-data-dir', devnet.nodes[0]!.dataDir, '--json'])
    assert.equal(claim.code, 0, claim.stderr)
    const claimed = JSON.parse(claim.stdout) as { claimed: { cycle: string; reward: string }[]; reward: string }
    assert.ok(claimed.claimed.some((entry) => entry.cycle === first.cycle.toString()), claim.stdout)
    assert.ok(BigInt(claimed.reward) > 0n)
    const again = await runCli(['claim', '--deployment', devnet.deploymentFile, '--as', 'creator', '--task', task.taskId.toString(), '--node-data-dir', devnet.nodes[0]!.dataDir, '--cycle', first.cycle.toString()])
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /nothing to claim/)
  } finally {
    await devnet.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
})
