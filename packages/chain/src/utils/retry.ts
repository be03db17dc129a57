// The one place @coop/chain retries RPC work: exponential backoff on transient failures
// (unreachable endpoint, timeout, 429/5xx, rate limits). Reverts and other errors fail at once.
import { CoopChainError, isTransientError, RpcUnavailableError, toCoopChainError, type ErrorContext } from '../errors.ts'

export type RetryOptions = {
  /** Retries after the first attempt (default 3). */
  retries?: number
  /** Delay before the first retry (default 100 ms), doubled each time up to `maxDelayMs`. */
  initialDelayMs?: number
  maxDelayMs?: number
  shouldRetry?: (error: unknown, attempt: number) => boolean
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void
  /** Added to converted errors (function name, contract, sender). */
  context?: ErrorContext
}

export const defaultRetryOptions = { retries: 3, initialDelayMs: 100, maxDelayMs: 2_000 } as const

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Runs `fn`, retrying transient RPC failures with exponential backoff. Whatever finally fails is
 * thrown as a {@link CoopChainError}: {@link RpcUnavailableError} (with the attempt count) when
 * the endpoint never answered, a decoded revert or RPC error otherwise.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const retries = options.retries ?? defaultRetryOptions.retries
  const maxDelayMs = options.maxDelayMs ?? defaultRetryOptions.maxDelayMs
  const shouldRetry = options.shouldRetry ?? ((error: unknown) => isTransientError(error))
  let delay = options.initialDelayMs ?? defaultRetryOptions.initialDelayMs
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt)
    } catch (error) {
      if (attempt <= retries && shouldRetry(error, attempt)) {
        options.onRetry?.(error, attempt, delay)
        await sleep(delay)
        delay = Math.min(delay * 2, maxDelayMs)
        continue
      }
      const converted = toCoopChainError(error, options.context)
      if (converted instanceof RpcUnavailableError) {
        throw new RpcUnavailableError({ url: converted.url, attempts: attempt, cause: converted.cause })
      }
      throw converted satisfies CoopChainError
    }
  }
}
