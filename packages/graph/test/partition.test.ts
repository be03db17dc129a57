// Partitions: a killed connection and a stopped (then restarted, durable) peer, writes on both
// sides meanwhile, reconnect → both converge, and the resync carries only the keys that changed
// (counted in keys, messages and bytes).
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'

import { startGraphRelay } from '../src/relay.ts'
import type { Graph } from '../src/types.ts'
import { connectGraphWebSocket } from '../src/wire/websocket-client.ts'
import { coopPeer, one, tempDir, waitFor } from './wire-helpers.ts'

const dir = tempDir('partition')
const cleanups: Array<() => Promise<void> | void> = []
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
  dir.remove()
})

function bulk(prefix: string, count: number, souls: number, state0: number): Graph {
  const graph: Graph = {}
  for (let i = 0; i < count; i++) {
    const soul = `${prefix}/${i % souls}`
    const node = (graph[soul] ??= { _: { '#': soul, '>': {} } })
    node._['>'][`k${i}`] = state0 + i / 1000
    node[`k${i}`] = `${prefix}-${i}-${'x'.repeat(40)}`
  }
  return graph
}

const snapshot = (graph: Graph): string =>
  JSON.stringify(
    Object.keys(graph)
      .sort()
      .map((soul) => [soul, Object.keys(graph[soul]!._['>']).sort().map((key) => [key, graph[soul]![key], graph[soul]!._['>'][key]])]),
  )

describe('partition and reconnect', () => {
  it('killed connection: writes on both sides, then only the changed keys cross, and both converge', async () => {
    const a = await startGraphRelay({})
    cleanups.push(() => a.close())
    const b = await coopPeer()
    cleanups.push(() => b.close())
    const start = Date.now() - 60_000
    await a.mesh.put(bulk('a', 2_000, 40, start))
    await b.mesh.put(bulk('b', 1_000, 20, start))
    const link = connectGraphWebSocket({ mesh: b.mesh, url: a.url, backoff: { initialMs: 20 } })
    cleanups.push(() => link.close())
    await waitFor('initial sync', () => a.store.size === 60 && b.store.size === 60 && snapshot(a.store.graph()) === snapshot(b.store.graph()))
    const fullBytes = a.mesh.totals.bytesOut
    await waitFor('everything acknowledged', () =>
      [...a.mesh.linkStates(), ...b.mesh.linkStates()].every((state) => state.connected && state.unacknowledged === 0),
    )

    link.suspend() // the connection dies (no close handshake) and stays down
    await waitFor('both sides see the partition', () => a.mesh.connectedPeers().length === 0 && b.mesh.connectedPeers().length === 0)
    const now = Date.now()
    const aWrites: Graph = { ...one('during', 'a1', 'A', now), ...one('a/3', 'k3', 'changed by A', now) }
    for (let i = 0; i < 4; i++) Object.assign(aWrites, one(`during/a${i}`, 'v', i, now))
    await a.mesh.put(aWrites) // 6 keys
    const bWrites: Graph = { ...one('during', 'b1', 'B', now), ...one('b/7', 'k7', 'changed by B', now) }
    for (let i = 0; i < 6; i++) Object.assign(bWrites, one(`during/b${i}`, 'v', i, now))
    await b.mesh.put(bWrites) // 8 keys
    // the same key on both sides, B's state later: B's value must win on both
    await a.mesh.put(one('conflict', 'x', 'A loses', now))
    await b.mesh.put(one('conflict', 'x', 'B wins', now + 1))

    const before = { a: { ...a.mesh.totals }, b: { ...b.mesh.totals } }
    link.resume()
    await waitFor('converged after reconnect', () => snapshot(a.store.graph()) === snapshot(b.store.graph()))
    await waitFor('resync acknowledged', () => [...a.mesh.linkStates(), ...b.mesh.linkStates()].every((state) => state.connected && state.unacknowledged === 0))
    assert.equal(a.store.value('conflict', 'x'), 'B wins')
    assert.equal(a.store.value('b/7', 'k7'), 'changed by B')
    assert.equal(b.store.value('a/3', 'k3'), 'changed by A')

    const aSent = a.mesh.totals.keysOut - before.a.keysOut
    const bSent = b.mesh.totals.keysOut - before.b.keysOut
    assert.equal(aSent, 7, 'A resends exactly its 6 writes and its side of the conflict')
    assert.equal(bSent, 9, 'B resends exactly its 8 writes and its side of the conflict')
    const messages = a.mesh.totals.messagesOut - before.a.messagesOut + (b.mesh.totals.messagesOut - before.b.messagesOut)
    assert.ok(messages <= 8, `resync took ${messages} messages (hellos, one put each way, acks)`)
    const bytes = a.mesh.totals.bytesOut - before.a.bytesOut + (b.mesh.totals.bytesOut - before.b.bytesOut)
    assert.ok(bytes < fullBytes / 20, `resync moved ${bytes} bytes; the initial sync moved ${fullBytes}`)
  })

  it('stopped peer: a durable relay restarts on the same port, the client resends only what it wrote meanwhile, gets are re-issued', async () => {
    const storePath = join(dir.path, 'relay.sqlite')
    let relay = await startGraphRelay({ storePath })
    const port = relay.port
    const client = await coopPeer()
    cleanups.push(() => client.close())
    const link = connectGraphWebSocket({ mesh: client.mesh, url: relay.url, backoff: { initialMs: 20, maxMs: 200 } })
    cleanups.push(() => link.close())
    await client.mesh.put(bulk('c', 500, 10, Date.now() - 10_000))
    await waitFor('relay has the client’s data, acked', async () => relay.store.size === 10 && client.mesh.linkStates().every((state) => state.connected && state.unacknowledged === 0))
    await relay.mesh.put(one('relay', 'before', 1, Date.now()))
    await waitFor('client has the relay’s write', () => client.store.value('relay', 'before') === 1)
    // a light client (no replication) follows one soul: after the restart its get must be re-issued
    const light = await coopPeer({ mesh: { replicate: false } })
    cleanups.push(() => light.close())
    const lightLink = connectGraphWebSocket({ mesh: light.mesh, url: relay.url, backoff: { initialMs: 20, maxMs: 200 } })
    cleanups.push(() => lightLink.close())
    await lightLink.whenConnected()
    light.mesh.subscribe('relay')
    await waitFor('light client has the soul it follows', () => light.store.value('relay', 'before') === 1)

    await relay.close()
    await waitFor('client sees the relay gone', () => client.mesh.connectedPeers().length === 0)
    await client.mesh.put({ ...one('down', 'x', 'written while the relay was down', Date.now()), ...one('c/1', 'k1', 'updated', Date.now()) })
    const sentBefore = client.mesh.totals.keysOut

    relay = await startGraphRelay({ storePath, port })
    cleanups.push(() => relay.close())
    assert.equal(relay.store.value('c/2', 'k2'), 'c-2-' + 'x'.repeat(40), 'acknowledged writes survived the restart')
    await relay.mesh.put(one('relay', 'after', 2, Date.now()))
    await waitFor('converged after the restart', () => snapshot(relay.store.graph()) === snapshot(client.store.graph()) && client.store.value('relay', 'after') === 2)
    assert.equal(relay.store.value('down', 'x'), 'written while the relay was down')
    await waitFor('the light client re-asked after reconnecting and follows the soul again', () => light.store.value('relay', 'after') === 2)
    assert.equal(light.store.get('down'), undefined, 'and gets nothing it did not ask for')
    assert.equal(client.mesh.totals.keysOut - sentBefore, 2, 'the client resent only its two writes made while the relay was down')
  })
})
