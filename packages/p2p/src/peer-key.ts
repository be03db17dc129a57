// The libp2p peer key (Ed25519), separate from the node's EVM key. Persisted so the peer id — which
// is part of the multiaddr registered on-chain — survives restarts.
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'

import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'

export const PEER_KEY_FILE = 'peer-key.bin'

/**
 * Loads `<dataDir>/peer-key.bin` (libp2p protobuf encoding), creating it on first use. Without a
 * dataDir the key is ephemeral. A present but unreadable file is an error, never silently replaced:
 * a new key would change the peer id other nodes know this node by.
 */
export async function loadOrCreatePeerKey(dataDir: string | undefined): Promise<PrivateKey> {
  if (dataDir === undefined) return generateKeyPair('Ed25519')
  const path = join(dataDir, PEER_KEY_FILE)
  let existing: Uint8Array | undefined
  try {
    existing = await readFile(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  if (existing !== undefined) {
    let key: PrivateKey
    try {
      key = privateKeyFromProtobuf(existing)
    } catch (cause) {
      throw new Error(`${path} is not a libp2p private key; move it away to generate a new peer id`, { cause })
    }
    if (key.type !== 'Ed25519') throw new Error(`${path} holds a ${key.type} key; expected Ed25519`)
    return key
  }

  const key = await generateKeyPair('Ed25519')
  await mkdir(dataDir, { recursive: true })
  // write-then-rename so a crash never leaves a truncated key behind
  const temporary = `${path}.${process.pid}.tmp`
  const file = await open(temporary, 'w', 0o600)
  try {
    await file.writeFile(privateKeyToProtobuf(key))
    await file.sync()
  } finally {
    await file.close()
  }
  try {
    await rename(temporary, path)
  } catch (error) {
    await rm(temporary, { force: true })
    throw error
  }
  return key
}
