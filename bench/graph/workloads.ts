// The three map workloads of the graph benches (issue 5, DESIGN.md "Map throughput"), generated
// from fixed seeds so that every system replays exactly the same sets. Generation happens before
// any clock or heap measurement starts.

/** mulberry32: small, fast, seedable; the same generator the other benches use. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A map value as all three systems accept it: a finite number or a short string. */
export type MapValue = number | string

/** Half numbers (integers below 10^6), half short strings ("v" + base-36 digits). */
export function randomValue(rng: () => number): MapValue {
  const n = Math.floor(rng() * 1_000_000)
  return rng() < 0.5 ? n : `v${n.toString(36)}`
}

export const SEEDS = { a: 0x6a0a, b: 0x6a0b, c: 0x6a0c } as const

/** Workload (a): one writer, `sets` sets on `keys` keys of one map; key i of set j uniform. */
export type WorkloadA = {
  keys: string[]
  /** index into `keys` of each set, in order */
  keyOf: Uint32Array
  values: MapValue[]
  /** the last value written to each key (what a reader must see at the end) */
  final: Map<string, MapValue>
}

export function workloadA(sets: number, keyCount: number, seed: number = SEEDS.a): WorkloadA {
  const rng = mulberry32(seed)
  const keys = Array.from({ length: keyCount }, (_, i) => `k${i}`)
  const keyOf = new Uint32Array(sets)
  const values: MapValue[] = new Array(sets)
  const final = new Map<string, MapValue>()
  for (let i = 0; i < sets; i++) {
    const k = Math.floor(rng() * keyCount)
    keyOf[i] = k
    values[i] = randomValue(rng)
  }
  // Every key is written at least once with overwhelming probability at 100 sets per key; the
  // final map is what the sets leave, computed rather than assumed.
  for (let i = 0; i < sets; i++) final.set(keys[keyOf[i]!]!, values[i]!)
  return { keys, keyOf, values, final }
}

/**
 * Workload (b), crdt-benchmarks B3-style: `clients` replicas of one map. Each client sets the
 * shared key "v" to its index (B3.1: every client concurrently sets the same key, the conflicts)
 * and `ownKeys` keys of its own ("c<i>.<j>", random values); then every client's state is merged
 * into one replica.
 */
export type WorkloadB = {
  clients: { sets: [key: string, value: MapValue][] }[]
  sharedKey: string
  /** keys whose final value is known without conflict resolution: the clients' own keys */
  own: Map<string, MapValue>
  liveKeys: number
  sets: number
}

export function workloadB(clients: number, ownKeys: number, seed: number = SEEDS.b): WorkloadB {
  const rng = mulberry32(seed)
  const sharedKey = 'v'
  const own = new Map<string, MapValue>()
  const list: WorkloadB['clients'] = []
  for (let i = 0; i < clients; i++) {
    const sets: [string, MapValue][] = [[sharedKey, i]]
    for (let j = 0; j < ownKeys; j++) {
      const key = `c${i}.${j}`
      const value = randomValue(rng)
      sets.push([key, value])
      own.set(key, value)
    }
    list.push({ sets })
  }
  return { clients: list, sharedKey, own, liveKeys: own.size + 1, sets: clients * (ownKeys + 1) }
}

/**
 * Workload (c): two replicas write the same `keys` keys with different values, so every key
 * conflicts. For each key a seeded coin decides which replica writes it first (the later write
 * wins under HAM, so each replica wins about half of the keys). Then replica B's state is merged
 * into replica A.
 */
export type WorkloadC = {
  keys: string[]
  valuesA: MapValue[]
  valuesB: MapValue[]
  /** per key: 1 if B writes after A (B wins under last-writer-wins), else 0 */
  bLater: Uint8Array
}

export function workloadC(keyCount: number, seed: number = SEEDS.c): WorkloadC {
  const rng = mulberry32(seed)
  const keys = Array.from({ length: keyCount }, (_, i) => `k${i}`)
  const valuesA: MapValue[] = new Array(keyCount)
  const valuesB: MapValue[] = new Array(keyCount)
  const bLater = new Uint8Array(keyCount)
  for (let i = 0; i < keyCount; i++) {
    valuesA[i] = randomValue(rng)
    let b = randomValue(rng)
    while (b === valuesA[i]) b = randomValue(rng)
    valuesB[i] = b
    bLater[i] = rng() < 0.5 ? 1 : 0
  }
  return { keys, valuesA, valuesB, bLater }
}
