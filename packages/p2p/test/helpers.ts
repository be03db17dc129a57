import * as dagCbor from '@ipld/dag-cbor'
import { hexToBytes, keccak256, type Hex, type LocalAccount } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'

import { createCoopHost, type CoopHost, type CoopHostOptions } from '../src/index.ts'

export function newKey(): Hex {
  return generatePrivateKey()
}

/** Signs arbitrary `unsigned` content (which may be invalid on purpose) like signEnvelope does. */
export async function forgeEnvelope(account: LocalAccount, unsigned: unknown): Promise<Uint8Array> {
  const unsignedBytes = dagCbor.encode(unsigned)
  const signature = await account.signMessage({ message: { raw: keccak256(unsignedBytes) } })
  return dagCbor.encode({ unsigned: unsignedBytes, sig: hexToBytes(signature) })
}

export function validUnsigned(account: LocalAccount, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    v: 1,
    type: 'test',
    from: hexToBytes(account.address),
    sentAt: Date.now(),
    nonce: new Uint8Array(16).fill(7),
    body: { hello: 'world' },
    ...overrides,
  }
}

export function accountOf(key: Hex): LocalAccount {
  return privateKeyToAccount(key)
}

/** Polls `check` until it returns true (or throws its last assertion after `timeoutMs`). */
export async function eventually(check: () => boolean | Promise<boolean>, { timeoutMs = 10_000, intervalMs = 50 } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

export async function startHost(options: Partial<CoopHostOptions> = {}): Promise<CoopHost> {
  return createCoopHost({ privateKey: newKey(), ...options })
}

/** Keeps track of hosts and stops them at the end of a test. */
export class Hosts {
  private readonly hosts: CoopHost[] = []
  async start(options: Partial<CoopHostOptions> = {}): Promise<CoopHost> {
    const host = await startHost(options)
    this.hosts.push(host)
    return host
  }
  async stopAll(): Promise<void> {
    await Promise.all(this.hosts.splice(0).map((host) => host.stop()))
  }
}
