// Message-id deduplication (GUN's "dup"): ids seen within `ttlMs` are dropped, so a message relayed
// around a loop of peers is handled once. Bounded: at most `maxEntries` ids, least recently seen
// evicted first. A Map keeps insertion order, and re-inserting on every touch makes that order
// "least recently seen first", so both expiry and eviction only ever look at the front.

export interface DedupOptions {
  /** Most ids remembered (default 100,000). */
  maxEntries?: number
  /** How long an id is remembered after it was last seen, ms (default 60 s; GUN uses 9 s). */
  ttlMs?: number
  /** Time source (tests inject one). */
  now?: () => number
}

export class MessageDedup<V = true> {
  readonly maxEntries: number
  readonly ttlMs: number
  private readonly now: () => number
  private readonly entries = new Map<string, { at: number; value: V }>()

  constructor(options: DedupOptions = {}) {
    this.maxEntries = options.maxEntries ?? 100_000
    this.ttlMs = options.ttlMs ?? 60_000
    this.now = options.now ?? Date.now
    if (!(Number.isSafeInteger(this.maxEntries) && this.maxEntries > 0)) throw new RangeError('maxEntries must be a positive integer')
    if (!(this.ttlMs > 0)) throw new RangeError('ttlMs must be > 0')
  }

  get size(): number {
    return this.entries.size
  }

  /** True if `id` was seen within the TTL (and refreshes it); otherwise records it and returns false. */
  seen(id: string, value?: V): boolean {
    const now = this.now()
    const entry = this.entries.get(id)
    if (entry !== undefined && now - entry.at <= this.ttlMs) {
      this.touch(id, entry, now)
      return true
    }
    this.set(id, (value ?? true) as V, now)
    return false
  }

  /** Was `id` seen within the TTL? Does not record it. */
  has(id: string): boolean {
    const entry = this.entries.get(id)
    if (entry === undefined) return false
    if (this.now() - entry.at > this.ttlMs) {
      this.entries.delete(id)
      return false
    }
    return true
  }

  /** The value stored with `id`, if it is still remembered. */
  get(id: string): V | undefined {
    return this.has(id) ? this.entries.get(id)!.value : undefined
  }

  /** Records `id` (refreshing it if known). */
  add(id: string, value?: V): void {
    this.set(id, (value ?? true) as V, this.now())
  }

  delete(id: string): void {
    this.entries.delete(id)
  }

  clear(): void {
    this.entries.clear()
  }

  private touch(id: string, entry: { at: number; value: V }, now: number): void {
    this.entries.delete(id)
    entry.at = now
    this.entries.set(id, entry)
  }

  private set(id: string, value: V, now: number): void {
    this.entries.delete(id)
    this.entries.set(id, { at: now, value })
    this.expire(now)
  }

  private expire(now: number): void {
    for (const [id, entry] of this.entries) {
      if (this.entries.size > this.maxEntries || now - entry.at > this.ttlMs) this.entries.delete(id)
      else break
    }
  }
}
