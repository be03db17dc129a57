// The devnet's simulated sensors for the sensor-log task: wallet-less devices (@coop/device; ed25519
// and secp256k1 alternating, deterministic keys) that post one signed reading to every node each
// round over HTTP on 127.0.0.1, at a per-device offset into the round, and count what the nodes
// accepted (the progress line shows it; the node-signed receipts are checked by @coop/device).
import { createDevice, devicePublicKey, isDeviceError, type Device } from '@coop/device'
import { keccak256, stringToHex, type Hex } from 'viem'

import type { DevnetNode, DevnetTask } from './devnet.ts'

export type RoundCounts = { sent: number; accepted: number; refused: Record<string, number> }

export type DeviceFleet = {
  /** The devices' public keys (the task's `config.devices` allowlist). */
  readonly publicKeys: Hex[]
  /** What happened to the payloads signed for `cycle`. */
  counts(cycle: bigint): RoundCounts | undefined
  stop(): Promise<void>
}

/** Deterministic device keys: the same devices on every devnet run. */
export function devnetDeviceKeys(count: number): { scheme: 'ed25519' | 'secp256k1'; privateKey: Hex; publicKey: Hex }[] {
  return Array.from({ length: count }, (_, d) => {
    const scheme = d % 2 === 0 ? ('ed25519' as const) : ('secp256k1' as const)
    const privateKey = keccak256(stringToHex(`coop.devnet.device.${d}`))
    return { scheme, privateKey, publicKey: devicePublicKey(scheme, privateKey) }
  })
}

export function startDeviceFleet(options: { task: DevnetTask; nodes: DevnetNode[]; count?: number; log?: (line: string) => void }): DeviceFleet {
  const { task, nodes } = options
  const keys = devnetDeviceKeys(options.count ?? 4)
  const devices: Device[] = keys.map((key) => createDevice({ scheme: key.scheme, privateKey: key.privateKey }))
  const roundLength = Number(task.params.roundLength)
  const startTime = Number(task.startTime)
  const counts = new Map<bigint, RoundCounts>()
  const abort = new AbortController()
  const warned = new Set<string>()

  const roundNow = () => Math.floor((Date.now() / 1000 - startTime) / roundLength)
  const countsOf = (round: number) => {
    const key = BigInt(round)
    let entry = counts.get(key)
    if (!entry) {
      entry = { sent: 0, accepted: 0, refused: {} }
      counts.set(key, entry)
      for (const old of counts.keys()) if (old < key - 64n) counts.delete(old)
    }
    return entry
  }

  const sendRound = async (device: Device, index: number, round: number) => {
    await Promise.all(
      nodes.map(async (node) => {
        const url = node.httpUrl()
        if (!url || !node.process.running) return
        const t = Math.floor(Date.now() / 1000)
        const reading = { sensor: `devnet-${index}`, t, temp: Math.round((18 + 6 * Math.sin((t / 600) * Math.PI + index)) * 10) / 10, humidity: 40 + ((index * 7 + round) % 30) }
        const entry = countsOf(round)
        entry.sent += 1
        try {
          // The node answers WRONG_ROUND when the round turned (or it sealed it): the device signs again for the current round.
          const { receipt } = await device.send(url, task.taskId.toString(), reading, { round, retryWrongRound: true, timeoutMs: 5_000 })
          countsOf(receipt.round).accepted += 1
        } catch (error) {
          const code = isDeviceError(error) ? String(error.details.code ?? error.code) : 'ERROR'
          entry.refused[code] = (entry.refused[code] ?? 0) + 1
          // Before a node runs the task (NOT_INGEST_TASK) refusals are expected; anything else is worth a line once.
          if (code !== 'NOT_INGEST_TASK' && code !== 'NODE_UNREACHABLE' && !warned.has(code)) {
            warned.add(code)
            options.log?.(`!! sensor-log device ${index}: ${node.name} refused a reading: ${(error as Error).message.split('\n')[0]}`)
          }
        }
      }),
    )
  }

  const loop = (async () => {
    let last = -1
    while (!abort.signal.aborted) {
      const round = roundNow()
      if (round >= 0 && round !== last) {
        last = round
        // Spread the devices over the first half of the round (none right at its edges).
        devices.forEach((device, index) => {
          const delayMs = ((0.15 + (0.35 * index) / Math.max(1, devices.length)) * roundLength) * 1000
          const timer = setTimeout(() => void sendRound(device, index, round).catch(() => undefined), delayMs)
          abort.signal.addEventListener('abort', () => clearTimeout(timer), { once: true })
        })
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 250)
        abort.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true })
      })
    }
  })()

  return {
    publicKeys: keys.map((key) => key.publicKey),
    counts: (cycle) => counts.get(cycle),
    async stop() {
      abort.abort()
      await loop
    },
  }
}
