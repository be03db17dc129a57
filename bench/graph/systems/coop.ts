// Coop graph: GraphStore.open() without a path (in memory, no durability work, like the
// baselines), one node 'm' as the map. A set is store.set('m', key, value) — the store's local
// write, `gun.get(soul).put({ [key]: value })`'s equivalent (stamped by the store's GUN-style state
// clock, HAM-merged, awaited) — or, as the 'put' variant, store.put of a GUN-shaped one-key delta.
// A merge ships the replica's whole graph (store.graph(), a copy) and puts it into the other
// replica, where HAM merges it key by key; a read is store.get('m').
import { GraphStore, createStateClock } from '@coop/graph'

import type { MapReplica, MapSystem } from './types.ts'

const SOUL = 'm'

export type CoopWrite = 'set' | 'put'

export function coopSystem(write: CoopWrite = 'set'): MapSystem {
  // One machine, one clock for all its replicas (as all gun instances in a process share
  // Gun.state): states stamped on different replicas never tie, and none is ever "future".
  const clock = createStateClock()
  return {
    name: 'coop',
    writesAreAsync: false,
    async replica() {
      const store = await GraphStore.open({ clock })
      const replica: MapReplica = {
        set:
          write === 'set'
            ? async (key, value) => {
                await store.set(SOUL, key, value)
              }
            : async (key, value) => {
                await store.put({ [SOUL]: { _: { '#': SOUL, '>': { [key]: store.nextState() } }, [key]: value } })
              },
        read: async () => {
          const node = store.get(SOUL)
          return (key) => (node === undefined ? undefined : node[key])
        },
        exportState: () => store.graph(),
        merge: async (states) => {
          for (const graph of states) await store.put(graph as Parameters<GraphStore['put']>[0])
        },
        close: () => store.close(),
      }
      return replica
    },
    describe: () => ({
      package: '@coop/graph',
      store: 'GraphStore.open({ clock }) — no path: in memory; one state clock per process',
      write: write === 'set' ? "await store.set('m', key, value)" : "await store.put({ m: { _: { '#': 'm', '>': { [key]: store.nextState() } }, [key]: value } })",
      read: "store.get('m')",
      merge: 'await other.put(replica.graph())',
    }),
  }
}
