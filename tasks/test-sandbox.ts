// Shared by the task tests: a task bundled from its source into a temporary folder and started in
// the sandbox, as a node runs it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { bundleTask, startSandbox, type SandboxHost, type TaskRuntime } from '@coop/sdk'

export type BundledSandbox = {
  runtime: TaskRuntime
  /** Stops the sandbox and removes the folder. */
  stop(): Promise<void>
}

/** Bundles the task at `entry` into a fresh `coop-task-<name>-*` folder and runs it in the sandbox with `host`. */
export async function startBundledSandbox(name: string, entry: URL, host: SandboxHost): Promise<BundledSandbox> {
  const dir = await mkdtemp(join(tmpdir(), `coop-task-${name}-`))
  try {
    const { code } = await bundleTask(entry.pathname)
    await writeFile(join(dir, 'program.mjs'), code)
    const runtime = await startSandbox({ programPath: join(dir, 'program.mjs'), dataDir: join(dir, 'data'), host })
    return {
      runtime,
      async stop() {
        await runtime.stop()
        await rm(dir, { recursive: true, force: true })
      },
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
}
