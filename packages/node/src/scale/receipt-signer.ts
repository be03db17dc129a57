// Receipt signing off the main thread: a device payload costs one ed25519 verification (main
// thread, inside verifyDevicePayload) and one secp256k1 signature for its receipt; signing on a
// worker thread lets the two overlap, so ingest is bound by verification (bench/scale-ingest.ts).
// Same signatures as viem's LocalAccount.signMessage (deterministic RFC 6979), same address.
import { Worker } from 'node:worker_threads'

import type { Address, Hex, LocalAccount } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'

export interface ReceiptSigner {
  readonly address: Address
  signMessage(args: { message: string }): Promise<Hex>
  /** Stops the worker; later calls sign on the calling thread. Idempotent. */
  close(): Promise<void>
}

/** A signer for receipts; `worker: false` (or a failed worker) signs on the calling thread. */
export function createReceiptSigner(privateKey: Hex, options: { worker?: boolean } = {}): ReceiptSigner {
  const account: LocalAccount = privateKeyToAccount(privateKey)
  const pending = new Map<number, { resolve: (sig: Hex) => void; reject: (error: Error) => void }>()
  let nextId = 1
  let worker: Worker | undefined
  const fail = (error: Error) => {
    for (const { reject } of pending.values()) reject(error)
    pending.clear()
    worker = undefined
  }
  if (options.worker !== false) {
    try {
      worker = new Worker(new URL('./receipt-signer-worker.mjs', import.meta.url), { workerData: { privateKey }, execArgv: [] })
      worker.unref() // never keeps the process alive
      worker.on('message', ({ id, sig, error }: { id: number; sig?: Hex; error?: string }) => {
        const call = pending.get(id)
        if (!call) return
        pending.delete(id)
        if (sig) call.resolve(sig)
        else call.reject(new Error(`receipt signing failed: ${error}`))
      })
      worker.on('error', (error) => fail(error))
      worker.on('exit', () => fail(new Error('the receipt signer stopped')))
    } catch {
      worker = undefined
    }
  }
  return {
    address: account.address,
    signMessage({ message }) {
      const current = worker
      if (!current) return account.signMessage({ message })
      return new Promise<Hex>((resolve, reject) => {
        const id = nextId++
        pending.set(id, { resolve, reject })
        current.postMessage({ id, message })
      })
    },
    async close() {
      const current = worker
      worker = undefined
      if (current) await current.terminate()
    },
  }
}
