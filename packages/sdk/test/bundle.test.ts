import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { bundleTask, isSdkError, rawCid } from '../src/index.ts'

const PROBE = new URL('./fixtures/probe-task.ts', import.meta.url).pathname
const COMPUTE = new URL('../../../tasks/compute/index.ts', import.meta.url).pathname

let dir: string
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coop-sdk-bundle-'))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Module specifiers the bundle still imports at runtime. */
function runtimeImports(code: string): string[] {
  return [...code.matchAll(/^\s*import\s[^'"]*?['"]([^'"]+)['"]/gm)].map((m) => m[1] as string)
}

describe('bundleTask', () => {
  it('produces one self-contained ESM file whose cid is the raw CID of its bytes', async () => {
    const { code, cid } = await bundleTask(PROBE)
    assert.equal(cid, rawCid(code))
    assert.match(cid, /^bafkrei/)
    const text = new TextDecoder().decode(code)
    const imports = runtimeImports(text)
    assert.ok(imports.length > 0)
    assert.ok(imports.every((s) => s.startsWith('node:')), `only node builtins stay external: ${imports.join(', ')}`)
    assert.ok(!text.includes('@coop/sdk"') && !text.includes("@coop/sdk'"))
    assert.ok(!text.includes(process.cwd()), 'no absolute paths of the build machine')
  })

  it('is deterministic', async () => {
    const a = await bundleTask(PROBE)
    const b = await bundleTask(PROBE)
    assert.equal(a.cid, b.cid)
  })

  it("maps '@coop/sdk' to the task-side SDK only: no bundler, sandbox or harness in a task", async () => {
    const { code } = await bundleTask(COMPUTE)
    const text = new TextDecoder().decode(code)
    assert.ok(!text.includes('esbuild'))
    assert.ok(!text.includes('startSandbox'))
    assert.ok(!text.includes('createHarness'))
    assert.ok(!text.includes('node:child_process'))
    assert.ok(code.byteLength < 250_000, `compute bundle is ${code.byteLength} bytes`)
  })

  it('fails with typed errors', async () => {
    await assert.rejects(bundleTask(join(dir, 'missing.ts')), (e) => isSdkError(e, 'BUNDLE_FAILED'))
    const broken = join(dir, 'broken.ts')
    await writeFile(broken, 'export default {{{\n')
    await assert.rejects(bundleTask(broken), (e) => isSdkError(e, 'BUNDLE_FAILED') && Array.isArray(e.details.errors))
    const unresolved = join(dir, 'unresolved.ts')
    await writeFile(unresolved, "import x from 'no-such-package-anywhere'\nexport default x\n")
    await assert.rejects(bundleTask(unresolved), (e) => isSdkError(e, 'BUNDLE_FAILED') && String(e.details.errors).includes('no-such-package'))
  })
})
