// The CLI without a chain: command lookup, option parsing, --help for every command, errors with hints.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, it } from 'node:test'

import { findCommand, parseCommandArgs, suggest, intValue } from '../src/args.ts'
import { parseAmount, formatAmount } from '../src/amounts.ts'
import { cidDigest, rawCid, rawCidFromDigest } from '../src/cid.ts'
import { commands } from '../src/commands/index.ts'
import { CliError } from '../src/errors.ts'
import { runCli } from './helpers.ts'

describe('coop --help', () => {
  it('lists every command', async () => {
    const { code, stdout } = await runCli(['--help'])
    assert.equal(code, 0)
    for (const command of commands) assert.match(stdout, new RegExp(`\\b${command.path.join(' ')}\\b`))
  })

  for (const command of commands) {
    const name = command.path.join(' ')
    it(`coop ${name} --help shows usage, every option and exits 0`, async () => {
      const { code, stdout, stderr } = await runCli([...command.path, '--help'])
      assert.equal(code, 0, stderr)
      assert.match(stdout, new RegExp(`^Usage: coop ${name}`))
      for (const option of Object.keys(command.options)) assert.ok(stdout.includes(`--${option}`), `help of ${name} lacks --${option}`)
      assert.ok(stdout.includes('--help'))
      const short = await runCli([...command.path, '-h'])
      assert.equal(short.stdout, stdout)
    })
  }

  it('group help for `coop task` and `coop node`', async () => {
    const task = await runCli(['task', '--help'])
    assert.equal(task.code, 0)
    for (const sub of ['create', 'fund', 'status', 'stop']) assert.match(task.stdout, new RegExp(`task ${sub}`))
    const node = await runCli(['node', '--help'])
    assert.match(node.stdout, /node start/)
    const bare = await runCli(['task'])
    assert.equal(bare.code, 2, 'a group without a command is a usage error')
  })

  it('`coop help <command>` and --version', async () => {
    const help = await runCli(['help', 'stake'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /^Usage: coop stake/)
    const version = await runCli(['--version'])
    assert.match(version.stdout, /^coop \d+\.\d+\.\d+/)
  })
})

describe('errors say what to do', () => {
  it('unknown command suggests the closest one', async () => {
    const { code, stderr } = await runCli(['stkae'])
    assert.equal(code, 2)
    assert.match(stderr, /unknown command 'stkae'/)
    assert.match(stderr, /did you mean `coop stake`/)
    const sub = await runCli(['task', 'craete'])
    assert.equal(sub.code, 2)
    assert.match(sub.stderr, /did you mean `coop task create`/)
  })

  it('unknown option suggests the closest one', async () => {
    const { code, stderr } = await runCli(['stake', '--amout', '5'])
    assert.equal(code, 2)
    assert.match(stderr, /unknown option --amout/)
    assert.match(stderr, /did you mean --amount\?/)
  })

  it('missing values and options', async () => {
    const noValue = await runCli(['stake', '--task'])
    assert.equal(noValue.code, 2)
    assert.match(noValue.stderr, /--task needs a value/)
    const noTask = await runCli(['stake', '--amount', '5'])
    assert.equal(noTask.code, 2)
    assert.match(noTask.stderr, /missing --task/)
    assert.match(noTask.stderr, /→ /)
    const noChain = await runCli(['stake', '--task', '1', '--amount', '5'])
    assert.equal(noChain.code, 2)
    assert.match(noChain.stderr, /no chain to talk to/)
    assert.match(noChain.stderr, /--rpc <url>.*COOP_RPC_URL/)
  })

  it('bad values are named with an example', async () => {
    const badTask = await runCli(['task', 'status', '--task', 'one'])
    assert.equal(badTask.code, 2)
    assert.match(badTask.stderr, /--task must be a non-negative integer, got 'one'/)
    const badAmount = await runCli(['stake', '--task', '1', '--amount', 'lots', '--rpc', 'http://127.0.0.1:1'])
    assert.equal(badAmount.code, 2)
    assert.match(badAmount.stderr, /--amount must be a token amount/)
    const badKey = await runCli(['stake', '--task', '1', '--amount', '1', '--rpc', 'http://127.0.0.1:1', '--task-manager', '0x0000000000000000000000000000000000000001', '--task-lens', '0x0000000000000000000000000000000000000002', '--key', '0x1234'])
    assert.equal(badKey.code, 2)
    assert.match(badKey.stderr, /--key is not a private key/)
    const badRpc = await runCli(['status', '--rpc', 'localhost:8545', '--task-manager', '0x0000000000000000000000000000000000000001', '--task-lens', '0x0000000000000000000000000000000000000002'])
    assert.equal(badRpc.code, 2)
    assert.match(badRpc.stderr, /--rpc must be an http\(s\) URL/)
  })

  it('an unreachable chain says how to start one', async () => {
    const { code, stderr } = await runCli(['status', '--rpc', 'http://127.0.0.1:9', '--task-manager', '0x0000000000000000000000000000000000000001', '--task-lens', '0x0000000000000000000000000000000000000002'])
    assert.equal(code, 1)
    assert.match(stderr, /cannot reach the chain at http:\/\/127\.0\.0\.1:9/)
    assert.match(stderr, /npx coop devnet/)
  })

  it('a missing deployment file says where to find one', async () => {
    const { code, stderr } = await runCli(['status', '--deployment', '/nonexistent/deployment.json'])
    assert.equal(code, 1)
    assert.match(stderr, /deployment file not found/)
    assert.match(stderr, /coop devnet/)
  })

  it('unstake needs exactly one of --amount / --withdraw', async () => {
    const none = await runCli(['unstake', '--task', '1'])
    assert.equal(none.code, 2)
    assert.match(none.stderr, /--amount <tokens> \(request\) or --withdraw/)
    const both = await runCli(['unstake', '--task', '1', '--amount', '1', '--withdraw'])
    assert.equal(both.code, 2)
  })

  it('devnet validates its numbers before starting anything', async () => {
    const { code, stderr } = await runCli(['devnet', '--nodes', '0'])
    assert.equal(code, 2)
    assert.match(stderr, /--nodes must be an integer from 1 to 20/)
    const rounds = await runCli(['devnet', '--rounds', 'six'])
    assert.equal(rounds.code, 2)
  })

  it('node start reports every config problem from the flags', async () => {
    const { code, stderr } = await runCli(['node', 'start', '--rpc', 'http://127.0.0.1:8545', '--key', `0x${'11'.repeat(32)}`, '--task-manager', '0x0000000000000000000000000000000000000001', '--task-lens', '0x0000000000000000000000000000000000000002'])
    assert.equal(code, 2)
    assert.match(stderr, /missing --task/)
    const missingFile = await runCli(['node', 'start', '--config', '/nonexistent/node.json'])
    assert.equal(missingFile.code, 1)
    assert.match(missingFile.stderr, /config file not found/)
  })
})

describe('parsing helpers', () => {
  it('findCommand takes the longest matching path', () => {
    const { command, rest } = findCommand(commands, ['task', 'create', '--bounty', '5'])
    assert.deepEqual(command?.path, ['task', 'create'])
    assert.deepEqual(rest, ['--bounty', '5'])
    assert.equal(findCommand(commands, ['nope']).command, undefined)
  })

  it('parseCommandArgs: repeated options, short flags, stray positionals', () => {
    const status = findCommand(commands, ['status']).command!
    const { values } = parseCommandArgs(status, ['--task', '1', '--task', '2', '--json'])
    assert.deepEqual(values.task, ['1', '2'])
    assert.equal(values.json, true)
    assert.throws(() => parseCommandArgs(status, ['extra']), (error: unknown) => error instanceof CliError && /unexpected argument 'extra'/.test(error.message))
    const devnet = findCommand(commands, ['devnet']).command!
    assert.equal(parseCommandArgs(devnet, ['-q']).values.quiet, true)
  })

  it('intValue bounds', () => {
    assert.equal(intValue({ n: '5' }, 'n', 'x', { min: 1, max: 9 }), 5)
    assert.equal(intValue({}, 'n', 'x', { fallback: 3 }), 3)
    assert.throws(() => intValue({ n: '-1' }, 'n', 'x'))
    assert.throws(() => intValue({ n: '1.5' }, 'n', 'x'))
    assert.throws(() => intValue({ n: '10' }, 'n', 'x', { max: 9 }))
  })

  it('suggest', () => {
    assert.equal(suggest('stat', ['status', 'stake']), 'status')
    assert.equal(suggest('zzzzzz', ['status', 'stake']), undefined)
  })

  it('amounts: tokens, decimals and wei', () => {
    assert.equal(parseAmount('100'), 100n * 10n ** 18n)
    assert.equal(parseAmount('0.5'), 5n * 10n ** 17n)
    assert.equal(parseAmount('1_000'), 1000n * 10n ** 18n)
    assert.equal(parseAmount('123wei'), 123n)
    assert.throws(() => parseAmount('-1'), CliError)
    assert.throws(() => parseAmount('1e18'), CliError)
    assert.equal(formatAmount(1234567n * 10n ** 14n), '123.4567')
    assert.equal(formatAmount(-2n * 10n ** 18n), '-2')
  })

  it('CIDs: raw CIDv1 of bytes and its digest round-trip', () => {
    // IPFS: the raw CIDv1 (sha2-256) of the empty byte string
    assert.equal(rawCid(new Uint8Array()), 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku')
    const digest = cidDigest('bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku')
    assert.equal(digest, '0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    assert.equal(rawCidFromDigest(digest), 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku')
    assert.equal(cidDigest(digest), digest)
    assert.throws(() => cidDigest('Qm123'), CliError)
  })
})

describe('the bin', () => {
  it('`coop --help` runs as a real process through bin/coop.mjs', () => {
    const bin = join(import.meta.dirname, '..', 'bin', 'coop.mjs')
    const result = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8', timeout: 60_000 })
    assert.equal(result.status, 0, result.stderr)
    assert.match(result.stdout, /Usage: coop <command>/)
    const bad = spawnSync(process.execPath, [bin, 'nope'], { encoding: 'utf8', timeout: 60_000 })
    assert.equal(bad.status, 2)
    assert.match(bad.stderr, /unknown command 'nope'/)
  })
})
