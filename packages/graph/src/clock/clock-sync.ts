// An opt-in clock-sync service around the seed's τ (tau.ts). Transport-agnostic: it is given a function
// that asks a peer for its time. Its `now` can drive a GraphStore (`clock: sync.now`). As the seed warns,
// this is not partition tolerant and HAM never depends on it; it only narrows skew between live peers.

import { GraphError } from '../errors.ts'
import { clockAdjustment, roundTrip, type TimeSample } from './tau.ts'

export type ClockSyncOptions = {
  /** The machine clock (default Date.now). */
  local?: () => number
  /** Asks `peer` for its current time (its ClockSync#now), resolving with it. */
  askTime: (peer: string) => Promise<number>
  /** The peers to sync with on each round. */
  peers: () => Iterable<string>
  /** Round interval in ms for start() (default 1000). */
  intervalMs?: number
  /**
   * Fraction of the seed's adjustment applied per sample (default 1 = the seed: half the difference).
   * Lower values damp more when many peers are sampled per round (gun's nts divided by peers + 2).
   */
  gain?: number
  /** Samples whose round trip exceeds this are ignored (default 10 s): their midpoint is too uncertain. */
  maxRoundTripMs?: number
  /** Never move by more than this in one sample (default Infinity); bounds damage from a lying peer. */
  maxStepMs?: number
}

export type SyncResult = { peer: string; sample: TimeSample; adjustment: number; applied: boolean; roundTrip: number }

export class ClockSync {
  #offset = 0
  #timer: NodeJS.Timeout | undefined
  readonly #local: () => number
  readonly #options: ClockSyncOptions

  constructor(options: ClockSyncOptions) {
    const gain = options.gain ?? 1
    if (!(gain > 0 && gain <= 1)) throw new GraphError('MALFORMED', 'gain must be in (0, 1]', { details: { gain } })
    this.#local = options.local ?? Date.now
    this.#options = options
  }

  /** The synchronised time: the machine clock plus the learned offset. Bound, so it can be passed around. */
  readonly now = (): number => this.#local() + this.#offset

  /** What this peer has added to its machine clock so far (ms). */
  get offset(): number {
    return this.#offset
  }

  /** One exchange with `peer`: s, ask, e; applies the seed's adjustment (scaled by gain, bounded). */
  async syncWith(peer: string): Promise<SyncResult> {
    const s = this.now()
    const a = await this.#options.askTime(peer)
    const e = this.now()
    if (typeof a !== 'number' || !Number.isFinite(a)) throw new GraphError('MALFORMED', 'A peer answered the time with a non-number', { details: { peer } })
    const sample = { s, a, e }
    const rtt = roundTrip(sample)
    const maxStep = this.#options.maxStepMs ?? Infinity
    const raw = clockAdjustment(sample) * (this.#options.gain ?? 1)
    const adjustment = Math.max(-maxStep, Math.min(maxStep, raw))
    const applied = rtt >= 0 && rtt <= (this.#options.maxRoundTripMs ?? 10_000)
    if (applied) this.#offset += adjustment
    return { peer, sample, adjustment, applied, roundTrip: rtt }
  }

  /** One round: an exchange with every peer in turn. Peers that fail are skipped (reported as errors). */
  async syncRound(): Promise<{ results: SyncResult[]; errors: Array<{ peer: string; error: unknown }> }> {
    const results: SyncResult[] = []
    const errors: Array<{ peer: string; error: unknown }> = []
    for (const peer of this.#options.peers()) {
      try {
        results.push(await this.syncWith(peer))
      } catch (error) {
        errors.push({ peer, error })
      }
    }
    return { results, errors }
  }

  /** Runs a round every intervalMs until stop(). The timer does not keep the process alive. */
  start(): void {
    if (this.#timer !== undefined) return
    let running = false
    this.#timer = setInterval(() => {
      if (running) return
      running = true
      void this.syncRound().finally(() => {
        running = false
      })
    }, this.#options.intervalMs ?? 1000)
    this.#timer.unref()
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }
}
