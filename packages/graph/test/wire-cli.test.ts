// `coop graph serve|put|get` end to end (in process, through the CLI's main): a durable relay, writes
// and reads by the CLI, a gun client seeing the CLI's write, usage and peer errors, restart with --data.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'

import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { main } from '../../cli/src/main.ts'
import { GraphStore } from '../src/graph-store.ts'
import { pair } from '../src/sea/pair.ts'
import { User } from '../src/sea/user.ts'
import { openGraphClient } from '../src/wire/client.ts'
import { releaseTimers, closeGun, gunOnce, gunPeer, tempDir, waitFor } from './wire-helpers.ts'

const dir = tempDir('graph-cli')
const cleanups: Array<() => Promise<void> | void> = []
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
  dir.remove()
  releaseTimers()
})

type Run = { code: number; stdout: string; stderr: string }

function run(argv: string[], signal?: AbortSignal): { done: Promise<Run>; output: () => string } {
  let stdout = ''
  let stderr = ''
  const io = {
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
    env: {},
    cwd: dir.path,
    ...(signal === undefined ? {} : { signal }),
  }
  const done = main(argv, io).then((code) => ({ code, stdout, stderr }))
  return { done, output: () => stdout }
}

async function serve(extra: string[] = ['--data', 'relay-data']): Promise<{ url: string; stop(): Promise<Run> }> {
  const controller = new AbortController()
  const server = run(['graph', 'serve', '--port', '0', ...extra, '--json'], controller.signal)
  await waitFor('serve prints its endpoint', () => server.output().includes('"url"'))
  const { url } = JSON.parse(server.output().trim().split('\n')[0]!) as { url: string }
  return {
    url,
    stop: () => {
      controller.abort()
      return server.done
    },
  }
}

describe('coop graph', () => {
  it('serve, put, get; gun sees the write; durable across a restart', async () => {
    let relay = await serve()
    const put = await run(['graph', 'put', 'alice', 'name', '"Alice"', '--peer', relay.url]).done
    assert.equal(put.code, 0, put.stderr)
    assert.match(put.stdout, /^stored alice\.name = "Alice" \(state \d+\) at ws:\/\/127\.0\.0\.1:\d+\/gun\n$/)
    assert.equal((await run(['graph', 'put', 'alice', 'age', '30', '--peer', relay.url]).done).code, 0)
    assert.equal((await run(['graph', 'put', 'alice', 'friend', '{"#":"bob"}', '--peer', relay.url]).done).code, 0)

    const get = await run(['graph', 'get', 'alice', '--peer', relay.url]).done
    assert.equal(get.code, 0, get.stderr)
    assert.deepEqual(JSON.parse(get.stdout), { name: 'Alice', age: 30, friend: { '#': 'bob' } })
    const key = await run(['graph', 'get', 'alice', 'age', '--peer', relay.url, '--json']).done
    const node = JSON.parse(key.stdout) as { age: number; _: { '>': { age: number } } }
    assert.equal(node.age, 30)
    assert.equal(typeof node._['>'].age, 'number')

    const gun = gunPeer([relay.url], dir.path)
    cleanups.push(() => closeGun(gun))
    assert.equal(await gunOnce(gun.get('alice').get('name')), 'Alice')

    const stopped = await relay.stop()
    assert.equal(stopped.code, 0)
    relay = await serve()
    cleanups.push(async () => void (await relay.stop()))
    const again = await run(['graph', 'get', 'alice', 'name', '--peer', relay.url]).done
    assert.equal(again.stdout, '"Alice"\n', 'the acked write survived the restart (--data)')
  })

  it('says what is wrong: bad JSON (usage), invalid values, unknown souls, unreachable peers', async () => {
    const relay = await serve()
    cleanups.push(async () => void (await relay.stop()))
    const notJson = await run(['graph', 'put', 'a', 'k', 'Alice', '--peer', relay.url]).done
    assert.equal(notJson.code, 2)
    assert.match(notJson.stderr, /not JSON[\s\S]*strings need JSON quotes/)
    const array = await run(['graph', 'put', 'a', 'k', '[1,2]', '--peer', relay.url]).done
    assert.equal(array.code, 1)
    assert.match(array.stderr, /link|value/i)
    const unknown = await run(['graph', 'get', 'nobody', '--peer', relay.url]).done
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /nobody is not known/)
    const noPeer = await run(['graph', 'get', 'a']).done
    assert.equal(noPeer.code, 2)
    assert.match(noPeer.stderr, /missing --peer/)
    const down = await run(['graph', 'get', 'a', '--peer', 'ws://127.0.0.1:9/gun', '--timeout', '500']).done
    assert.equal(down.code, 1)
    assert.match(down.stderr, /could not connect[\s\S]*coop graph serve/)
    const help = await run(['graph', 'put', '--help']).done
    assert.match(help.stdout, /Usage: coop graph put \[options\] <soul> <key> <json-value>/)
  })

  it('serve verifies user graphs; with --trust-of/--trust-file and --min-trust it relays only data signed by trusted keys', async () => {
    const scratch = await GraphStore.open()
    cleanups.push(() => scratch.close())
    const alice = new User(scratch, 'alice', await pair())
    const bob = new User(scratch, 'bob', await pair())
    const carol = new User(scratch, 'carol', await pair())

    // Default relay: an unsigned write to a user graph is refused with BAD_SIGNATURE.
    const plain = await serve([])
    cleanups.push(async () => void (await plain.stop()))
    const unsigned = await run(['graph', 'put', alice.soul(), 'name', '"not signed"', '--peer', plain.url]).done
    assert.equal(unsigned.code, 1)
    assert.match(unsigned.stderr, /BAD_SIGNATURE[\s\S]*signed by their key/)

    const trustFile = join(dir.path, 'trust.json')
    writeFileSync(trustFile, JSON.stringify({ [bob.pub]: 0.4, [carol.pub]: 0.8 }))
    const trusted = await serve(['--trust-of', alice.pub, '--trust-file', 'trust.json', '--min-trust', '0.5'])
    cleanups.push(async () => void (await trusted.stop()))
    const client = await openGraphClient(trusted.url, { timeoutMs: 5_000 })
    cleanups.push(() => client.close())
    const signedByAlice = await alice.put('posts', { a: 'from alice' })
    await client.put(signedByAlice)
    await client.put(await carol.put('posts', { c: 'from carol' }))
    await assert.rejects(client.put(await bob.put('posts', { b: 'from bob' })), { code: 'UNTRUSTED' })
    const fromAlice = await client.get(alice.soul('posts'), 'a')
    assert.equal(fromAlice?.a, signedByAlice[alice.soul('posts')]!.a, 'the relay holds alice’s signed write as she made it')
    const stored = await run(['graph', 'get', carol.soul('posts'), 'c', '--peer', trusted.url, '--json']).done
    assert.equal(stored.code, 0, stored.stderr)
    const missing = await run(['graph', 'get', bob.soul('posts'), '--peer', trusted.url]).done
    assert.equal(missing.code, 1, 'bob (0.4 < 0.5) was not stored')
    const publicWrite = await run(['graph', 'put', 'wall', 'x', '"hi"', '--peer', trusted.url]).done
    assert.equal(publicWrite.code, 1)
    assert.match(publicWrite.stderr, /UNTRUSTED[\s\S]*trusts/)

    const badKey = await run(['graph', 'serve', '--port', '0', '--trust-of', 'not-a-key']).done
    assert.equal(badKey.code, 2)
    assert.match(badKey.stderr, /not a SEA public key/)
    const badWeight = await run(['graph', 'serve', '--port', '0', '--trust-of', alice.pub, '--min-trust', '2']).done
    assert.equal(badWeight.code, 2)
    assert.match(badWeight.stderr, /--min-trust must be a number in \(0, 1\]/)
    const alone = await run(['graph', 'serve', '--port', '0', '--min-trust', '0.5']).done
    assert.equal(alone.code, 2)
    assert.match(alone.stderr, /needs --trust-of or --trust-file/)
  })
})
