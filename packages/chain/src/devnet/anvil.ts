// Local devnet: anvil from npm (@foundry-rs/anvil-<platform>), bound to 127.0.0.1 only, never
// forking. Children are tracked and killed on stop(), on process exit and on SIGINT/SIGTERM/SIGHUP;
// a tiny watchdog (sh reading a pipe from us) also kills anvil if this process dies by SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer, type AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'

import { toHex, type Address, type Hex } from 'viem'
import { mnemonicToAccount, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts'

import { CoopChainError } from '../errors.ts'
import { startKillWatchdog } from './watchdog.ts'

/** Anvil's (and Hardhat's) well-known development mnemonic. Never use it for real funds. */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk'

export type StartAnvilOptions = {
  /** Fixed port. Default: a random free port on 127.0.0.1 (retried if taken meanwhile). */
  port?: number
  /** Seconds between blocks; default: mine on every transaction (automine). */
  blockTime?: number
  /** Number of funded dev accounts (default 10). */
  accounts?: number
  mnemonic?: string
  /** Balance of each dev account in ether (default 10 000). */
  balance?: number
  chainId?: number
  /** Genesis block timestamp (seconds). */
  timestamp?: number | bigint
  /** Extra anvil CLI arguments (never use --fork-url here: tests and demos stay offline). */
  args?: string[]
  /** Path of the anvil binary; default: resolved from the npm package. */
  binary?: string
  /** ms to wait for `eth_chainId` to answer (default 20 000). */
  startTimeoutMs?: number
  /** Attempts with fresh random ports when the chosen one was taken (default 5). */
  maxPortAttempts?: number
  /** Kill anvil even if this process is SIGKILLed (default true except on Windows). */
  watchdog?: boolean
}

export type DevAccount = {
  address: Address
  privateKey: Hex
  account: PrivateKeyAccount
}

export type Anvil = {
  rpcUrl: string
  port: number
  pid: number
  chainId: number
  mnemonic: string
  accounts: DevAccount[]
  /** Last lines anvil wrote to stderr (useful when something fails). */
  logs(): string
  /** Kills anvil and waits until it has exited. Idempotent. */
  stop(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

export class AnvilStartError extends CoopChainError {
  override name = 'AnvilStartError'
  readonly port: number | undefined
  readonly stderr: string
  constructor(shortMessage: string, { port, stderr, cause }: { port?: number; stderr?: string; cause?: unknown }) {
    super(shortMessage, {
      code: 'ANVIL_START_FAILED',
      cause,
      details: stderr ? `anvil stderr:\n${stderr.trim()}` : undefined,
    })
    this.port = port
    this.stderr = stderr ?? ''
  }
}

export class AnvilBinaryNotFoundError extends CoopChainError {
  override name = 'AnvilBinaryNotFoundError'
  constructor(packageName: string, cause?: unknown) {
    super(`anvil binary not found (npm package ${packageName})`, {
      code: 'ANVIL_BINARY_NOT_FOUND',
      cause,
      details: 'run `npm install` at the repo root; @foundry-rs/anvil installs the binary for this platform',
    })
  }
}

/** Path of the anvil binary shipped in `@foundry-rs/anvil-<platform>`. */
export function resolveAnvilBinary(): string {
  const platform = `${process.platform}-${process.arch === 'x64' ? 'amd64' : process.arch}`
  const packageName = `@foundry-rs/anvil-${platform}`
  let packageJson: string
  try {
    packageJson = createRequire(import.meta.url).resolve(`${packageName}/package.json`)
  } catch (error) {
    throw new AnvilBinaryNotFoundError(packageName, error)
  }
  const binary = join(dirname(packageJson), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil')
  if (!existsSync(binary)) throw new AnvilBinaryNotFoundError(packageName)
  return binary
}

/** A port that was free on 127.0.0.1 a moment ago (bind port 0, read it, release it). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** Dev accounts derived from `mnemonic` (m/44'/60'/0'/0/i), as anvil funds them. */
export function devAccounts(count: number, mnemonic: string = ANVIL_MNEMONIC): DevAccount[] {
  return Array.from({ length: count }, (_, addressIndex) => {
    const key = mnemonicToAccount(mnemonic, { addressIndex }).getHdKey().privateKey
    if (!key) throw new Error(`no private key for account ${addressIndex}`)
    const privateKey = toHex(key)
    const account = privateKeyToAccount(privateKey)
    return { address: account.address, privateKey, account }
  })
}

// ─── child tracking ───

type Tracked = { child: ChildProcess; watchdog: ChildProcess | undefined }
const live = new Set<Tracked>()
let handlersInstalled = false

function killNow(tracked: Tracked): void {
  try {
    tracked.child.kill('SIGKILL')
  } catch {}
  try {
    tracked.watchdog?.kill('SIGKILL')
  } catch {}
}

function installExitHandlers(): void {
  if (handlersInstalled) return
  handlersInstalled = true
  process.on('exit', () => {
    for (const tracked of live) killNow(tracked)
    live.clear()
  })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = () => {
      for (const tracked of live) killNow(tracked)
      live.clear()
      // Keep the default behaviour (exit by that signal) unless someone else handles it.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, handler)
        process.kill(process.pid, signal)
      }
    }
    process.on(signal, handler)
  }
}

/** Number of anvil processes this process currently runs (for tests). */
export function liveAnvilCount(): number {
  return live.size
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}

async function rpcChainId(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(1_000),
    })
    const body = (await response.json()) as { result?: string }
    return body.result ? Number(body.result) : undefined
  } catch {
    return undefined
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

async function launch(binary: string, port: number, options: StartAnvilOptions, mnemonic: string, accounts: number) {
  const args = ['--host', '127.0.0.1', '--port', String(port), '--silent', '--accounts', String(accounts), '--mnemonic', mnemonic]
  if (options.blockTime !== undefined) args.push('--block-time', String(options.blockTime))
  if (options.balance !== undefined) args.push('--balance', String(options.balance))
  if (options.chainId !== undefined) args.push('--chain-id', String(options.chainId))
  if (options.timestamp !== undefined) args.push('--timestamp', String(options.timestamp))
  if (options.args?.some((arg) => arg.startsWith('--fork'))) {
    throw new AnvilStartError('forking is not allowed: the devnet stays offline', { port })
  }
  args.push(...(options.args ?? []))

  installExitHandlers()
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-16_384)
  })
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve))
  const tracked: Tracked = { child, watchdog: undefined }
  live.add(tracked)
  if (child.pid !== undefined && options.watchdog !== false) tracked.watchdog = startKillWatchdog(child.pid)

  const rpcUrl = `http://127.0.0.1:${port}`
  const deadline = Date.now() + (options.startTimeoutMs ?? 20_000)
  let failure: Error | undefined
  spawnError.then((error) => (failure = error))
  let chainId: number | undefined
  while (chainId === undefined) {
    if (failure || child.exitCode !== null || child.signalCode !== null) {
      killNow(tracked)
      live.delete(tracked)
      return { ok: false as const, stderr, failure }
    }
    if (Date.now() > deadline) {
      killNow(tracked)
      live.delete(tracked)
      await waitForExit(child, 2_000)
      throw new AnvilStartError(`anvil did not answer on ${rpcUrl} within ${options.startTimeoutMs ?? 20_000} ms`, {
        port,
        stderr,
      })
    }
    chainId = await rpcChainId(rpcUrl)
    if (chainId === undefined) await sleep(25)
  }
  // A forgotten stop() must not keep the process alive; the exit handlers still kill anvil.
  child.unref()
  ;(child.stderr as unknown as { unref?: () => void } | null)?.unref?.()
  return { ok: true as const, child, tracked, chainId, rpcUrl, logs: () => stderr }
}

/**
 * Starts anvil on 127.0.0.1 and waits until it answers `eth_chainId`.
 *
 * ```ts
 * const anvil = await startAnvil()
 * try { ... anvil.rpcUrl, anvil.accounts[0].privateKey ... } finally { await anvil.stop() }
 * ```
 */
export async function startAnvil(options: StartAnvilOptions = {}): Promise<Anvil> {
  const binary = options.binary ?? resolveAnvilBinary()
  const mnemonic = options.mnemonic ?? ANVIL_MNEMONIC
  const accountCount = options.accounts ?? 10
  const attempts = options.port === undefined ? (options.maxPortAttempts ?? 5) : 1
  let lastStderr = ''
  let lastFailure: Error | undefined
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const port = options.port ?? (await findFreePort())
    const launched = await launch(binary, port, options, mnemonic, accountCount)
    if (!launched.ok) {
      lastStderr = launched.stderr
      lastFailure = launched.failure
      const portTaken = /address already in use|EADDRINUSE|os error 98/i.test(launched.stderr)
      if (portTaken && attempt < attempts) continue
      throw new AnvilStartError(
        portTaken ? `port ${port} on 127.0.0.1 is in use` : `anvil exited before answering on port ${port}`,
        { port, stderr: lastStderr, cause: lastFailure },
      )
    }
    const { child, tracked, chainId, rpcUrl, logs } = launched
    let stopping: Promise<void> | undefined
    const stop = () =>
      (stopping ??= (async () => {
        tracked.watchdog?.kill('SIGKILL')
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM')
          if (!(await waitForExit(child, 3_000))) {
            child.kill('SIGKILL')
            await waitForExit(child, 3_000)
          }
        }
        live.delete(tracked)
      })())
    return {
      rpcUrl,
      port,
      pid: child.pid as number,
      chainId,
      mnemonic,
      accounts: devAccounts(accountCount, mnemonic),
      logs,
      stop,
      [Symbol.asyncDispose]: stop,
    }
  }
  throw new AnvilStartError(`could not start anvil after ${attempts} attempts`, { stderr: lastStderr, cause: lastFailure })
}
