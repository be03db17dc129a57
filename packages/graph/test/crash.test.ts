// kill -9 during a write burst: every write the child acknowledged is there after reopening.
// The child (crash-writer.ts) reports each ack on stdout; the parent kills it at a random point.

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { GraphStore } from '@coop/graph'

const dir = mkdtempSync(join(tmpdir(), 'coop-graph-crash-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const path = join(dir, 'crash.db')

/** Runs the writer until it has acknowledged `killAfter` writes, then SIGKILLs it; returns every ack seen. */
function burstAndKill(prefix: string, killAfter: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'crash-writer.ts'), path, prefix], { stdio: ['ignore', 'pipe', 'pipe'] })
    const acks: number[] = []
    let buffered = ''
    let stderr = ''
    let killed = false
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) if (line.startsWith('ack ')) acks.push(Number(line.slice(4)))
      if (!killed && acks.length >= killAfter) {
        killed = true
        child.kill('SIGKILL')
      }
    })
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(acks) // acks still in the pipe were read before 'exit'
      else reject(new Error(`writer exited on its own (code ${code}): ${stderr}`))
    })
    setTimeout(() => {
      if (!killed) {
        child.kill('SIGKILL')
        reject(new Error(`writer made only ${acks.length} acks in time: ${stderr}`))
      }
    }, 30_000).unref()
  })
}

test('kill -9 mid-burst loses no acknowledged write (4 rounds on the same database)', async () => {
  const killPoints = [137, 1_000, 403, 2_511]
  for (const [round, killAfter] of killPoints.entries()) {
    const prefix = `r${round}`
    const acks = await burstAndKill(prefix, killAfter)
    assert.ok(acks.length >= killAfter)
    const store = await GraphStore.open({ path })
    for (const i of acks) {
      const soul = `${prefix}/${i % 13}`
      assert.equal(store.value(soul, `k${i}`), `v${i}`, `acknowledged write ${i} of round ${round} is there`)
      assert.equal(store.state(soul, `k${i}`), 1_000_000 + i)
      if (i % 2 === 0) assert.equal(store.value(soul, `twin${i}`), i, 'a put is stored whole')
    }
    // a put is atomic: no key without its twin, acknowledged or not
    for (const soul of store.souls()) {
      const node = store.get(soul)!
      for (const key of Object.keys(node)) {
        const i = Number(key.slice(1))
        if (key.startsWith('k') && i % 2 === 0) assert.equal(node[`twin${i}`], i, `put ${i} is whole`)
      }
    }
    await store.close()
  }
})
