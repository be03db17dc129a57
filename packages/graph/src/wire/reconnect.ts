// Reconnecting with exponential backoff and jitter (shared by the WebSocket and libp2p dialers).

export interface BackoffOptions {
  /** First retry delay, ms (default 250). */
  initialMs?: number
  /** Longest delay, ms (default 10 s). */
  maxMs?: number
  /** Growth per failed attempt (default 2). */
  factor?: number
}

/** The delay before retry number `attempt` (0-based): initial × factor^attempt, capped, with ±20 % jitter. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = options.initialMs ?? 250
  const max = options.maxMs ?? 10_000
  const factor = options.factor ?? 2
  const base = Math.min(max, initial * factor ** Math.min(attempt, 64))
  return Math.round(base * (0.8 + 0.4 * random()))
}

/** One live connection made by a dialer. */
export interface DialedConnection<P> {
  peer: P
  /** Resolves when the connection is gone (closed by either side or failed). */
  closed: Promise<void>
  /** Drops the connection at once (no goodbye): what a partition looks like. */
  kill(): void
  /** Closes it cleanly. */
  close(): void
}

export interface KeepConnectedOptions {
  backoff?: BackoffOptions
  /** Called with every failed attempt (not thrown: the dialer keeps trying). */
  onError?: (error: unknown) => void
}

/**
 * Keeps one connection up: dials, and after every close or failure dials again after a backoff
 * (reset once a connection opens). `close()` stops for good.
 */
export class KeepConnected<P> {
  /** Successful connections so far (1 + reconnects). */
  connects = 0
  /** Failed attempts so far. */
  failures = 0
  private current: DialedConnection<P> | undefined
  private stopped = false
  private suspended = false
  private dialing = false
  private timer: NodeJS.Timeout | undefined
  private attempt = 0
  private waiters: Array<(peer: P) => void> = []
  private readonly dial: () => Promise<DialedConnection<P>>
  private readonly options: KeepConnectedOptions

  constructor(dial: () => Promise<DialedConnection<P>>, options: KeepConnectedOptions = {}) {
    this.dial = dial
    this.options = options
    void this.run()
  }

  get peer(): P | undefined {
    return this.current?.peer
  }

  get connected(): boolean {
    return this.current !== undefined
  }

  /** Resolves with the peer once connected (now, if it is). */
  whenConnected(): Promise<P> {
    if (this.current !== undefined) return Promise.resolve(this.current.peer)
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  /** Drops the current connection abruptly; a new one is dialled after the backoff. */
  kill(): void {
    this.current?.kill()
  }

  /** Drops the connection abruptly and stays away until `resume()` (a partition). */
  suspend(): void {
    this.suspended = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.current?.kill()
  }

  /** Ends a `suspend()`: dials again now. */
  resume(): void {
    if (!this.suspended) return
    this.suspended = false
    this.attempt = 0
    if (this.current === undefined && this.timer === undefined && !this.dialing) void this.run()
  }

  close(): void {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.current?.close()
  }

  private async run(): Promise<void> {
    if (this.stopped || this.suspended) return
    let connection: DialedConnection<P>
    this.dialing = true
    try {
      connection = await this.dial()
    } catch (error) {
      this.dialing = false
      this.failures += 1
      this.options.onError?.(error)
      this.retry()
      return
    }
    this.dialing = false
    if (this.stopped) {
      connection.close()
      return
    }
    if (this.suspended) {
      connection.kill()
      return
    }
    this.connects += 1
    this.attempt = 0
    this.current = connection
    const waiters = this.waiters
    this.waiters = []
    for (const resolve of waiters) resolve(connection.peer)
    await connection.closed
    this.current = undefined
    this.retry()
  }

  private retry(): void {
    if (this.stopped || this.suspended) return
    const delay = backoffDelay(this.attempt++, this.options.backoff)
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.run()
    }, delay)
    this.timer.unref?.()
  }
}
