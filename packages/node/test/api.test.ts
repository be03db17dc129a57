// The HTTP/WS API over a chain view of a real anvil devnet (see api-scenario.ts for the chain's
// state): every endpoint's JSON, task routes and rewards through a node, malformed input of every
// kind, WebSocket push and misbehaving WebSocket clients, /metrics, and a view that rides out RPC
// failures without losing or repeating an event.
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { createServer, request as httpRequest, type Server } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'

import { createCoopPublicClient } from '@coop/chain'
import { Counter, Registry } from 'prom-client'
import { parseUnits, type Address } from 'viem'
import WebSocket from 'ws'

import { createApiServer, createChainView, toJson, type ApiNode, type ApiServer, type ChainView } from '../src/api/index.ts'
import { CHEATER_STAKE, STAKE, startScenario, type Scenario } from './api-scenario.ts'

let net: Scenario
let view: ChainView
let api: ApiServer
let nodeApi: ApiServer
const routeCalls: unknown[][] = []
const nodeEvents = new EventEmitter()

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any

async function get(path: string, base = api.url): Promise<{ status: number; body: Json; headers: Headers }> {
  const response = await fetch(base + path)
  const text = await response.text()
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers }
}

async function send(method: string, path: string, body?: string | Uint8Array, headers: Record<string, string> = {}, base = nodeApi.url) {
  const response = await fetch(base + path, { method, body, headers })
  const text = await response.text()
  let json: Json
  try {
    json = JSON.parse(text)
  } catch {
    json = text
  }
  return { status: response.status, body: json }
}

/** Raw HTTP over a socket (for requests fetch refuses to send). */
function raw(port: number, data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let out = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk) => (out += chunk))
    socket.on('end', () => resolve(out))
    socket.on('close', () => resolve(out))
    socket.on('error', (error) => (out ? resolve(out) : reject(error)))
    socket.write(data)
    setTimeout(() => socket.destroy(), 3_000).unref()
  })
}

type WsClient = { ws: WebSocket; messages: Json[]; closed: Promise<{ code: number; reason: string }>; next(type: string, match?: (m: Json) => boolean, timeoutMs?: number): Promise<Json> }

function openWs(url: string, headers: Record<string, string> = {}): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws') + '/ws', { headers })
    const messages: Json[] = []
    const waiters = new Set<() => void>()
    ws.on('message', (data) => {
      messages.push(JSON.parse(data.toString()))
      for (const waiter of waiters) waiter()
    })
    const closed = new Promise<{ code: number; reason: string }>((done) =>
      ws.on('close', (code, reason) => done({ code, reason: reason.toString() })),
    )
    const next = (type: string, match: (m: Json) => boolean = () => true, timeoutMs = 10_000) =>
      new Promise<Json>((done, fail) => {
        const check = () => {
          const found = messages.find((m) => m.type === type && match(m))
          if (found) {
            waiters.delete(check)
            clearTimeout(timer)
            done(found)
          }
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          fail(new Error(`no ${type} message within ${timeoutMs} ms; got ${messages.map((m) => m.type).join(', ')}`))
        }, timeoutMs)
        waiters.add(check)
        check()
      })
    ws.once('open', () => resolve({ ws, messages, closed, next }))
    ws.once('error', reject)
  })
}

before(async () => {
  net = await startScenario()
  view = createChainView({
    client: createCoopPublicClient({ rpcUrl: net.anvil.rpcUrl }),
    addresses: net.addresses,
    names: net.names,
    pollIntervalMs: 100,
  })
  await view.sync()
  api = await createApiServer({ view, name: 'devnet' })

  const metrics = new Registry()
  new Counter({ name: 'coop_rounds_total', help: 'rounds the node took part in', registers: [metrics] }).inc(3)
  const [n1] = net.nodes
  const leaf = net.distribution.leaves.find((entry) => entry.node === n1.address)!
  const node: ApiNode = {
    name: 'node-1',
    address: n1.address,
    peerId: '12D3KooWScenarioNode1',
    multiaddrs: () => ['/ip4/127.0.0.1/tcp/4101/p2p/12D3KooWScenarioNode1'],
    metrics: { registry: metrics },
    tasks: new Map([
      [
        '1',
        {
          runtime: {
            async call(method: 'route', ...args: unknown[]) {
              routeCalls.push([method, ...args])
              const request = args[0] as { path: string }
              if (request.path === '/fail') throw Object.assign(new Error('the task threw\nstack…'), { code: 'TASK_ERROR' })
              if (request.path === '/missing') throw Object.assign(new Error('no route for "/missing"'), { code: 'NO_ROUTE' })
              return { request, big: 10n ** 30n, bytes: new Uint8Array([1, 2, 255]) }
            },
          },
        },
      ],
    ]),
    events: nodeEvents,
    rewards: async (taskId) => (taskId === net.taskId ? [{ cycle: 0n, reward: leaf.reward, bonus: leaf.bonus, claimed: true }] : []),
  }
  nodeApi = await createApiServer({ view, node })
})

after(async () => {
  await api?.close()
  await nodeApi?.close()
  await view?.stop()
  await net?.stop()
})

test('GET /api/status', async () => {
  const { status, body, headers } = await get('/api/status')
  assert.equal(status, 200)
  assert.match(headers.get('content-type')!, /^application\/json/)
  assert.equal(body.name, 'devnet')
  assert.equal(body.address, null)
  assert.equal(body.peerId, null)
  assert.deepEqual(body.multiaddrs, [])
  assert.equal(body.chainId, 31337)
  assert.equal(body.blockNumber, String(await net.creator.getBlockNumber()))
  assert.equal(body.now, String((await net.creator.getBlock()).timestamp))
  assert.deepEqual(body.tasks, ['1'])
  assert.equal(body.taskManager, net.addresses.taskManager)

  const withNode = await get('/api/status', nodeApi.url)
  assert.equal(withNode.body.name, 'node-1')
  assert.equal(withNode.body.address, net.nodes[0].address)
  assert.equal(withNode.body.peerId, '12D3KooWScenarioNode1')
  assert.deepEqual(withNode.body.tasks, ['1']) // the tasks the node runs
  assert.deepEqual(withNode.body.multiaddrs, ['/ip4/127.0.0.1/tcp/4101/p2p/12D3KooWScenarioNode1'])
})

test('GET /api/tasks and /api/tasks/:id', async () => {
  const { status, body } = await get('/api/tasks')
  assert.equal(status, 200)
  assert.equal(body.length, 1)
  const [task] = body
  assert.equal(task.taskId, '1')
  assert.equal(task.programCid, net.params.programCid)
  assert.equal(task.startTime, String(net.startTime))
  assert.equal(task.currentRound, '2')
  assert.equal(task.stopped, false)
  // Ten rounds funded, two reserved by cycles 0 and 1.
  assert.equal(task.escrow, String(net.params.bountyPerRound * 8n))
  assert.equal(task.params.roundLength, '3600')
  assert.equal(task.params.bountyPerRound, String(net.params.bountyPerRound))
  assert.equal(task.params.duesRounds, 2)
  assert.deepEqual(task.stakeToken, { address: net.addresses.coopToken, symbol: 'COOP', decimals: 18 })
  assert.equal(task.rewardToken.symbol, 'cRWD')
  assert.equal(task.nodeCount, 3)
  assert.equal(task.roundStartsAt, String(net.start(2n)))
  assert.equal(task.nextRoundAt, String(net.start(3n)))

  const one = await get('/api/tasks/1')
  assert.deepEqual(one.body, task)
})

test('GET /api/tasks/:id/rounds', async () => {
  const { status, body } = await get('/api/tasks/1/rounds?limit=10')
  assert.equal(status, 200)
  assert.deepEqual(body.map((r: Json) => [r.cycle, r.phase]), [['2', 'work'], ['1', 'audit'], ['0', 'final']])
  const [work, auditing, done] = body
  assert.deepEqual(work.submissions, [])
  assert.equal(work.distribution.status, 'pending')

  // Cycle 1: submitted by the honest nodes, its seed not yet fixed (nobody touched it since).
  assert.deepEqual(auditing.submissions.map((s: Json) => s.node), [net.nodes[0].address, net.nodes[1].address])
  assert.equal(auditing.seed, null)
  assert.ok(auditing.submissions.every((s: Json) => s.sampled === null && s.auditors.length === 0))
  assert.equal(auditing.budget, String(net.params.bountyPerRound))

  // Cycle 0: all sampled (dues), two auditors each, node-3 convicted, distribution final.
  assert.match(done.seed, /^0x[0-9a-f]{64}$/)
  assert.equal(done.submissions.length, 3)
  for (const submission of done.submissions) {
    assert.equal(submission.sampled, true)
    assert.equal(submission.auditProbabilityBps, 10_000)
    assert.equal(submission.auditors.length, 2)
    assert.ok(!submission.auditors.includes(submission.node))
    assert.equal(submission.convicted, submission.node === net.nodes[2].address)
    assert.match(submission.root, /^0x[0-9a-f]{64}$/)
  }
  assert.deepEqual(done.audits, [String(net.auditId)])
  assert.equal(done.distribution.status, 'final')
  assert.equal(done.distribution.poster, net.poster)
  assert.equal(done.distribution.merkleRoot, net.distribution.root)
  assert.equal(done.distribution.rewardTotal, String(net.distribution.totalReward))
  assert.equal(done.distribution.bonusTotal, String(net.distribution.totalBonus))
  assert.equal(done.distribution.rewardClaimed, String(net.distribution.totalReward / 2n))
  assert.equal(done.bonus, String(net.distribution.totalBonus))
  assert.equal(done.times.submissionOpens, String(net.start(1n)))
  assert.equal(done.times.distributionOpens, String(net.start(2n)))

  const limited = await get('/api/tasks/1/rounds?limit=1')
  assert.deepEqual(limited.body.map((r: Json) => r.cycle), ['2'])
  const defaulted = await get('/api/tasks/1/rounds')
  assert.equal(defaulted.body.length, 3)
})

test('GET /api/tasks/:id/nodes', async () => {
  const { status, body } = await get('/api/tasks/1/nodes')
  assert.equal(status, 200)
  const [n1, n2, n3] = net.nodes
  const byAddress = new Map<Address, Json>(body.map((n: Json) => [n.address, n]))
  assert.deepEqual([...byAddress.keys()].sort(), [n1.address, n2.address, n3.address].sort())

  const honest = byAddress.get(n1.address)
  assert.equal(honest.name, 'node-1')
  assert.equal(honest.p2p, '/ip4/127.0.0.1/tcp/4101/p2p/12D3KooWScenarioNode1')
  assert.equal(honest.stake, String(STAKE))
  assert.equal(honest.unbonding, '0')
  assert.deepEqual([honest.passed, honest.failed, honest.score], [1, 0, 1])
  assert.equal(honest.auditProbabilityBps, 10_000) // still paying dues (score 1 <= 2)
  assert.deepEqual([honest.submissions, honest.audited, honest.auditsAgainst], [2, 1, 0])
  const leaf = net.distribution.leaves.find((entry) => entry.node === n1.address)!
  assert.equal(honest.rewards, String(leaf.reward))
  assert.equal(honest.bonus, String(leaf.bonus))
  assert.equal(honest.slashed, '0')
  assert.equal(honest.convicted, false)
  assert.equal(honest.lastCycle, '1')

  const other = byAddress.get(n2.address)
  assert.equal(other.rewards, '0') // not claimed yet

  const cheater = byAddress.get(n3.address)
  assert.equal(net.slashed, CHEATER_STAKE / 5n) // slashBps 2000
  assert.equal(cheater.stake, String(CHEATER_STAKE - net.slashed))
  assert.equal(cheater.slashed, String(net.slashed))
  assert.deepEqual([cheater.passed, cheater.failed, cheater.score], [0, 1, 0])
  assert.deepEqual([cheater.submissions, cheater.audited, cheater.auditsAgainst, cheater.auditsUpheld], [1, 1, 1, 1])
  assert.equal(cheater.convicted, true)
  assert.ok(BigInt(cheater.reopenedUntil) > 0n)
})

test('GET /api/tasks/:id/audits', async () => {
  const { status, body } = await get('/api/tasks/1/audits')
  assert.equal(status, 200)
  assert.equal(body.length, 1)
  const [audit] = body
  assert.equal(audit.auditId, String(net.auditId))
  assert.equal(audit.kind, 'submission')
  assert.equal(audit.cycle, '0')
  assert.equal(audit.accused, net.nodes[2].address)
  assert.equal(audit.accuser, net.nodes[0].address)
  assert.match(audit.evidenceCid, /^0x[0-9a-f]{64}$/)
  assert.ok(BigInt(audit.deadline) > net.start(1n))
  assert.equal(audit.upholdWeight, String(STAKE * 2n))
  assert.equal(audit.rejectWeight, '0')
  assert.equal(audit.resolved, true)
  assert.equal(audit.upheld, true)
  assert.equal(audit.status, 'upheld')
  assert.deepEqual(
    audit.votes.map((v: Json) => [v.voter, v.side]),
    [
      [net.nodes[0].address, 'uphold'],
      [net.nodes[1].address, 'uphold'],
    ],
  )
  assert.deepEqual(audit.slashed, { node: net.nodes[2].address, amount: String(net.slashed) })
  assert.equal(audit.shared.winner, net.nodes[0].address)
})

test('rewards and task routes need a node', async () => {
  const rewards = await get('/api/tasks/1/rewards')
  assert.equal(rewards.status, 404)
  assert.equal(rewards.body.error.code, 'NO_NODE')
  assert.match(rewards.body.error.message, /no node/)
  const route = await send('POST', '/api/tasks/1/routes/pages', '{}', { 'content-type': 'application/json' }, api.url)
  assert.equal(route.status, 404)
  assert.equal(route.body.error.code, 'NO_NODE')

  const leaf = net.distribution.leaves.find((entry) => entry.node === net.nodes[0].address)!
  const mine = await get('/api/tasks/1/rewards', nodeApi.url)
  assert.equal(mine.status, 200)
  assert.deepEqual(mine.body, [{ cycle: '0', reward: String(leaf.reward), bonus: String(leaf.bonus), claimed: true }])
})

test('ANY /api/tasks/:id/routes/* is forwarded to the task program', async () => {
  routeCalls.length = 0
  const posted = await send('POST', '/api/tasks/1/routes/pages/42?x=1&x=2&y=3', JSON.stringify({ url: 'https://example.org' }), {
    'content-type': 'application/json',
  })
  assert.equal(posted.status, 200)
  assert.deepEqual(posted.body, {
    request: { method: 'POST', path: '/pages/42', query: { x: '1', y: '3' }, body: { url: 'https://example.org' } },
    big: String(10n ** 30n),
    bytes: '0x0102ff',
  })
  assert.equal(routeCalls[0]?.[0], 'route')
  assert.equal(routeCalls[0]?.length, 2) // call('route', request), as @coop/sdk's runtime expects
  const got = await send('GET', '/api/tasks/1/routes/status')
  assert.equal(got.status, 200)
  assert.equal(got.body.request.body, undefined)

  const failing = await send('GET', '/api/tasks/1/routes/fail')
  assert.equal(failing.status, 502)
  assert.equal(failing.body.error.code, 'ROUTE_FAILED')
  assert.doesNotMatch(failing.body.error.message, /stack/)
  const missing = await send('GET', '/api/tasks/1/routes/missing')
  assert.equal(missing.status, 404)
  const notRun = await send('GET', '/api/tasks/0/routes/x')
  assert.equal(notRun.status, 404)
  assert.equal(notRun.body.error.code, 'TASK_NOT_FOUND')
})

test('malformed requests get 400/404/405/413/415 and never break the server', async () => {
  const cases: [string, number, string][] = [
    ['/api/tasks/abc/nodes', 400, 'BAD_TASK_ID'],
    ['/api/tasks/-1/nodes', 400, 'BAD_TASK_ID'],
    ['/api/tasks/01/nodes', 400, 'BAD_TASK_ID'],
    ['/api/tasks/1.5/rounds', 400, 'BAD_TASK_ID'],
    [`/api/tasks/${'9'.repeat(79)}/nodes`, 400, 'BAD_TASK_ID'],
    [`/api/tasks/${2n ** 256n}/nodes`, 400, 'BAD_TASK_ID'],
    ['/api/tasks/%ZZ/nodes', 400, 'BAD_URL'],
    ['/api/tasks/99/nodes', 404, 'TASK_NOT_FOUND'],
    ['/api/tasks/1/rounds?limit=abc', 400, 'BAD_PARAM'],
    ['/api/tasks/1/rounds?limit=0', 400, 'BAD_PARAM'],
    ['/api/tasks/1/rounds?limit=100000', 400, 'BAD_PARAM'],
    ['/api/tasks/1/rounds?limit=-1', 400, 'BAD_PARAM'],
    ['/api/nope', 404, 'NOT_FOUND'],
    ['/api/tasks/1/nope', 404, 'NOT_FOUND'],
    ['/api/tasks/1/nodes/extra', 404, 'NOT_FOUND'],
    ['/nope.html', 404, 'NOT_FOUND'],
    ['/..%2f..%2fetc/passwd', 404, 'NOT_FOUND'],
    ['/%2e%2e/%2e%2e/package.json', 404, 'NOT_FOUND'],
    ['/ws', 426, 'UPGRADE_REQUIRED'],
  ]
  for (const [path, status, code] of cases) {
    const response = await get(path)
    assert.equal(response.status, status, path)
    assert.equal(response.body.error.code, code, path)
    assert.equal(typeof response.body.error.message, 'string')
  }

  const wrongMethod = await send('POST', '/api/tasks', '{}', { 'content-type': 'application/json' })
  assert.equal(wrongMethod.status, 405)
  assert.equal(wrongMethod.body.error.code, 'METHOD_NOT_ALLOWED')
  const deleteStatus = await send('DELETE', '/api/status')
  assert.equal(deleteStatus.status, 405)

  // Bodies: malformed JSON, not JSON at all, over 1 MiB (declared, and streamed without a length).
  const badJson = await send('POST', '/api/tasks/1/routes/pages', '{"url": ', { 'content-type': 'application/json' })
  assert.equal(badJson.status, 400)
  assert.equal(badJson.body.error.code, 'BAD_JSON')
  const text = await send('POST', '/api/tasks/1/routes/pages', 'url=x', { 'content-type': 'application/x-www-form-urlencoded' })
  assert.equal(text.status, 415)
  const big = new Uint8Array(2 * 1024 * 1024).fill(0x20)
  const declared = await send('POST', '/api/tasks/1/routes/pages', big, { 'content-type': 'application/json' })
  assert.equal(declared.status, 413)
  assert.equal(declared.body.error.code, 'BODY_TOO_LARGE')
  const declaredNoNode = await send('POST', '/api/tasks/1/routes/pages', big, { 'content-type': 'application/json' }, api.url)
  assert.equal(declaredNoNode.status, 413)

  const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest(`${nodeApi.url}/api/tasks/1/routes/pages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    })
    req.on('response', (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    const chunk = Buffer.alloc(64 * 1024, 0x20)
    let sent = 0
    const pump = () => {
      while (sent < 4 * 1024 * 1024) {
        sent += chunk.length
        if (!req.write(chunk)) return void req.once('drain', pump)
      }
      req.end()
    }
    pump()
  })
  assert.equal(streamed.status, 413)
  assert.equal(JSON.parse(streamed.body).error.code, 'BODY_TOO_LARGE')

  // Not HTTP, oversized headers.
  const garbage = await raw(api.port, 'HELLO THERE\r\n\r\n')
  assert.match(garbage, /^HTTP\/1\.1 400/)
  const headers = await raw(api.port, `GET /api/status HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`)
  assert.match(headers, /^HTTP\/1\.1 431/)

  // Still answering.
  assert.equal((await get('/api/status')).status, 200)
  assert.equal((await get('/api/status', nodeApi.url)).status, 200)
})

test('slow clients are cut off (headers and request timeouts)', async () => {
  const strict = await createApiServer({ view, headersTimeoutMs: 300, requestTimeoutMs: 600 })
  try {
    const started = Date.now()
    // Headers that never end.
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(strict.port, '127.0.0.1')
      let out = ''
      socket.setEncoding('utf8')
      socket.on('data', (chunk) => (out += chunk))
      socket.on('close', () => resolve(out))
      socket.on('error', () => resolve(out))
      socket.write('GET /api/status HTTP/1.1\r\nHost: x\r\n')
      const drip = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 100)
      socket.on('close', () => clearInterval(drip))
    })
    assert.ok(Date.now() - started < 3_000, 'closed within a few seconds')
    assert.match(answer, /^HTTP\/1\.1 408/)
    assert.equal((await get('/api/status', strict.url)).status, 200)
  } finally {
    await strict.close()
  }
})

test('HEAD and the dashboard at /', async () => {
  const head = await fetch(`${api.url}/api/tasks`, { method: 'HEAD' })
  assert.equal(head.status, 200)
  assert.equal(await head.text(), '')
  const page = await fetch(`${api.url}/`)
  assert.equal(page.status, 200)
  assert.match(page.headers.get('content-type')!, /^text\/html/)
  assert.match(page.headers.get('content-security-policy')!, /default-src 'self'/)
  assert.match(await page.text(), /<title>Coop/)
  const script = await fetch(`${api.url}/app.js`)
  assert.match(script.headers.get('content-type')!, /^text\/javascript/)
})

test('GET /metrics is Prometheus text', async () => {
  const check = async (base: string) => {
    const response = await fetch(`${base}/metrics`)
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/)
    const text = await response.text()
    const samples = new Map<string, number>()
    for (const line of text.split('\n')) {
      if (line === '') continue
      if (line.startsWith('#')) {
        assert.match(line, /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/, line)
        continue
      }
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.]+(?:e[+-]?[0-9]+)?|NaN|[+-]Inf)( [0-9]+)?$/.exec(line)
      assert.ok(match, `not a Prometheus sample line: ${line}`)
      samples.set(match[1]! + (match[2] ?? ''), Number(match[3]))
    }
    return samples
  }
  const own = await check(api.url)
  const status = view.status()
  assert.equal(own.get('coop_view_block_number'), Number(status.blockNumber))
  assert.equal(own.get('coop_view_tasks'), 1)
  assert.equal(own.get('coop_view_open_audits'), 0)
  assert.ok((own.get('coop_view_events_applied') ?? 0) > 20)
  assert.ok([...own.keys()].some((key) => key.startsWith('coop_api_requests_total{')))
  assert.ok(own.has('process_cpu_user_seconds_total'))

  const node = await check(nodeApi.url)
  assert.equal(node.get('coop_rounds_total'), 3) // the node's own registry
  assert.equal(node.get('coop_view_block_number'), Number(status.blockNumber))
})

test('WebSocket: hello, ping, subscribe, and live events from the chain', async () => {
  const client = await openWs(api.url)
  const hello = await client.next('hello')
  assert.equal(hello.chainId, 31337)
  assert.deepEqual(hello.tasks, ['1'])
  client.ws.send(JSON.stringify({ type: 'ping' }))
  await client.next('pong')
  client.ws.send(JSON.stringify({ type: 'subscribe', taskIds: ['1'] }))
  assert.deepEqual((await client.next('subscribed')).taskIds, ['1'])

  await view.start()
  // The spare node joins: stake + register, then the view pushes both.
  await net.spare.coop.stake({ taskId: net.taskId, amount: STAKE })
  await net.spare.coop.registerNode({ p2pAddress: '/ip4/127.0.0.1/tcp/4104/p2p/12D3KooWSpare' })
  const staked = await client.next('stake', (m) => m.node === net.spare.address)
  assert.equal(staked.taskId, '1')
  assert.equal(staked.event, 'Staked')
  assert.equal(staked.amount, String(STAKE))
  const registered = await client.next('node', (m) => m.node === net.spare.address)
  assert.equal(registered.p2p, '/ip4/127.0.0.1/tcp/4104/p2p/12D3KooWSpare')
  await client.next('sync')
  // When the event arrives the view has already read the new state.
  const nodes = await get('/api/tasks/1/nodes')
  assert.equal(nodes.body.find((n: Json) => n.address === net.spare.address)?.stake, String(STAKE))
  client.ws.close()
  await client.closed

  // A node's own events go out too, marked as such.
  const nodeClient = await openWs(nodeApi.url)
  await nodeClient.next('hello')
  nodeEvents.emit('event', { type: 'work', taskId: '1', cycle: '2', items: 64 })
  nodeEvents.emit('event', 'not an event object')
  const work = await nodeClient.next('work')
  assert.deepEqual(work, { source: 'node', type: 'work', taskId: '1', cycle: '2', items: 64 })
  nodeClient.ws.close()
  await nodeClient.closed
})

test('WebSocket clients that send garbage are closed politely; the server carries on', async () => {
  const bad = async (payload: string | Buffer, code: number) => {
    const client = await openWs(api.url)
    await client.next('hello')
    client.ws.send(payload)
    const closed = await client.closed
    assert.equal(closed.code, code, String(payload).slice(0, 40))
    return closed
  }
  assert.match((await bad('not json {', 1007)).reason, /invalid JSON/)
  await bad('[1,2,3]', 1007)
  await bad(JSON.stringify({ type: 'launch-missiles' }), 1008)
  await bad(JSON.stringify({ type: 'subscribe', taskIds: [{}] }), 1008)
  await bad(Buffer.from([0xde, 0xad, 0xbe, 0xef]), 1003)
  await bad('x'.repeat(64 * 1024), 1009) // over maxPayload

  // Upgrades elsewhere than /ws and from foreign origins are refused.
  await assert.rejects(
    new Promise((resolve, reject) => {
      const ws = new WebSocket(`${api.url.replace('http', 'ws')}/elsewhere`)
      ws.on('open', resolve)
      ws.on('error', reject)
    }),
    /404/,
  )
  await assert.rejects(openWs(api.url, { origin: 'https://evil.example' }), /403/)

  const still = await openWs(api.url)
  await still.next('hello')
  still.ws.close()
  assert.equal((await get('/api/status')).status, 200)
})

test('the view rides out RPC failures without losing or repeating events', async () => {
  const proxy = await startRpcProxy(net.anvil.rpcUrl)
  const proxyUrl = proxy.url
  const flaky = createChainView({
    client: createCoopPublicClient({ rpcUrl: proxyUrl }),
    addresses: net.addresses,
    names: net.names,
    pollIntervalMs: 50,
    maxBackoffMs: 200,
    blockRange: 7n, // many small ranges
    retry: { retries: 1, initialDelayMs: 10 },
  })
  try {
    await flaky.sync()
    await view.sync()
    const before = flaky.status().blockNumber
    assert.equal(before, view.status().blockNumber)

    proxy.up = false
    // Chain moves on while the view cannot see it: node-2 unstakes part, node-1 submits nothing.
    await net.nodes[1].coop.requestUnstake({ taskId: net.taskId, amount: parseUnits('100', 18) })
    await net.spare.coop.stake({ taskId: net.taskId, amount: parseUnits('50', 18) })
    await assert.rejects(flaky.sync())
    const failed = flaky.status()
    assert.equal(failed.blockNumber, before) // kept its place
    assert.ok(failed.lastError)
    assert.ok(failed.rpcErrors > 0)

    // Polling with backoff while down, then the endpoint returns and it catches up by itself.
    void flaky.start()
    await new Promise((resolve) => setTimeout(resolve, 400))
    proxy.up = true
    const head = await net.creator.getBlockNumber()
    const deadline = Date.now() + 10_000
    while ((flaky.status().blockNumber ?? 0n) < head && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    assert.equal(flaky.status().blockNumber, head)
    await view.sync()
    // Same answers as the view that never lost the endpoint (counters not doubled, nothing missing).
    assert.equal(toJson(flaky.nodes(net.taskId)), toJson(view.nodes(net.taskId)))
    assert.equal(toJson(flaky.rounds(net.taskId)), toJson(view.rounds(net.taskId)))
    assert.equal(toJson(flaky.audits(net.taskId)), toJson(view.audits(net.taskId)))
    const spare = flaky.nodes(net.taskId).find((n) => n.address === net.spare.address)!
    assert.equal(spare.stake, STAKE + parseUnits('50', 18))
    const unbonding = flaky.nodes(net.taskId).find((n) => n.address === net.nodes[1].address)!
    assert.equal(unbonding.unbonding, parseUnits('100', 18))
  } finally {
    await flaky.stop()
    await proxy.close()
  }
})

test('the view halves its getLogs range when the provider refuses a wide one', async () => {
  const proxy = await startRpcProxy(net.anvil.rpcUrl)
  proxy.maxLogRange = 2n
  const capped = createChainView({
    client: createCoopPublicClient({ rpcUrl: proxy.url }),
    addresses: net.addresses,
    names: net.names,
    blockRange: 1_000n,
    retry: { retries: 0 },
  })
  try {
    await capped.sync()
    await view.sync()
    assert.ok(proxy.refused > 0)
    assert.equal(capped.status().blockNumber, view.status().blockNumber)
    assert.equal(toJson(capped.nodes(net.taskId)), toJson(view.nodes(net.taskId)))
    assert.equal(toJson(capped.rounds(net.taskId)), toJson(view.rounds(net.taskId)))
  } finally {
    await capped.stop()
    await proxy.close()
  }
})

/** A JSON-RPC proxy in front of anvil that can be switched off or cap eth_getLogs ranges. */
async function startRpcProxy(target: string) {
  const state = {
    up: true,
    maxLogRange: undefined as bigint | undefined,
    refused: 0,
    url: '',
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk) => chunks.push(chunk))
    req.on('end', async () => {
      if (!state.up) {
        res.writeHead(503).end('unavailable')
        return
      }
      const body = Buffer.concat(chunks)
      const call = JSON.parse(body.toString()) as { id: number; method: string; params: [{ fromBlock: string; toBlock: string }] }
      if (call.method === 'eth_getLogs' && state.maxLogRange !== undefined) {
        const [{ fromBlock, toBlock }] = call.params
        if (BigInt(toBlock) - BigInt(fromBlock) + 1n > state.maxLogRange) {
          state.refused++
          res.writeHead(200, { 'content-type': 'application/json' }).end(
            JSON.stringify({ jsonrpc: '2.0', id: call.id, error: { code: -32602, message: 'block range too large' } }),
          )
          return
        }
      }
      try {
        const answer = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(Buffer.from(await answer.arrayBuffer()))
      } catch {
        res.writeHead(502).end()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return state
}

test('a view started after the audit was raised fills it in from reads', async () => {
  const raisedBlock = view.audits(net.taskId)[0]!.raisedBlock
  const late = createChainView({
    client: createCoopPublicClient({ rpcUrl: net.anvil.rpcUrl }),
    addresses: net.addresses,
    fromBlock: raisedBlock + 1n,
  })
  await late.sync()
  const [audit] = late.audits(net.taskId)
  assert.ok(audit)
  assert.equal(audit.auditId, net.auditId)
  assert.equal(audit.status, 'upheld')
  assert.equal(audit.accused, net.nodes[2].address)
  assert.equal(audit.upholdWeight, STAKE * 2n) // from getAudit, though only one VoteCast was seen
  assert.deepEqual(audit.votes.map((v) => v.voter), [net.nodes[1].address])
  assert.equal(late.task(net.taskId)?.escrow, view.task(net.taskId)?.escrow)
  assert.equal(late.status().blockNumber, view.status().blockNumber)
})
