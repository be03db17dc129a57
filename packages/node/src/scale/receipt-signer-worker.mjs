// Worker thread of receipt-signer.ts: signs EIP-191 messages with the node key it was started
// with (workerData.privateKey). Plain JS so it runs without a TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads'

import { privateKeyToAccount } from 'viem/accounts'

const account = privateKeyToAccount(workerData.privateKey)
parentPort.on('message', async ({ id, message }) => {
  try {
    parentPort.postMessage({ id, sig: await account.signMessage({ message }) })
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) })
  }
})
