// Child process of crash.test.ts: writes bursts to a durable GraphStore forever and prints
// "ack <n>" on stdout for every write whose put/set promise resolved (= acknowledged).
// Usage: node --import tsx crash-writer.ts <db path> <prefix>

import { GraphStore } from '@coop/graph'

const [path, prefix] = process.argv.slice(2) as [string, string]
const store = await GraphStore.open({ path })
process.stdout.write('ready\n')
let n = 0
for (;;) {
  // a burst of concurrent writes (they share transactions), half puts of two keys, half sets
  const burst: Promise<void>[] = []
  for (let j = 0; j < 50; j++) {
    const i = n++
    const soul = `${prefix}/${i % 13}`
    const state = 1_000_000 + i
    const write =
      i % 2 === 0
        ? store.put({ [soul]: { _: { '#': soul, '>': { [`k${i}`]: state, [`twin${i}`]: state } }, [`k${i}`]: `v${i}`, [`twin${i}`]: i } }).then(() => undefined)
        : store.set(soul, `k${i}`, `v${i}`, state).then(() => undefined)
    burst.push(write.then(() => void process.stdout.write(`ack ${i}\n`)))
  }
  await Promise.all(burst)
}
