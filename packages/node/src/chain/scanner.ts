// Follows the TaskManager's logs from the last processed block (persisted in the state), so audits
// raised while the node was down are still seen and voted on. Handlers must be idempotent: a crash
// between handling a chunk and persisting its end replays the chunk.
import { taskManagerAbi, withRetry } from '@coop/chain'
import { parseEventLogs, type Log } from 'viem'
import { getBlockNumber, getLogs } from 'viem/actions'

import type { Logger } from '../logger.ts'
import type { NodeStore } from '../state/store.ts'
import type { NodeChain } from './client.ts'

export type TaskManagerLog = ReturnType<typeof parseEventLogs<typeof taskManagerAbi>>[number]

const META_KEY = 'scanner.nextBlock'

export class EventScanner {
  private running: Promise<void> | undefined
  private blockRange: bigint

  constructor(
    private readonly chain: NodeChain,
    private readonly store: NodeStore,
    private readonly logger: Logger,
    private readonly handle: (log: TaskManagerLog) => void,
    private readonly options: { startBlock?: bigint; lookback?: bigint; blockRange?: bigint; onRpcError?: (error: unknown) => void } = {},
  ) {
    this.blockRange = options.blockRange ?? 2_000n
  }

  get nextBlock(): bigint | undefined {
    const value = this.store.getMeta(META_KEY)
    return value === undefined ? undefined : BigInt(value)
  }

  /** Processes every block up to the head once; concurrent calls share one pass. */
  poll(): Promise<void> {
    this.running ??= this.pass().finally(() => (this.running = undefined))
    return this.running
  }

  private async pass(): Promise<void> {
    const client = this.chain.client
    const head = await withRetry(() => getBlockNumber(client, { cacheTime: 0 }), { onRetry: this.options.onRpcError })
    const lookback = this.options.lookback ?? 10_000n
    let from: bigint = this.nextBlock ?? this.options.startBlock ?? (head > lookback ? head - lookback : 0n)
    while (from <= head) {
      const to: bigint = from + this.blockRange - 1n < head ? from + this.blockRange - 1n : head
      let logs: Log[]
      try {
        logs = await withRetry(() => getLogs(client, { address: this.chain.addresses.taskManager, fromBlock: from, toBlock: to }), { onRetry: this.options.onRpcError })
      } catch (error) {
        if (this.blockRange > 1n && /range|limit|too many|exceed/i.test(String((error as Error).message))) {
          this.blockRange = this.blockRange / 2n
          continue
        }
        throw error
      }
      const parsed = parseEventLogs({ abi: taskManagerAbi, logs, strict: true }).sort((a, b) =>
        a.blockNumber === b.blockNumber ? (a.logIndex ?? 0) - (b.logIndex ?? 0) : a.blockNumber! < b.blockNumber! ? -1 : 1,
      )
      for (const log of parsed) {
        try {
          this.handle(log)
        } catch (error) {
          this.logger.error({ event: log.eventName, err: (error as Error).message }, 'event handler failed')
        }
      }
      this.store.setMeta(META_KEY, String(to + 1n))
      from = to + 1n
    }
  }
}
