// Node processes of the devnet: each node is a real OS process (`node --import tsx
// packages/node/src/main.ts --config <file>`), in its own process group so that stopping or killing
// it also takes the task sandboxes it started. Nothing outlives the devnet: every live group is
// SIGKILLed when this process exits, and a watchdog (sh reading a pipe from us) kills a group if
// this process itself dies by SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startKillWatchdog } from '@coop/chain'

export type ExitInfo = { code: number | null; signal: NodeJS.Signals | null; expected: boolean; at: number }

type Live = { child: ChildProcess; watchdog: ChildProcess | undefined }
const live = new Set<Live>()
let handlersInstalled = false

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return
  try {
    process.kill(-pid, signal)
  } catch {
    try {
      process.kill(pid, signal)
    } catch {}
  }
}

function installExitHandler(): void {
  if (handlersInstalled) return
  handlersInstalled = true
  process.on('exit', () => {
    for (const entry of live) {
      killGroup(entry.child.pid, 'SIGKILL')
      try {
        entry.watchdog?.kill('SIGKILL')
      } catch {}
    }
    live.clear()
  })
}

/** Process groups started here and still running (tests check that none is left). */
export function liveNodeProcessCount(): number {
  return live.size
}

/** file:// URL of tsx's ESM loader and the path of @coop/node's main, resolved from here. */
export function nodeEntrypoints(): { tsxLoader: string; nodeMain: string; repoRoot: string } {
  const tsxLoader = import.meta.resolve('tsx')
  const nodeIndex = fileURLToPath(import.meta.resolve('@coop/node'))
  const nodeMain = join(dirname(nodeIndex), 'main.ts')
  const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..')
  return { tsxLoader, nodeMain, repoRoot }
}

export type NodeProcessOptions = {
  name: string
  configFile: string
  logFile: string
  /** Extra environment for the child. */
  env?: Record<string, string>
  /** Node arguments instead of the node's entry point (tests run stand-ins). */
  args?: string[]
}

export class NodeProcess {
  readonly name: string
  readonly configFile: string
  readonly logFile: string
  private child: ChildProcess | undefined
  private entry: Live | undefined
  private exitPromise: Promise<ExitInfo> | undefined
  private expectingExit = false
  private readonly env: Record<string, string>
  private readonly args: string[] | undefined
  /** Every exit so far, oldest first. */
  readonly exits: ExitInfo[] = []
  /** Called on every exit (expected or not). */
  onExit: ((info: ExitInfo) => void) | undefined
  starts = 0

  constructor(options: NodeProcessOptions) {
    this.name = options.name
    this.configFile = options.configFile
    this.logFile = options.logFile
    this.env = options.env ?? {}
    this.args = options.args
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  /** Spawns the node (it must not be running). Output goes to the log file (appended). */
  start(): void {
    if (this.running) throw new Error(`${this.name} is already running (pid ${this.child?.pid})`)
    installExitHandler()
    const { tsxLoader, nodeMain, repoRoot } = nodeEntrypoints()
    const fd = openSync(this.logFile, 'a')
    let child: ChildProcess
    try {
      child = spawn(process.execPath, this.args ?? ['--import', tsxLoader, nodeMain, '--config', this.configFile], {
        cwd: repoRoot,
        stdio: ['ignore', fd, fd],
        detached: true,
        env: { ...process.env, ...this.env, COOP_NODE_NAME: this.name },
      })
    } finally {
      closeSync(fd)
    }
    this.starts += 1
    this.expectingExit = false
    this.child = child
    const entry: Live = { child, watchdog: child.pid !== undefined ? startKillWatchdog(child.pid, { processGroup: true }) : undefined }
    this.entry = entry
    live.add(entry)
    this.exitPromise = new Promise<ExitInfo>((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null) => {
        live.delete(entry)
        // Sandboxes or other children of the node must not survive it.
        killGroup(child.pid, 'SIGKILL')
        try {
          entry.watchdog?.kill('SIGKILL')
        } catch {}
        const info: ExitInfo = { code, signal, expected: this.expectingExit, at: Date.now() }
        this.exits.push(info)
        try {
          this.onExit?.(info)
        } catch {}
        resolve(info)
      }
      child.once('exit', done)
      child.once('error', () => done(null, null))
    })
  }

  /** Resolves when the current process has exited. */
  exited(): Promise<ExitInfo | undefined> {
    return this.exitPromise ?? Promise.resolve(undefined)
  }

  /** A crash: SIGKILL the node process itself (not its group), as a power cut or OOM kill would. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitInfo | undefined> {
    if (!this.running) return undefined
    this.expectingExit = true
    this.child?.kill(signal)
    return this.exited()
  }

  /** SIGTERM, then SIGKILL (whole group) after `graceMs`. */
  async stop(graceMs = 10_000): Promise<ExitInfo | undefined> {
    if (!this.running) return this.exitPromise ? this.exited() : undefined
    this.expectingExit = true
    killGroup(this.child?.pid, 'SIGTERM')
    const timeout = new Promise<'timeout'>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), graceMs)
      timer.unref()
    })
    const result = await Promise.race([this.exited(), timeout])
    if (result === 'timeout') {
      killGroup(this.child?.pid, 'SIGKILL')
      return this.exited()
    }
    return result
  }

  /** The last `lines` lines of the node's log. */
  logTail(lines = 20): string {
    if (!existsSync(this.logFile)) return ''
    const size = statSync(this.logFile).size
    const text = readFileSync(this.logFile, 'utf8').slice(size > 256_000 ? -256_000 : 0)
    return text.trimEnd().split('\n').slice(-lines).join('\n')
  }
}
