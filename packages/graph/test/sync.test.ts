// Coop ↔ Coop sync: over WebSocket and over a libp2p stream, both ways, initial resync of what each
// side had, relaying through a middle peer without echoes, and a light client's subscriptions.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'

import { createCoopHost } from '@coop/p2p'
import { generatePrivateKey } from 'viem/accounts'

import { startGraphRelay } from '../src/relay.ts'
import type { Graph } from '../src/types.ts'
import { dialGraphOverLibp2p, serveGraphOverLibp2p } from '../src/wire/libp2p-stream.ts'
import { GraphMesh } from '../src/wire/mesh.ts'
import { connectGraphWebSocket } from '../src/wire/websocket-client.ts'
import { coopPeer, libp2pNode, one, waitFor } from './wire-helpers.ts'

const cleanups: Array<() => Promise<void> | void> = []
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
})

/** `count` keys spread over `souls` nodes, with distinct states. */
function bulk(prefix: string, count: number, souls: number, state0: number): Graph {
  const graph: Graph = {}
  for (let i = 0; i < count; i++) {
    const soul = `${prefix}/${i % souls}`
    const node = (graph[soul] ??= { _: { '#': soul, '>': {} } })
    node._['>'][`k${i}`] = state0 + i
    node[`k${i}`] = `${prefix}-${i}`
  }
  return graph
}

function sameGraph(a: { graph(): Graph }, b: { graph(): Graph }): boolean {
  return JSON.stringify(sortGraph(a.graph())) === JSON.stringify(sortGraph(b.graph()))
}

function sortGraph(graph: Graph): unknown {
  return Object.keys(graph)
    .sort()
    .map((soul) => {
      const node = graph[soul]!
      return [soul, Object.keys(node._['>']).sort().map((key) => [key, node[key], node._['>'][key]])]
    })
}

describe('Coop ↔ Coop over WebSocket', () => {
  it('both sides get what the other had before connecting, then every later write, both ways', async () => {
    const relay = await startGraphRelay({})
    cleanups.push(() => relay.close())
    const now = Date.now() - 60_000
    await relay.mesh.put(bulk('server', 3_000, 50, now))
    const client = await coopPeer()
    cleanups.push(() => client.close())
    await client.mesh.put(bulk('client', 2_000, 40, now))

    const link = connectGraphWebSocket({ mesh: client.mesh, url: relay.url, backoff: { initialMs: 50 } })
    cleanups.push(() => link.close())
    await waitFor('initial resync both ways', () => sameGraph(relay.store, client.store) && relay.store.size === 90)

    await relay.mesh.put(one('live', 'from-server', 1, Date.now()))
    await client.mesh.put(one('live', 'from-client', 2, Date.now()))
    await waitFor('live writes both ways', () => client.store.value('live', 'from-server') === 1 && relay.store.value('live', 'from-client') === 2)
    // every put was acknowledged: nothing is left to resend
    await waitFor('acks', () => client.mesh.linkStates().every((state) => state.unacknowledged === 0) && relay.mesh.linkStates().every((state) => state.unacknowledged === 0))
    assert.equal(client.mesh.totals.rejected + relay.mesh.totals.rejected, 0)
  })

  it('a middle peer relays between two others without echoing writes back to their writer', async () => {
    const middle = await startGraphRelay({})
    cleanups.push(() => middle.close())
    const left = await coopPeer()
    const right = await coopPeer()
    cleanups.push(() => left.close(), () => right.close())
    const leftLink = connectGraphWebSocket({ mesh: left.mesh, url: middle.url, backoff: { initialMs: 50 } })
    const rightLink = connectGraphWebSocket({ mesh: right.mesh, url: middle.url, backoff: { initialMs: 50 } })
    cleanups.push(() => leftLink.close(), () => rightLink.close())
    await Promise.all([leftLink.whenConnected(), rightLink.whenConnected()])
    await waitFor('links up', () => middle.mesh.linkStates().filter((state) => state.connected).length === 2)

    const writes = 500
    const keysInBefore = left.mesh.totals.keysIn
    await left.mesh.put(bulk('left', writes, 10, Date.now() - 1_000))
    await waitFor('right has left’s writes', () => countKeys(right.store.graph()) === writes)
    await waitFor('middle acked', () => left.mesh.linkStates().every((state) => state.unacknowledged === 0))
    assert.equal(left.mesh.totals.keysIn - keysInBefore, 0, 'the writer gets none of its own keys back')
    assert.ok(sameGraph(left.store, right.store))
  })

  it('a light client (replicate: false) gets the souls it asked for and their later changes, not the rest', async () => {
    const relay = await startGraphRelay({})
    cleanups.push(() => relay.close())
    await relay.mesh.put({ ...one('wanted', 'a', 1, Date.now() - 10), ...one('other', 'b', 2, Date.now() - 10) })
    const light = await coopPeer({ mesh: { replicate: false } })
    cleanups.push(() => light.close())
    const link = connectGraphWebSocket({ mesh: light.mesh, url: relay.url, backoff: { initialMs: 50 } })
    cleanups.push(() => link.close())
    await link.whenConnected()
    light.mesh.subscribe('wanted')
    await waitFor('light has the wanted node', () => light.store.value('wanted', 'a') === 1)
    await relay.mesh.put({ ...one('wanted', 'a', 10, Date.now()), ...one('other', 'b', 20, Date.now()) })
    await waitFor('light gets the change of the wanted node', () => light.store.value('wanted', 'a') === 10)
    await new Promise((resolve) => setTimeout(resolve, 100))
    assert.equal(light.store.get('other'), undefined, 'a soul nobody asked for is not pushed to a light client')
    // its own writes go to the relay all the same
    await light.mesh.put(one('note', 'text', 'hi', Date.now()))
    await waitFor('relay has the light client’s write', () => relay.store.value('note', 'text') === 'hi')
  })
})

describe('Coop ↔ Coop over libp2p', () => {
  it('syncs both ways over /coop/graph/1.0.0 and resyncs after the stream is killed', async () => {
    const [nodeA, nodeB] = await Promise.all([libp2pNode(), libp2pNode()])
    cleanups.push(() => nodeA.stop(), () => nodeB.stop())
    const a = await coopPeer()
    const b = await coopPeer()
    cleanups.push(() => a.close(), () => b.close())
    const service = await serveGraphOverLibp2p(nodeA, a.mesh)
    cleanups.push(() => service.close())
    await a.mesh.put(bulk('a', 1_000, 20, Date.now() - 5_000))
    await b.mesh.put(bulk('b', 1_000, 20, Date.now() - 5_000))
    const link = dialGraphOverLibp2p(nodeB, b.mesh, nodeA.getMultiaddrs()[0]!, { backoff: { initialMs: 50 } })
    cleanups.push(() => link.close())
    await waitFor('initial sync over libp2p', () => sameGraph(a.store, b.store) && a.store.size === 40)

    await waitFor('acks', () => b.mesh.linkStates().every((state) => state.unacknowledged === 0))
    link.suspend()
    await waitFor('stream gone on both sides', () => a.mesh.connectedPeers().length === 0 && b.mesh.connectedPeers().length === 0)
    await a.mesh.put(one('after', 'x', 'from-a', Date.now()))
    await b.mesh.put(one('after', 'y', 'from-b', Date.now()))
    const sentBefore = b.mesh.totals.keysOut
    link.resume()
    await waitFor('resync over libp2p', () => a.store.value('after', 'y') === 'from-b' && b.store.value('after', 'x') === 'from-a')
    assert.equal(b.mesh.totals.keysOut - sentBefore, 1, 'only the key written during the partition is resent')
    assert.ok(sameGraph(a.store, b.store))
  })

  it('a mesh can be given to both transports at once (a relay between WebSocket and libp2p peers)', async () => {
    const relay = await startGraphRelay({})
    cleanups.push(() => relay.close())
    const nodeR = await libp2pNode()
    const nodeP = await libp2pNode()
    cleanups.push(() => nodeR.stop(), () => nodeP.stop())
    const service = await serveGraphOverLibp2p(nodeR, relay.mesh)
    cleanups.push(() => service.close())
    const p2pPeer = await coopPeer()
    const wsPeer = await coopPeer()
    cleanups.push(() => p2pPeer.close(), () => wsPeer.close())
    const p2pLink = dialGraphOverLibp2p(nodeP, p2pPeer.mesh, nodeR.getMultiaddrs()[0]!, { backoff: { initialMs: 50 } })
    const wsLink = connectGraphWebSocket({ mesh: wsPeer.mesh, url: relay.url, backoff: { initialMs: 50 } })
    cleanups.push(() => p2pLink.close(), () => wsLink.close())
    await Promise.all([p2pLink.whenConnected(), wsLink.whenConnected()])
    await p2pPeer.mesh.put(one('bridge', 'p2p', true, Date.now()))
    await wsPeer.mesh.put(one('bridge', 'ws', true, Date.now()))
    await waitFor('both writes everywhere', () => p2pPeer.store.value('bridge', 'ws') === true && wsPeer.store.value('bridge', 'p2p') === true)
    assert.ok(relay.mesh instanceof GraphMesh)
  })
})

describe('Coop ↔ Coop over two Coop nodes’ hosts (CoopHost, @coop/p2p)', () => {
  it('syncs both ways over /coop/graph/1.0.0, and resyncs after one host is stopped and started again', async () => {
    const [hostA, hostB] = await Promise.all([createCoopHost({ privateKey: generatePrivateKey() }), createCoopHost({ privateKey: generatePrivateKey() })])
    cleanups.push(() => hostA.stop(), () => hostB.stop())
    const a = await coopPeer()
    const b = await coopPeer()
    cleanups.push(() => a.close(), () => b.close())
    const service = await serveGraphOverLibp2p(hostA, a.mesh)
    cleanups.push(() => service.close())
    await a.mesh.put(bulk('a', 200, 10, Date.now() - 5_000))
    await b.mesh.put(bulk('b', 200, 10, Date.now() - 5_000))
    const link = dialGraphOverLibp2p(hostB, b.mesh, hostA.multiaddrs()[0]!, { backoff: { initialMs: 50, maxMs: 200 } })
    cleanups.push(() => link.close())
    await waitFor('initial sync between the hosts', () => sameGraph(a.store, b.store) && a.store.size === 20)
    assert.equal(a.mesh.connectedPeers()[0]?.transport.kind, 'libp2p')

    // Partition: B's host goes down; both sides keep writing.
    await waitFor('acks', () => b.mesh.linkStates().every((state) => state.unacknowledged === 0))
    await hostB.stop()
    await waitFor('stream gone on both sides', () => a.mesh.connectedPeers().length === 0 && b.mesh.connectedPeers().length === 0)
    await a.mesh.put(one('partition', 'x', 'from-a', Date.now()))
    await b.mesh.put(one('partition', 'y', 'from-b', Date.now()))
    await new Promise((resolve) => setTimeout(resolve, 300)) // redials fail while the host is stopped (DIAL_FAILED), with backoff
    assert.equal(a.store.value('partition', 'y'), undefined)
    assert.equal(b.store.value('partition', 'x'), undefined)

    const sentBefore = b.mesh.totals.keysOut
    const receivedBefore = b.mesh.totals.keysIn
    await hostB.start()
    await waitFor('resync after the host restarted', () => a.store.value('partition', 'y') === 'from-b' && b.store.value('partition', 'x') === 'from-a', 20_000)
    assert.equal(b.mesh.totals.keysOut - sentBefore, 1, 'B resends only the key written during the partition')
    assert.equal(b.mesh.totals.keysIn - receivedBefore, 1, 'A resends only the key written during the partition')
    assert.ok(sameGraph(a.store, b.store))

    // And live again both ways.
    await a.mesh.put(one('live', 'x', 1, Date.now()))
    await b.mesh.put(one('live', 'y', 2, Date.now()))
    await waitFor('live writes after the resync', () => a.store.value('live', 'y') === 2 && b.store.value('live', 'x') === 1)
  })

  it('dialStream refuses while the host is stopped and when the peer does not serve the protocol (typed DIAL_FAILED)', async () => {
    const [hostA, hostB] = await Promise.all([createCoopHost({ privateKey: generatePrivateKey() }), createCoopHost({ privateKey: generatePrivateKey(), start: false })])
    cleanups.push(() => hostA.stop(), () => hostB.stop())
    await assert.rejects(hostB.dialStream(hostA.multiaddrs()[0]!, '/coop/graph/1.0.0'), { code: 'DIAL_FAILED' })
    await hostB.start()
    await assert.rejects(hostB.dialStream(hostA.multiaddrs()[0]!, '/coop/graph/1.0.0'), { code: 'DIAL_FAILED' })
  })
})

function countKeys(graph: Graph): number {
  let keys = 0
  for (const soul in graph) keys += Object.keys(graph[soul]!._['>']).length
  return keys
}
