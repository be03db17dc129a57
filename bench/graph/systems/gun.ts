// gun baseline: npm gun in this process, no network and no storage. A set is the chain's
// gun.get('m').put({ key: value }) (GUN stamps the state); a merge feeds the other replica's graph
// through the root's 'in' event, the path a put message from a peer takes (GUN's HAM in Gun.on.put);
// a read is gun.get('m').once(…). Writes are applied asynchronously (GUN processes puts in chunks on
// timers), so the harness polls the read until it shows every write.
import { createRequire } from 'node:module'

import type { MapReplica, MapSystem } from './types.ts'

const require = createRequire(import.meta.url)

/**
 * Everything off that could touch the disk or the network. The brief's list (peers, multicast, axe,
 * radisk, localStorage, file) still let gun's rfs adapter create ./radata and its stats module write
 * node_modules/gun/stats.radata every 5 s; rfs: false and stats: false stop those (the harness
 * checks that no file appears).
 */
export const GUN_OPTIONS = {
  peers: [],
  multicast: false,
  axe: false,
  radisk: false,
  localStorage: false,
  file: false,
  rfs: false,
  stats: false,
} as const

type GunNode = { _: { '#': string; '>': Record<string, number> }; [key: string]: unknown }
type GunChain = {
  get(key: string): GunChain
  put(data: Record<string, unknown>): GunChain
  once(cb: (data: GunNode | undefined) => void, opt?: { wait: number }): GunChain
  _: { graph: Record<string, GunNode>; on(event: 'in', msg: { put: Record<string, GunNode> }): void }
}
type GunFactory = ((opt: typeof GUN_OPTIONS) => GunChain) & { log: { off?: boolean } }

let gunFactory: GunFactory | undefined
function loadGun(): GunFactory {
  if (gunFactory) return gunFactory
  const Gun = require('gun') as GunFactory
  gunFactory = Gun
  return Gun
}

const SOUL = 'm'
/** Keys per put message when shipping a replica's state (see exportState). */
export const MESSAGE_KEYS = 1000

export function gunSystem(): MapSystem {
  return {
    name: 'gun',
    writesAreAsync: true,
    async replica() {
      const Gun = loadGun()
      const gun = Gun({ ...GUN_OPTIONS, peers: [] })
      const map = gun.get(SOUL)
      const replica: MapReplica = {
        set: (key, value) => {
          map.put({ [key]: value })
        },
        read: () =>
          new Promise((resolve) => {
            // wait: 1 — gun otherwise waits 99 ms for more data from peers before answering (and
            // reads `wait || 99`, so 0 would mean 99).
            map.once((node) => resolve((key) => (node === undefined ? undefined : node[key])), { wait: 1 })
          }),
        peek: () => {
          const node = gun._.graph[SOUL]
          return (key) => (node === undefined ? undefined : node[key])
        },
        exportState: () => {
          // What a peer would receive: fresh copies (parsed JSON), so replicas share no objects, in
          // messages of at most MESSAGE_KEYS keys. One message with the whole node is what gun
          // sends from memory, but Gun.on.put walks a node 9 keys per turn and re-slices the rest
          // each time (quadratic: a 100k-key node took > 6 min here); chunking favours gun.
          const node = gun._.graph[SOUL]
          if (node === undefined) return []
          const states = node._['>']
          const messages: Record<string, GunNode>[] = []
          let chunk: GunNode | undefined
          let count = 0
          for (const key in node) {
            if (key === '_') continue
            if (chunk === undefined || count === MESSAGE_KEYS) {
              chunk = { _: { '#': SOUL, '>': {} } }
              messages.push({ [SOUL]: chunk })
              count = 0
            }
            chunk[key] = node[key]
            chunk._['>'][key] = states[key]!
            count++
          }
          return messages
        },
        merge: (states) => {
          for (const messages of states) for (const put of messages as Record<string, GunNode>[]) gun._.on('in', { put })
        },
        close: async () => {},
      }
      return replica
    },
    describe: () => ({ package: 'gun', version: '0.2020.1241', options: GUN_OPTIONS, write: "gun.get('m').put({ [key]: value })", read: "gun.get('m').once(cb, { wait: 1 })", merge: `root 'in' event with put messages of ≤ ${MESSAGE_KEYS} keys (a peer's put)` }),
  }
}
