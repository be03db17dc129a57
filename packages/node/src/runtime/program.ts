// Task programs by CID: the on-chain programCid is the sha2-256 digest of the bundle's raw CIDv1.
// The node seeds its content store from a local bundle (config tasks[i].program) or fetches the
// block from peers over block/1.0.0 (verified against the CID), then writes the file the sandbox runs.
import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { cidFromDigest, rawCid, type ContentStore } from '@coop/sdk'
import type { Hex } from 'viem'

import { NodeError, errorMessage } from '../errors.ts'
import type { Logger } from '../logger.ts'

// Digest ↔ CID string: one implementation, in @coop/sdk (task programs use it too).
export { cidFromDigest, digestOfCid } from '@coop/sdk'

export type LoadProgramOptions = {
  taskId: string
  /** TaskParams.programCid (bytes32). */
  programCid: Hex
  /** A bundle file to seed the store with. */
  bundlePath?: string
  content: ContentStore
  /** Directory for the runnable file. */
  dir: string
  /** Asks peers for a block; undefined when nobody has it. */
  fetchBlock: (cid: string) => Promise<Uint8Array | undefined>
  logger: Logger
}

/** Ensures the program is in the content store and on disk; returns its CID and file path. */
export async function loadProgram(options: LoadProgramOptions): Promise<{ cid: string; path: string }> {
  const cid = cidFromDigest(options.programCid)
  if (options.bundlePath) {
    let bytes: Uint8Array
    try {
      bytes = new Uint8Array(await readFile(options.bundlePath))
    } catch (error) {
      throw new NodeError('PROGRAM_UNAVAILABLE', `cannot read the task bundle ${options.bundlePath}`, { cause: error })
    }
    const computed = rawCid(bytes)
    if (computed !== cid) {
      throw new NodeError('PROGRAM_MISMATCH', `the bundle ${options.bundlePath} is not task ${options.taskId}'s program`, {
        details: { expected: cid, bundle: computed },
      })
    }
    await options.content.putBlock(cid, bytes)
  } else if (!(await options.content.has(cid))) {
    options.logger.info({ taskId: options.taskId, cid }, 'fetching the task program from peers')
    const bytes = await options.fetchBlock(cid)
    if (!bytes) throw new NodeError('PROGRAM_UNAVAILABLE', `no peer served the program ${cid} of task ${options.taskId}`)
    try {
      await options.content.putBlock(cid, bytes)
    } catch (error) {
      throw new NodeError('PROGRAM_MISMATCH', `a peer served bytes that are not ${cid}`, { cause: error })
    }
  }
  const bytes = await options.content.getBlock(cid)
  if (!bytes) throw new NodeError('PROGRAM_UNAVAILABLE', `program ${cid} vanished from the content store`)
  await mkdir(options.dir, { recursive: true })
  const path = join(options.dir, `program-${cid}.mjs`)
  if (!existsSync(path)) {
    const tmp = `${path}.${process.pid}.tmp`
    await writeFile(tmp, bytes)
    await rename(tmp, path)
  }
  return { cid, path }
}

/** Retries `fn` with backoff until it succeeds or `signal` aborts. */
export async function retryUntil<T>(fn: () => Promise<T>, options: { signal: AbortSignal; logger: Logger; what: string; maxDelayMs?: number }): Promise<T> {
  let delay = 500
  for (;;) {
    try {
      return await fn()
    } catch (error) {
      if (options.signal.aborted) throw error
      if (error instanceof NodeError && error.code === 'PROGRAM_MISMATCH') throw error
      options.logger.warn({ err: errorMessage(error), retryInMs: delay }, `${options.what} failed; retrying`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay)
        options.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true })
      })
      if (options.signal.aborted) throw new NodeError('NODE_STOPPED', 'the node stopped')
      delay = Math.min(delay * 2, options.maxDelayMs ?? 5_000)
    }
  }
}
