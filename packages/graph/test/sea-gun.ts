// gun's own SEA (npm gun 0.2020.1241) loaded in this process, as the reference the SEA tests compare with.
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const require = createRequire(import.meta.url)

export type GunSea = {
  pair(): Promise<{ pub: string; priv: string; epub: string; epriv: string }>
  sign(data: unknown, pair: unknown, cb?: unknown, opt?: unknown): Promise<any>
  verify(data: unknown, pair: unknown, cb?: unknown, opt?: unknown): Promise<any>
  work(data: unknown, salt: unknown, cb?: unknown, opt?: unknown): Promise<any>
  encrypt(data: unknown, key: unknown, cb?: unknown, opt?: unknown): Promise<any>
  decrypt(data: unknown, key: unknown, cb?: unknown, opt?: unknown): Promise<any>
  secret(key: unknown, pair: unknown): Promise<any>
}

export const Gun: any = require('gun')
export const SEA: GunSea = require('gun/sea')

/**
 * A plain in-process gun peer (no network: no peers, multicast and axe off). gun's user.create/auth need
 * its storage adapter to answer reads, so it gets a radisk directory of its own, removed by `close`.
 */
export function gunPeer(): { gun: any; close(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'coop-sea-gun-'))
  const gun = Gun({ file: join(dir, 'radata'), peers: [], multicast: false, axe: false, stats: false })
  return {
    gun,
    close() {
      try {
        gun.off()
      } catch {}
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Feeds a graph into a gun peer as if a peer had sent it (through SEA's firewall). */
export function gunReceive(gun: any, graph: unknown): void {
  gun.on('in', { '#': Math.random().toString(36).slice(2), put: JSON.parse(JSON.stringify(graph)) })
}

export function gunCallback<T = any>(start: (cb: (value: T) => void) => void, timeoutMs = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('gun did not answer')), timeoutMs)
    start((value) => {
      clearTimeout(timer)
      resolve(value)
    })
  })
}

/** A value as gun reads it (after its SEA check), or undefined when gun has none/refused it. */
export function gunRead(gun: any, soul: string, key: string): Promise<unknown> {
  return gunCallback((cb) => gun.get(soul).get(key).once((value: unknown) => cb(value)))
}
