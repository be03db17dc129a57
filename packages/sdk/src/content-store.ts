import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, readdir, rename, rm, stat, unlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { CID } from 'multiformats/cid'
import { DAG_CBOR_CODE, RAW_CODE, blockCid, decodeValue, encodeValue, parseCid, verifyBlock } from './cid.ts'
import { SdkError } from './errors.ts'

export interface ContentStoreStats {
  blocks: number
  bytes: number
  maxBytes: number | undefined
}

/** Blocks on disk by CID (raw + dag-cbor, sha2-256), verified on every read. */
export interface ContentStore {
  readonly dir: string
  /** Stores bytes as a raw block, anything else as dag-cbor; returns the CIDv1 string. Idempotent. */
  put(value: unknown | Uint8Array): Promise<string>
  /** Raw → Uint8Array, dag-cbor → decoded value; undefined if absent; SdkError('CORRUPT_BLOCK') if the file does not hash to the CID. */
  get(cid: string): Promise<unknown | Uint8Array | undefined>
  /** The verified block bytes (e.g. to serve them to a peer). */
  getBlock(cid: string): Promise<Uint8Array | undefined>
  /** Stores a block received from elsewhere; SdkError('HASH_MISMATCH') unless the bytes hash to `cid`. */
  putBlock(cid: string, bytes: Uint8Array): Promise<void>
  has(cid: string): Promise<boolean>
  /** Whether a block was removed. */
  delete(cid: string): Promise<boolean>
  /** Canonical (base32) CIDs of all blocks. */
  list(): Promise<string[]>
  stats(): Promise<ContentStoreStats>
}

export interface ContentStoreOptions {
  /** Refuse puts that would take the store above this many bytes (SdkError('STORE_FULL')). */
  maxBytes?: number
}

/**
 * Layout: `<dir>/blocks/<last 2 chars of the cid>/<cid>`; writes go to `<dir>/tmp/` first,
 * are fsynced and renamed into place, so a block file is either absent or complete.
 */
export function createContentStore(dir: string, options: ContentStoreOptions = {}): ContentStore {
  const root = resolve(dir)
  const blocksDir = join(root, 'blocks')
  const tmpDir = join(root, 'tmp')
  const maxBytes = options.maxBytes
  if (maxBytes !== undefined && (!Number.isSafeInteger(maxBytes) || maxBytes < 0)) {
    throw new SdkError('INVALID_OPTIONS', 'maxBytes must be a non-negative integer', { details: { maxBytes } })
  }
  const locks = new Map<string, Promise<unknown>>()
  let totals: Promise<{ blocks: number; bytes: number }> | undefined

  function pathOf(cid: CID): string {
    const text = cid.toString()
    return join(blocksDir, text.slice(-2), text)
  }

  /** Serializes operations on one CID so the size accounting stays exact under concurrency. */
  async function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = locks.get(key) ?? Promise.resolve()
    const current = previous.then(fn, fn)
    const settled = current.then(
      () => undefined,
      () => undefined,
    )
    locks.set(key, settled)
    try {
      return await current
    } finally {
      if (locks.get(key) === settled) locks.delete(key)
    }
  }

  function ioError(operation: string, cause: unknown, details: Record<string, unknown> = {}): SdkError {
    return new SdkError('STORE_IO', `content store ${operation} failed`, {
      details: { ...details, reason: cause instanceof Error ? cause.message : String(cause) },
      cause,
    })
  }

  async function loadTotals(): Promise<{ blocks: number; bytes: number }> {
    totals ??= (async () => {
      const result = { blocks: 0, bytes: 0 }
      let shards: string[]
      try {
        shards = await readdir(blocksDir)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return result
        throw ioError('scan', error)
      }
      for (const shard of shards) {
        for (const name of await readdir(join(blocksDir, shard))) {
          const info = await stat(join(blocksDir, shard, name))
          result.blocks += 1
          result.bytes += info.size
        }
      }
      return result
    })()
    return totals
  }

  async function readVerified(cid: CID): Promise<Uint8Array | undefined> {
    const path = pathOf(cid)
    let bytes: Uint8Array
    try {
      bytes = new Uint8Array(await readFile(path))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw ioError('read', error, { cid: cid.toString() })
    }
    if (!verifyBlock(cid, bytes)) {
      throw new SdkError('CORRUPT_BLOCK', 'stored block does not hash to its CID', {
        details: { cid: cid.toString(), path, bytes: bytes.byteLength },
      })
    }
    return bytes
  }

  async function writeBlock(cid: CID, bytes: Uint8Array): Promise<void> {
    const key = cid.toString()
    await withLock(key, async () => {
      const current = await loadTotals()
      const path = pathOf(cid)
      try {
        await stat(path)
        return // already stored (content addressed: same bytes)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError('stat', error, { cid: key })
      }
      if (maxBytes !== undefined && current.bytes + bytes.byteLength > maxBytes) {
        throw new SdkError('STORE_FULL', 'content store is full', {
          details: { cid: key, bytes: bytes.byteLength, used: current.bytes, maxBytes },
        })
      }
      const tmp = join(tmpDir, `${key}.${process.pid}.${randomBytes(6).toString('hex')}`)
      try {
        await mkdir(tmpDir, { recursive: true })
        await mkdir(join(blocksDir, key.slice(-2)), { recursive: true })
        const handle = await open(tmp, 'wx')
        try {
          await handle.writeFile(bytes)
          await handle.sync()
        } finally {
          await handle.close()
        }
        await rename(tmp, path)
      } catch (error) {
        await rm(tmp, { force: true }).catch(() => undefined)
        throw ioError('write', error, { cid: key })
      }
      current.blocks += 1
      current.bytes += bytes.byteLength
    })
  }

  return {
    dir: root,
    async put(value) {
      const isBytes = value instanceof Uint8Array
      const bytes = isBytes ? value : encodeValue(value)
      const cid = blockCid(isBytes ? RAW_CODE : DAG_CBOR_CODE, bytes)
      await writeBlock(cid, bytes)
      return cid.toString()
    },
    async get(text) {
      const cid = parseCid(text)
      const bytes = await readVerified(cid)
      if (bytes === undefined) return undefined
      if (cid.code === RAW_CODE) return bytes
      try {
        return decodeValue(bytes)
      } catch (cause) {
        throw new SdkError('CORRUPT_BLOCK', 'stored dag-cbor block does not decode', { details: { cid: text }, cause })
      }
    },
    async getBlock(text) {
      return readVerified(parseCid(text))
    },
    async putBlock(text, bytes) {
      const cid = parseCid(text)
      if (!(bytes instanceof Uint8Array)) throw new SdkError('INVALID_VALUE', 'block must be a Uint8Array', { details: { cid: text } })
      if (!verifyBlock(cid, bytes)) {
        throw new SdkError('HASH_MISMATCH', 'block bytes do not hash to the CID', { details: { cid: text, bytes: bytes.byteLength } })
      }
      if (cid.code === DAG_CBOR_CODE) decodeValue(bytes) // refuse undecodable dag-cbor blocks
      await writeBlock(cid, bytes)
    },
    async has(text) {
      try {
        await stat(pathOf(parseCid(text)))
        return true
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
        throw error instanceof SdkError ? error : ioError('stat', error, { cid: text })
      }
    },
    async delete(text) {
      const cid = parseCid(text)
      return withLock(cid.toString(), async () => {
        const current = await loadTotals()
        const path = pathOf(cid)
        let size: number
        try {
          size = (await stat(path)).size
          await unlink(path)
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
          throw ioError('delete', error, { cid: text })
        }
        current.blocks -= 1
        current.bytes -= size
        return true
      })
    },
    async list() {
      const cids: string[] = []
      let shards: string[]
      try {
        shards = await readdir(blocksDir)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return cids
        throw ioError('list', error)
      }
      for (const shard of shards.sort()) cids.push(...(await readdir(join(blocksDir, shard))).sort())
      return cids
    },
    async stats() {
      const current = await loadTotals()
      return { blocks: current.blocks, bytes: current.bytes, maxBytes }
    },
  }
}
