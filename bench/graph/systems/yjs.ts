// Yjs baseline: one Y.Doc per replica, one Y.Map 'm'; a set is map.set (its own transaction, as an
// application calling set would); a merge ships Y.encodeStateAsUpdate and applies it with
// Y.applyUpdate, all updates of one merge inside one transaction (as crdt-benchmarks B3 does).
import * as Y from 'yjs'

import type { MapReplica, MapSystem } from './types.ts'

export function yjsSystem(): MapSystem {
  return {
    name: 'yjs',
    writesAreAsync: false,
    async replica(index) {
      const doc = new Y.Doc()
      doc.clientID = index + 1 // fixed client ids: conflicts resolve the same way on every run
      const map = doc.getMap<unknown>('m')
      const replica: MapReplica = {
        set: (key, value) => {
          map.set(key, value)
        },
        read: async () => (key) => map.get(key),
        exportState: () => Y.encodeStateAsUpdate(doc),
        merge: (states) => {
          doc.transact(() => {
            for (const update of states) Y.applyUpdate(doc, update as Uint8Array)
          })
        },
        close: async () => doc.destroy(),
      }
      return replica
    },
    describe: () => ({ package: 'yjs', version: '13.6.33', type: 'Y.Map in a Y.Doc (gc on, the default)' }),
  }
}
