// `coop graph serve|put|get` end to end (in process, through the CLI's main): a durable relay, writes
// and reads by the CLI, a gun client seeing the CLI's write, usage and peer errors, restart with --data.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'

import { main } from '../../cli/src/main.ts'
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

async function serve(): Promise<{ url: string; stop(): Promise<Run> }> {
  const controller = new AbortController()
  const server = run(['graph', 'serve', '--port', '0', '--data', 'relay-data', '--json'], controller.signal)
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
})
