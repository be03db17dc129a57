// Kills a child process (or its whole process group) when this process dies, however it dies —
// including SIGKILL, where no exit handler runs: a tiny `sh` blocks reading a pipe from us, and
// when the pipe closes (we are gone) it kills the target. Used for anvil and for devnet nodes.
import { spawn, type ChildProcess } from 'node:child_process'

export type KillWatchdogOptions = {
  /** Also kill the process group whose leader is `pid` (the child was spawned `detached`). */
  processGroup?: boolean
}

export function startKillWatchdog(pid: number, options: KillWatchdogOptions = {}): ChildProcess | undefined {
  if (process.platform === 'win32') return undefined
  const kill = options.processGroup ? 'kill -9 -"$0" 2>/dev/null; kill -9 "$0" 2>/dev/null' : 'kill -9 "$0" 2>/dev/null'
  const watchdog = spawn('/bin/sh', ['-c', `cat >/dev/null; ${kill}`, String(pid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  })
  watchdog.on('error', () => {})
  watchdog.stdin?.on('error', () => {})
  watchdog.unref()
  ;(watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.()
  return watchdog
}
