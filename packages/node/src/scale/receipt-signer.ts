// Receipt signing: a device payload costs one ed25519 verification (inside verifyDevicePayload) and
// one secp256k1 signature for its receipt. eip191-sign.mjs signs with @noble/curves directly (a
// third less CPU than viem's signMessage, same bytes). `worker: true` moves signing to a worker
// thread so it overlaps verification on a host with a free core; on a busy or 2-core host the
// thread hand-off costs more CPU than it saves (bench/scale-ingest.ts measures both), so the node
// signs on its main thread by default.
// Same signatures as viem's LocalAccount.signMessage (deterministic RFC 6979; eip191-sign.mjs signs
// with the same @noble/curves, without viem's hex round trips), same address.
import { Worker } from 'node:worker_threads'

import { type Address, type Hex, hexToBytes } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'

import { personalSign } from './eip191-sign.mjs'

export interface ReceiptSigner {
  readonly address: Address
  signMessage(args: { message: string }): Promise<Hex>
  /** Stops the worker; later calls sign on the calling thread. Idempotent. */
  close(): Promise<void>
}

/** A signer for receipts: on the calling thread, or with `worker: true` on a worker thread (falls back to the calling thread if it fails). */
export function createReceiptSigner(privateKey: Hex, options: { worker?: boolean } = {}): ReceiptSigner {
  const address = privateKeyToAccount(privateKey).address
  const keyBytes = hexToBytes(privateKey)
  const pending = new Map<number, { resolve: (sig: Hex) => void; reject: (error: Error) => void }>()
  let nextId = 1
  let worker: Worker | undefined
  // Requests queued in one turn of the event loop go to the worker as one message.
  let outbox: { id: number; message: string }[] = []
  const flush = () => {
    const batch = outbox
    outbox = []
    if (batch.length === 0) return
    if (worker) worker.postMessage(batch)
    else for (const { id } of batch) pending.get(id)?.reject(new Error('the receipt signer stopped'))
  }
  const fail = (error: Error) => {
    for (const { reject } of pending.values()) reject(error)
    pending.clear()
    worker = undefined
  }
  if (options.worker === true) {
    try {
      worker = new Worker(new URL('./receipt-signer-worker.mjs', import.meta.url), { workerData: { privateKey }, execArgv: [] })
      worker.unref() // never keeps the process alive
      worker.on('message', (answers: { id: number; sig?: Hex; error?: string }[]) => {
        for (const { id, sig, error } of answers) {
          const call = pending.get(id)
          if (!call) continue
          pending.delete(id)
          if (sig) call.resolve(sig)
          else call.reject(new Error(`receipt signing failed: ${error}`))
        }
      })
      worker.on('error', (error) => fail(error))
      worker.on('exit', () => fail(new Error('the receipt signer stopped')))
    } catch {
      worker = undefined
    }
  }
  return {
    address,
    signMessage({ message }) {
      if (!worker) return Promise.resolve().then(() => personalSign(keyBytes, message))
      return new Promise<Hex>((resolve, reject) => {
        const id = nextId++
        pending.set(id, { resolve, reject })
        if (outbox.length === 0) queueMicrotask(flush)
        outbox.push({ id, message })
      })
    },
    async close() {
      const current = worker
      worker = undefined
      if (current) await current.terminate()
    },
  }
}
