// The chain commands against a real anvil: task create/fund/status/stop, stake, unstake (request,
// locked withdraw, withdraw), status, claim from a list file, and contract errors turned into hints.
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'

import { coopActions, createCoopClient, createCoopTestClient, setChainTime } from '@coop/chain'
import { buildDistribution, cyclePhases } from '@coop/protocol'
import { parseUnits, sha256, stringToHex, zeroHash } from 'viem'

import { rawCid } from '../src/cid.ts'
import { runCli, startTestChain, type TestChain } from './helpers.ts'

const tokens = (amount: string) => parseUnits(amount, 18)

describe('chain commands on anvil', () => {
  let chain: TestChain
  let base: string[]
  before(async () => {
    chain = await startTestChain()
    base = ['--deployment', chain.deploymentFile]
  })
  after(async () => {
    await chain?.stop()
  })

  const json = async (argv: string[]) => {
    const result = await runCli([...argv, '--json'])
    assert.equal(result.code, 0, `coop ${argv.join(' ')} failed: ${result.stderr}`)
    return JSON.parse(result.stdout) as Record<string, any>
  }

  it('task create: bundle file → programCid on-chain, bounty escrowed, devnet timing', async () => {
    const program = join(chain.dir, 'program.mjs')
    writeFileSync(program, 'export default { name: "test" }\n')
    const created = await json(['task', 'create', ...base, '--as', 'creator', '--program', program, '--bounty', '3000'])
    assert.equal(created.taskId, '1')
    assert.equal(created.programCid, rawCid(new TextEncoder().encode('export default { name: "test" }\n')))
    assert.equal(created.funded, tokens('3000').toString())
    const status = await json(['task', 'status', ...base, '--task', '1'])
    assert.equal(status.programCid, created.programCid)
    assert.equal(status.escrow, tokens('3000').toString())
    assert.equal(status.params.roundLength, '12')
    assert.equal(status.params.submissionWindow, '3')
    assert.equal(status.params.auditFloorBps, 2000)
    assert.equal(status.round, '0')
    assert.equal(status.cycles[0].phase, 'work')
    const human = await runCli(['task', 'status', ...base, '--task', '1'])
    assert.match(human.stdout, /task 1: program bafkrei/)
    assert.match(human.stdout, /escrow 3000 cRWD \(3 rounds\)/)
  })

  it('task create with --program-cid and flags only (no deployment file)', async () => {
    const { addresses } = chain
    const key = chain.deployment.creator!.privateKey!
    const created = await json([
      'task', 'create', '--rpc', chain.anvil.rpcUrl, '--key', key, '--task-manager', addresses.taskManager, '--task-lens', addresses.taskLens,
      '--stake-token', addresses.coopToken, '--reward-token', addresses.rewardToken, '--program-cid', 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku',
      '--round-length', '60', '--submission-window', '10', '--audit-window', '20', '--vote-window', '20', '--bounty', '0',
    ])
    assert.equal(created.taskId, '2')
    assert.equal(created.funded, '0')
    const bad = await runCli(['task', 'create', ...base, '--as', 'creator', '--program-cid', 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku', '--audit-window', '2'])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /InvalidWindows/)
    assert.match(bad.stderr, /submissionWindow < auditWindow/)
  })

  it('task fund adds to the escrow; stop is for the creator only', async () => {
    const funded = await json(['task', 'fund', ...base, '--as', 'creator', '--task', '1', '--amount', '1000'])
    assert.equal(funded.escrow, tokens('4000').toString())
    const notCreator = await runCli(['task', 'stop', ...base, '--as', 'node-1', '--task', '2'])
    assert.equal(notCreator.code, 1)
    assert.match(notCreator.stderr, /NotTaskCreator/)
    assert.match(notCreator.stderr, /only the account that created the task/)
    const stopped = await json(['task', 'stop', ...base, '--as', 'creator', '--task', '2'])
    assert.equal(stopped.stopped, true)
    const fundStopped = await runCli(['task', 'fund', ...base, '--as', 'creator', '--task', '2', '--amount', '1'])
    assert.equal(fundStopped.code, 1)
    assert.match(fundStopped.stderr, /TaskIsStopped/)
  })

  it('stake (approves first), status shows it; unknown task and empty balance say what to do', async () => {
    const staked = await json(['stake', ...base, '--as', 'node-1', '--task', '1', '--amount', '200'])
    assert.equal(staked.totalStake, tokens('200').toString())
    const again = await json(['stake', ...base, '--as', 'node-1', '--task', '1', '--amount', '50'])
    assert.equal(again.totalStake, tokens('250').toString())
    const status = await json(['status', ...base, '--as', 'node-1', '--task', '1'])
    assert.equal(status.accounts[0].tasks[0].stake, tokens('250').toString())
    assert.equal(status.tasks[0].taskId, '1')
    const all = await json(['status', ...base])
    assert.equal(all.tasks.length, 2)
    assert.equal(all.accounts.length, 2, 'without an account, every devnet node')
    const missing = await runCli(['stake', ...base, '--as', 'node-1', '--task', '9', '--amount', '1'])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /TaskNotFound/)
    assert.match(missing.stderr, /coop status` lists/)
    const poor = await runCli(['stake', ...base, '--as', 'node-2', '--task', '1', '--amount', '999999'])
    assert.equal(poor.code, 1)
    assert.match(poor.stderr, /ERC20InsufficientBalance/)
    assert.match(poor.stderr, /does not hold enough tokens/)
    const noAccount = await runCli(['stake', ...base, '--as', 'node-7', '--task', '1', '--amount', '1'])
    assert.equal(noAccount.code, 2)
    assert.match(noAccount.stderr, /use one of: creator, node-1, node-2/)
  })

  it('claim: from a distribution list file, verified against the posted root, once', async () => {
    const node = chain.deployment.nodes[0]!
    const client = createCoopClient({ rpcUrl: chain.anvil.rpcUrl, account: node.privateKey! })
    const coop = client.extend(coopActions(chain.addresses))
    const time = createCoopTestClient({ rpcUrl: chain.anvil.rpcUrl })
    const task = await coop.getTask({ taskId: 1n })
    const phases = cyclePhases(task.params, task.startTime, 0n)
    await coop.registerNode({ p2pAddress: '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWAbc' })
    await setChainTime(time, phases.submissionOpens)
    await coop.submit({ taskId: 1n, cycle: 0n, root: sha256(stringToHex('work')) })
    await setChainTime(time, phases.distributionOpens)
    const entries = [{ node: node.address, reward: tokens('1000'), bonus: 0n }]
    const distribution = buildDistribution({ taskId: 1n, cycle: 0n, entries })
    const selected = await coop.selectedDistributor({ taskId: 1n, cycle: 0n, attempt: 0n })
    await coop.postDistribution({ taskId: 1n, cycle: 0n, submitterIndex: selected.index, merkleRoot: distribution.root, listCid: sha256(stringToHex('list')), rewardTotal: tokens('1000'), bonusTotal: 0n, scaleHead: zeroHash })
    const noSource = await runCli(['claim', ...base, '--as', 'node-1', '--task', '1'])
    assert.equal(noSource.code, 2)
    assert.match(noSource.stderr, /--node-url/)
    await setChainTime(time, phases.distributionOpens + task.params.distributionAuditWindow + 1n)
    const listFile = join(chain.dir, 'list-0.json')
    writeFileSync(listFile, JSON.stringify({ taskId: '1', cycle: '0', entries: entries.map((entry) => ({ ...entry, reward: entry.reward.toString(), bonus: '0' })) }))
    const wrongFile = join(chain.dir, 'list-wrong.json')
    writeFileSync(wrongFile, JSON.stringify({ cycle: 0, entries: [{ node: node.address, reward: '5', bonus: '0' }] }))
    const wrong = await runCli(['claim', ...base, '--as', 'node-1', '--task', '1', '--list', wrongFile])
    assert.equal(wrong.code, 1)
    assert.match(wrong.stderr, /is not the posted root/)
    const claimed = await json(['claim', ...base, '--as', 'node-1', '--task', '1', '--list', listFile])
    assert.equal(claimed.reward, tokens('1000').toString())
    assert.deepEqual(claimed.claimed.map((entry: { cycle: string }) => entry.cycle), ['0'])
    const nothing = await runCli(['claim', ...base, '--as', 'node-1', '--task', '1', '--list', listFile])
    assert.equal(nothing.code, 0)
    assert.match(nothing.stdout, /nothing to claim/)
  })

  it('unstake: request, a locked withdraw says when, then withdraw', async () => {
    const requested = await json(['unstake', ...base, '--as', 'node-1', '--task', '1', '--amount', '100'])
    assert.equal(requested.unbonding, tokens('100').toString())
    assert.equal(requested.stake, tokens('150').toString())
    const locked = await runCli(['unstake', ...base, '--as', 'node-1', '--task', '1', '--withdraw'])
    assert.equal(locked.code, 1)
    assert.match(locked.stderr, /unlocks at round \d+/)
    assert.match(locked.stderr, /try again in about \d+ s/)
    const coop = createCoopClient({ rpcUrl: chain.anvil.rpcUrl, account: chain.deployment.creator!.privateKey! }).extend(coopActions(chain.addresses))
    const task = await coop.getTask({ taskId: 1n })
    const unlock = BigInt(requested.unlockRound)
    await setChainTime(createCoopTestClient({ rpcUrl: chain.anvil.rpcUrl }), task.startTime + unlock * task.params.roundLength + 1n)
    const withdrawn = await json(['unstake', ...base, '--as', 'node-1', '--task', '1', '--withdraw'])
    assert.equal(withdrawn.withdrawn, tokens('100').toString())
    const none = await runCli(['unstake', ...base, '--as', 'node-1', '--task', '1', '--withdraw'])
    assert.equal(none.code, 2)
    assert.match(none.stderr, /nothing is unbonding/)
  })
})
