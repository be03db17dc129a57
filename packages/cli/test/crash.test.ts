// Crash recovery: one node process of a 3-node devnet is SIGKILLed mid-round four times, in four
// different phases (submission, audit, vote, settle/claim), and restarted with the same data dir.
// Afterwards, from chain state alone: every cycle whose submission window it was alive for has its
// submission; none of its transactions was sent twice or reverted for a submission, vote, audit,
// distribution or claim; every vote and claim it made exists once; and it kept earning rewards.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { coopActions, createCoopPublicClient, taskManagerAbi } from '@coop/chain'
import { decodeFunctionData, zeroHash, type Address, type Hash } from 'viem'

import { startDevnet } from '../src/devnet/devnet.ts'
import { liveNodeProcessCount } from '../src/devnet/processes.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Kill schedule: [round, seconds into the round, phase it hits] (12 s rounds: submit 0–3, audit 3–6, vote –11, settle). */
const KILLS: [number, number, string][] = [
  [2, 0.4, 'submission'],
  [3, 4.5, 'audit'],
  [4, 8.0, 'vote'],
  [5, 10.8, 'settle / claim'],
]
const LAST_ROUND = 9

test('crash recovery: SIGKILL a node mid-round 4 times; nothing lost or duplicated on-chain', { timeout: 8 * 60_000 }, async (t) => {
  const lines: string[] = []
  const devnet = await startDevnet({
    nodes: 3,
    tasks: ['compute'],
    cheater: { index: 2, fromRound: 2 },
    dashboard: false,
    maxRestarts: 0,
    log: (line) => lines.push(line),
  })
  const task = devnet.tasks[0]!
  const victim = devnet.nodes[1]!
  const roundLength = Number(task.params.roundLength)
  const roundStartMs = (round: number) => (Number(task.startTime) + round * roundLength) * 1000
  // Intervals during which the victim's process was running: [start, end).
  const alive: { from: number; to: number }[] = [{ from: Date.now(), to: Infinity }]
  const kills: { round: number; offset: number; phase: string; at: number }[] = []
  try {
    for (const [round, offset, phase] of KILLS) {
      const at = roundStartMs(round) + offset * 1000
      if (Date.now() > at) throw new Error(`setup too slow: round ${round} +${offset}s already passed`)
      await sleep(at - Date.now())
      assert.ok(victim.process.running, `${victim.name} is not running before kill in round ${round}`)
      await victim.process.kill('SIGKILL')
      alive.at(-1)!.to = Date.now()
      kills.push({ round, offset, phase, at: Date.now() })
      lines.push(`killed ${victim.name} in round ${round} +${offset}s (${phase})`)
      await sleep(1_000)
      victim.start()
      alive.push({ from: Date.now(), to: Infinity })
    }
    // Let it run (and claim) for a few more rounds after the last restart.
    await sleep(Math.max(0, roundStartMs(LAST_ROUND) - Date.now()))
    await Promise.all(devnet.nodes.map((node) => node.process.stop(10_000)))
    await devnet.view.sync()
    const stoppedAt = Date.now()
    assert.equal(victim.process.exits.filter((exit) => exit.signal === 'SIGKILL').length, KILLS.length)

    const client = createCoopPublicClient({ rpcUrl: devnet.rpcUrl })
    const coop = client.extend(coopActions(devnet.deployment.addresses))
    const me = victim.address as Address
    const isAlive = (from: number, to: number) => alive.some((interval) => interval.from <= from && interval.to >= to)

    // ── 1. a submission for every cycle it was up for (started ≥ 3 s before the window, alive through it) ──
    const currentRound = Math.floor((stoppedAt / 1000 - Number(task.startTime)) / roundLength)
    const expected: number[] = []
    const missing: number[] = []
    for (let cycle = 0; cycle + 1 < currentRound; cycle++) {
      const opens = roundStartMs(cycle + 1)
      const closes = opens + Number(task.params.submissionWindow) * 1000
      if (!isAlive(opens - 3_000, closes)) continue
      expected.push(cycle)
      const submission = await coop.getSubmission({ taskId: task.taskId, cycle: BigInt(cycle), node: me })
      if (submission.root === zeroHash) missing.push(cycle)
    }
    t.diagnostic(`kills: ${kills.map((kill) => `r${kill.round}+${kill.offset}s (${kill.phase})`).join(', ')}; cycles it was up for: ${expected.join(', ')}`)
    assert.ok(expected.length >= 3, `the victim was up for too few submission windows: ${expected.join(', ')}`)
    assert.deepEqual(missing, [], `no submission for cycles ${missing.join(', ')} although ${victim.name} was up`)

    // ── 2. its transactions: one per (kind, key), none reverted for the protocol's writes ──
    const head = await client.getBlockNumber()
    const counts = new Map<string, { ok: number; reverted: number; hashes: Hash[] }>()
    for (let number = 0n; number <= head; number++) {
      const block = await client.getBlock({ blockNumber: number, includeTransactions: true })
      for (const tx of block.transactions) {
        if (tx.from.toLowerCase() !== me.toLowerCase() || tx.to?.toLowerCase() !== devnet.deployment.addresses.taskManager.toLowerCase()) continue
        const { functionName, args } = decodeFunctionData({ abi: taskManagerAbi, data: tx.input })
        const receipt = await client.getTransactionReceipt({ hash: tx.hash })
        const a = args as readonly unknown[]
        let keys: string[]
        switch (functionName) {
          case 'submit':
          case 'recordSeed':
          case 'finalizeDistribution':
          case 'failDistribution':
            keys = [`${functionName}:${a[0]}:${a[1]}`]
            break
          case 'raiseAudit':
            keys = [`raiseAudit:${a[0]}:${a[1]}:${a[2]}`]
            break
          case 'postDistribution':
          case 'challengeDistribution':
            keys = [`${functionName}:${a[0]}:${a[1]}`]
            break
          case 'vote':
          case 'resolveAudit':
          case 'claimVoteReward':
            keys = [`${functionName}:${a[0]}`]
            break
          case 'claimRewards':
            keys = (a[2] as { cycle: bigint }[]).map((claim) => `claimRewards:${a[0]}:${claim.cycle}`)
            break
          default:
            keys = [`${functionName}:${tx.hash}`]
        }
        for (const key of keys) {
          const entry = counts.get(key) ?? { ok: 0, reverted: 0, hashes: [] }
          if (receipt.status === 'success') entry.ok += 1
          else entry.reverted += 1
          entry.hashes.push(tx.hash)
          counts.set(key, entry)
        }
      }
    }
    const strict = /^(submit|vote|claimRewards|raiseAudit|postDistribution|challengeDistribution|claimVoteReward):/
    const problems = [...counts.entries()].filter(([key, entry]) => strict.test(key) && (entry.ok !== 1 || entry.reverted !== 0))
    assert.deepEqual(problems.map(([key, entry]) => `${key}: ${entry.ok} ok, ${entry.reverted} reverted`), [], 'duplicated or reverted transactions')
    const submits = [...counts.keys()].filter((key) => key.startsWith('submit:')).length
    t.diagnostic(`${victim.name} sent ${[...counts.values()].reduce((sum, entry) => sum + entry.hashes.length, 0)} transactions: ${[...new Set([...counts.keys()].map((key) => key.split(':')[0]))].map((kind) => `${kind} ${[...counts.keys()].filter((key) => key.startsWith(`${kind}:`)).length}`).join(', ')}`)
    assert.ok(submits >= expected.length)

    // ── 3. votes and claims exist exactly once on-chain ──
    const votes = await client.getContractEvents({ address: devnet.deployment.addresses.taskManager, abi: taskManagerAbi, eventName: 'VoteCast', fromBlock: 0n })
    const myVotes = votes.filter((log) => log.args.voter?.toLowerCase() === me.toLowerCase())
    const voteIds = myVotes.map((log) => String(log.args.auditId))
    assert.equal(new Set(voteIds).size, voteIds.length, 'a vote event appears twice')
    for (const auditId of voteIds) {
      const vote = await coop.getVote({ auditId: BigInt(auditId), voter: me })
      assert.notEqual(vote.side, 0, `vote on audit ${auditId} missing from state`)
    }
    const claims = await client.getContractEvents({ address: devnet.deployment.addresses.taskManager, abi: taskManagerAbi, eventName: 'RewardClaimed', fromBlock: 0n })
    const myClaims = claims.filter((log) => log.args.node?.toLowerCase() === me.toLowerCase()).map((log) => Number(log.args.cycle))
    assert.equal(new Set(myClaims).size, myClaims.length, 'a cycle was claimed twice')
    t.diagnostic(`${victim.name}: ${voteIds.length} votes, claimed cycles ${myClaims.join(', ')}`)

    // ── 4. it kept earning: every final cycle it was paid in (final a round before the stop) is claimed, including after the last crash ──
    const lastKillRound = KILLS.at(-1)![0]
    const unclaimed: number[] = []
    for (const round of devnet.view.rounds(task.taskId, { limit: 1000 })) {
      if (round.distribution.status !== 'final') continue
      const submitted = round.submissions.find((submission) => submission.node === me)
      if (!submitted || submitted.convicted) continue
      if (Number(round.times.distributionOpens) * 1000 > stoppedAt - 2 * roundLength * 1000) continue
      if (!myClaims.includes(Number(round.cycle))) unclaimed.push(Number(round.cycle))
    }
    assert.deepEqual(unclaimed, [], `final cycles never claimed: ${unclaimed.join(', ')}`)
    assert.ok(myClaims.some((cycle) => cycle >= lastKillRound - 1), `no reward claimed after the last crash (claimed ${myClaims.join(', ')})`)
    const state = devnet.view.nodes(task.taskId).find((node) => node.address === me)!
    assert.ok(state.rewards > 0n)
    assert.equal(state.slashed, 0n, 'the crashing (honest) node was slashed')
  } finally {
    await devnet.stop()
  }
  assert.equal(liveNodeProcessCount(), 0)
})
