// Worker thread of receipt-signer.ts: signs EIP-191 messages with the node key it was started
// with (workerData.privateKey, 32 bytes). Plain JS so it runs without a TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads'

import { personalSign } from './eip191-sign.mjs'

const privateKey = Uint8Array.from(Buffer.from(workerData.privateKey.slice(2), 'hex'))
parentPort.on('message', (batch) => {
  // One message may carry many requests (the main thread batches what it queued in one turn).
  const answers = batch.map(({ id, message }) => {
    try {
      return { id, sig: personalSign(privateKey, message) }
    } catch (error) {
      return { id, error: error instanceof Error ? error.message : String(error) }
    }
  })
  parentPort.postMessage(answers)
})
