// Intent-backed transactions: every transaction is preceded by an intent row; it is simulated,
// signed locally, its raw bytes and hash stored in the intent, and only then sent. A crash after
// the store leaves a 'sent' intent that the reconciler finishes (receipt, rebroadcast of the very
// same bytes, or the chain state); a revert of an action that is already done ("AlreadyVoted"…)
// marks the intent skipped. Nothing is ever re-signed blindly.
import {
  isContractError,
  taskManagerAbi,
  toCoopChainError,
  withRetry,
  type ContractRevertedError,
} from '@coop/chain'
import {
  encodeFunctionData,
  keccak256,
  type Abi,
  type Address,
  type Hash,
  type Hex,
  type TransactionReceipt,
} from 'viem'
import {
  estimateGas,
  getTransaction,
  getTransactionCount,
  getTransactionReceipt,
  prepareTransactionRequest,
  sendRawTransaction,
  simulateContract,
  waitForTransactionReceipt,
} from 'viem/actions'

import { errorMessage } from '../errors.ts'
import type { Logger } from '../logger.ts'
import type { Intent, IntentRef, NodeStore } from '../state/store.ts'
import type { NodeChain } from './client.ts'

/** Reverts meaning "this action was already done" (by us before a crash, or by someone else). */
export const ALREADY_DONE_ERRORS = new Set([
  'AlreadySubmitted',
  'AlreadyVoted',
  'AlreadyClaimed',
  'AuditAlreadyResolved',
  'DistributionAlreadyPosted',
  'AlreadyConvicted',
])

export type TxCall = {
  functionName: string
  args: readonly unknown[]
  /** Default: the TaskManager. */
  address?: Address
  /** Default: taskManagerAbi. */
  abi?: Abi
}

export type TxOutcome = { intent: Intent; receipt?: TransactionReceipt; revert?: ContractRevertedError }

export type ExecuteOptions = {
  /** Ask the chain whether the effect is already there before simulating (shared actions: resolve, finalize…). */
  checkFirst?: boolean
  /** Retry a failed-before-sending intent after this many ms (default 2 000) … */
  retryAfterMs?: number
  /** … at most this many attempts in all (default 5). */
  maxAttempts?: number
  /** Receipt wait (ms, default 30 000); on timeout the intent stays 'sent' for the reconciler. */
  receiptTimeoutMs?: number
}

export type TxSenderEvents = {
  onSent?: (intent: Intent) => void
  onSettled?: (intent: Intent, receipt: TransactionReceipt | undefined) => void
  onRpcError?: (error: unknown) => void
}

/** One queue per account: nonces are assigned in order and never reused. */
export class TxSender {
  private lock: Promise<void> = Promise.resolve()
  private nextNonce = -1
  private readonly inFlight = new Map<number, Promise<TxOutcome>>()

  constructor(
    private readonly chain: NodeChain,
    private readonly store: NodeStore,
    private readonly logger: Logger,
    private readonly events: TxSenderEvents = {},
    /** Is the intended effect already on-chain? (after reverts, on restart, and with checkFirst) */
    private readonly effectDone: (intent: Intent) => Promise<boolean> = async () => false,
  ) {}

  private async isDone(intent: Intent): Promise<boolean> {
    try {
      return await this.effectDone(intent)
    } catch (error) {
      this.logger.warn({ kind: intent.kind, err: errorMessage(error) }, 'could not check the chain state of an intent')
      this.events.onRpcError?.(error)
      return false
    }
  }

  private async locked<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.lock
    let release!: () => void
    this.lock = new Promise<void>((resolve) => (release = resolve))
    await previous
    try {
      return await fn()
    } finally {
      release()
    }
  }

  /**
   * Takes the action `ref` at most once: records the intent (or finds it), and sends `call` only
   * if the intent is new or failed before anything was sent.
   */
  async execute(ref: IntentRef, payload: Record<string, unknown>, call: TxCall | (() => Promise<TxCall>), options: ExecuteOptions = {}): Promise<TxOutcome> {
    const { intent } = this.store.ensureIntent(ref, payload)
    const running = this.inFlight.get(intent.id)
    if (running) return running
    const promise = this.run(intent, call, options).finally(() => this.inFlight.delete(intent.id))
    this.inFlight.set(intent.id, promise)
    return promise
  }

  private async run(intent: Intent, call: TxCall | (() => Promise<TxCall>), options: ExecuteOptions): Promise<TxOutcome> {
    switch (intent.status) {
      case 'confirmed':
      case 'skipped':
        return { intent }
      case 'sent':
        return this.finish(intent, options)
      case 'failed': {
        // A transaction went out and reverted: terminal (the reconciler already consulted the chain).
        if (intent.txHash) return { intent }
        if (intent.attempts >= (options.maxAttempts ?? 5)) return { intent }
        if (Date.now() - intent.updatedAt < (options.retryAfterMs ?? 2_000)) return { intent }
        break
      }
      case 'pending':
        break
    }
    if (options.checkFirst && (await this.isDone(intent))) {
      const skipped = this.store.updateIntent(intent.id, { status: 'skipped', error: 'already done on-chain' })
      this.events.onSettled?.(skipped, undefined)
      return { intent: skipped }
    }
    const resolved = typeof call === 'function' ? await call() : call
    const address = resolved.address ?? this.chain.addresses.taskManager
    const abi = (resolved.abi ?? taskManagerAbi) as Abi
    const account = this.chain.account
    const client = this.chain.client
    const data = encodeFunctionData({ abi, functionName: resolved.functionName, args: resolved.args } as never)
    const context = { functionName: resolved.functionName, contractAddress: address, sender: account.address }
    const retry = { context, onRetry: this.events.onRpcError }

    let sent: Intent
    try {
      sent = await this.locked(async () => {
        // Simulate against the pending block: its timestamp is "now" even on a chain that only
        // mines on transactions, and a revert surfaces typed before anything is signed.
        await withRetry(
          () => simulateContract(client, { abi, address, functionName: resolved.functionName, args: resolved.args, account, blockTag: 'pending' } as never),
          retry,
        )
        const gas = await withRetry(() => estimateGas(client, { account, to: address, data, blockTag: 'pending' } as never), retry)
        const chainNonce = await withRetry(() => getTransactionCount(client, { address: account.address, blockTag: 'pending' }), retry)
        const nonce = Math.max(chainNonce, this.nextNonce)
        const prepared = await withRetry(
          () => prepareTransactionRequest(client, { account, chain: client.chain, to: address, data, gas: (gas * 12n) / 10n + 10_000n, nonce } as never),
          retry,
        )
        const rawTx: Hex = await account.signTransaction(prepared as never)
        const txHash = keccak256(rawTx)
        // The intent holds the exact bytes before they leave this process.
        const stored = this.store.updateIntent(intent.id, { status: 'sent', rawTx, txHash, nonce, error: null, attempts: intent.attempts + 1 })
        this.nextNonce = nonce + 1
        try {
          await this.broadcast(rawTx, txHash)
        } catch (error) {
          // Unknown whether it arrived: take the next nonce from the chain again; the reconciler
          // rebroadcasts these bytes or, if the nonce went to another transaction, re-sends.
          this.nextNonce = -1
          throw error
        }
        return stored
      })
    } catch (error) {
      return this.onRevertOrError(intent, error, options, undefined)
    }
    this.events.onSent?.(sent)
    this.logger.debug({ kind: sent.kind, taskId: sent.taskId, cycle: sent.cycle, key: sent.key, txHash: sent.txHash }, 'transaction sent')
    return this.finish(sent, options)
  }

  /** Sends signed bytes; a resend of bytes the node already has is fine (same hash). */
  async broadcast(rawTx: Hex, txHash: Hash): Promise<void> {
    const client = this.chain.client
    await withRetry(
      async (attempt) => {
        try {
          await sendRawTransaction(client, { serializedTransaction: rawTx })
        } catch (error) {
          const message = errorMessage(error).toLowerCase()
          if (message.includes('already known') || message.includes('known transaction')) return
          if (attempt > 1 && (await getTransaction(client, { hash: txHash }).catch(() => undefined))) return
          throw error
        }
      },
      { onRetry: this.events.onRpcError },
    )
  }

  /** Waits for the receipt of a 'sent' intent and settles it. */
  async finish(intent: Intent, options: ExecuteOptions): Promise<TxOutcome> {
    const hash = intent.txHash as Hash
    let receipt: TransactionReceipt
    try {
      receipt = await withRetry(
        () => waitForTransactionReceipt(this.chain.client, { hash, timeout: options.receiptTimeoutMs ?? 30_000, pollingInterval: 100 }),
        { onRetry: this.events.onRpcError },
      )
    } catch (error) {
      this.logger.warn({ kind: intent.kind, txHash: hash, err: errorMessage(error) }, 'no receipt yet; the reconciler will follow up')
      return { intent }
    }
    return this.settle(intent, receipt, options)
  }

  async settle(intent: Intent, receipt: TransactionReceipt, options: ExecuteOptions): Promise<TxOutcome> {
    let settled: Intent
    if (receipt.status === 'success') settled = this.store.updateIntent(intent.id, { status: 'confirmed', error: null })
    else {
      const done = await this.isDone(intent)
      settled = this.store.updateIntent(intent.id, {
        status: done ? 'skipped' : 'failed',
        error: done ? 'reverted: already done on-chain' : `transaction reverted in block ${receipt.blockNumber}`,
      })
    }
    this.events.onSettled?.(settled, receipt)
    return { intent: settled, receipt }
  }

  private async onRevertOrError(intent: Intent, error: unknown, options: ExecuteOptions, receipt: TransactionReceipt | undefined): Promise<TxOutcome> {
    const converted = toCoopChainError(error)
    const revert = converted.code === 'CONTRACT_REVERTED' ? (converted as ContractRevertedError) : undefined
    const current = this.store.getIntentById(intent.id) ?? intent
    if (current.status === 'sent') {
      // The bytes were stored (and maybe sent) before the failure: leave it to the reconciler.
      this.logger.warn({ kind: intent.kind, txHash: current.txHash, err: errorMessage(converted) }, 'send failed after signing; will reconcile')
      return { intent: current }
    }
    let alreadyDone = revert !== undefined && ALREADY_DONE_ERRORS.has(revert.errorName)
    if (!alreadyDone && revert) alreadyDone = await this.isDone(current)
    const settled = this.store.updateIntent(intent.id, {
      status: alreadyDone ? 'skipped' : 'failed',
      error: errorMessage(converted),
      attempts: current.attempts + 1,
    })
    if (!alreadyDone) {
      const level = revert ? 'info' : 'warn'
      this.logger[level]({ kind: intent.kind, taskId: intent.taskId, cycle: intent.cycle, key: intent.key, err: errorMessage(converted) }, 'action not taken')
    }
    this.events.onSettled?.(settled, receipt)
    return { intent: settled, ...(revert ? { revert } : {}) }
  }

  /**
   * Reconciles a 'pending' or 'sent' intent with the chain (on restart, and for transactions
   * whose receipt did not come): 'sent' → receipt, else the same bytes again if their nonce is
   * still free, else the chain state; 'pending' (nothing signed) → skipped if already done.
   */
  async reconcile(intent: Intent, options: ExecuteOptions = {}): Promise<TxOutcome> {
    const running = this.inFlight.get(intent.id)
    if (running) return running
    const promise = (async (): Promise<TxOutcome> => {
      if (intent.status === 'pending') {
        if (await this.isDone(intent)) return { intent: this.store.updateIntent(intent.id, { status: 'skipped', error: 'already done on-chain' }) }
        return { intent }
      }
      if (intent.status !== 'sent') return { intent }
      return this.reconcileSent(intent, options)
    })().finally(() => this.inFlight.delete(intent.id))
    this.inFlight.set(intent.id, promise)
    return promise
  }

  private async reconcileSent(intent: Intent, options: ExecuteOptions): Promise<TxOutcome> {
    const client = this.chain.client
    const hash = intent.txHash as Hash
    const receipt = await withRetry(() => getTransactionReceipt(client, { hash }), { onRetry: this.events.onRpcError }).catch(() => undefined)
    if (receipt) return this.settle(intent, receipt, options)
    const pending = await getTransaction(client, { hash }).catch(() => undefined)
    if (pending) return this.finish(intent, options)
    const mined = await withRetry(() => getTransactionCount(client, { address: this.chain.account.address, blockTag: 'latest' }))
    if (intent.nonce !== null && mined <= intent.nonce && intent.rawTx) {
      // Never reached the chain (crash between store and send, or dropped): the same bytes again.
      this.logger.info({ kind: intent.kind, txHash: hash, nonce: intent.nonce }, 'rebroadcasting a signed transaction that never arrived')
      try {
        await this.broadcast(intent.rawTx, hash)
      } catch (error) {
        const done = await this.isDone(intent)
        const settled = this.store.updateIntent(intent.id, { status: done ? 'skipped' : 'failed', error: `rebroadcast failed: ${errorMessage(error)}` })
        return { intent: settled }
      }
      return this.finish(intent, options)
    }
    // Its nonce was used by another transaction: this one can never be mined.
    const done = await this.isDone(intent)
    const settled = this.store.updateIntent(intent.id, {
      status: done ? 'skipped' : 'pending',
      txHash: done ? intent.txHash : null,
      rawTx: done ? intent.rawTx : null,
      nonce: done ? intent.nonce : null,
      error: done ? 'replaced; already done on-chain' : 'replaced before mining; will be re-sent',
    })
    return { intent: settled }
  }
}
