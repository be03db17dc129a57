// NodeConfig validation: defaults, normalization, every problem reported at once with its path.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'

import { ConfigError, NodeError, loadConfig, validateConfig } from '../src/index.ts'

const dir = mkdtempSync(join(tmpdir(), 'coop-config-test-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const valid = {
  name: 'node-1',
  rpcUrl: 'http://127.0.0.1:8545',
  privateKey: `0x${'ab'.repeat(32)}`,
  taskManager: '0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0',
  taskLens: '0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9',
  tasks: [{ taskId: 1, program: 'compute.mjs', stake: '100' }],
  dataDir: 'data',
}

test('a minimal config gets defaults; addresses are checksummed, ids and paths normalized', () => {
  const config = validateConfig(valid, { baseDir: '/base' })
  assert.equal(config.taskManager, '0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0')
  assert.deepEqual(config.tasks, [{ taskId: '1', program: '/base/compute.mjs', stake: '100' }])
  assert.equal(config.dataDir, '/base/data')
  assert.deepEqual(config.p2p, { listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [] })
  assert.deepEqual(config.http, { host: '127.0.0.1', port: 0 })
  assert.equal(config.pollIntervalMs, 500)
  assert.deepEqual(validateConfig(config), config, 'validating a validated config changes nothing')
})

test('every problem is reported, each with its path', () => {
  let error: unknown
  try {
    validateConfig({
      ...valid,
      name: '',
      rpcUrl: 'ftp://x',
      privateKey: '0x12',
      taskLens: 'nope',
      tasks: [{ taskId: 'one' }, { taskId: 2, stake: '-1' }, { taskId: '2' }],
      http: { host: '0.0.0.0', port: 70000 },
      behaviour: { mode: 'evil' },
      pollIntervalMs: 1,
    })
  } catch (caught) {
    error = caught
  }
  assert.ok(error instanceof ConfigError)
  assert.ok(error instanceof NodeError)
  assert.equal(error.code, 'CONFIG_INVALID')
  const paths = error.issues.map((issue) => issue.path).sort()
  assert.deepEqual(paths, [
    'behaviour.mode',
    'http.host',
    'http.port',
    'name',
    'pollIntervalMs',
    'privateKey',
    'rpcUrl',
    'taskLens',
    'tasks[0].taskId',
    'tasks[1].stake',
    'tasks[2].taskId',
  ])
  assert.match(error.shortMessage, /tasks\[2\]\.taskId: task 2 is listed twice/)
})

test('loadConfig: paths relative to the file; unreadable and invalid JSON are typed errors', () => {
  const file = join(dir, 'node.json')
  writeFileSync(file, JSON.stringify(valid))
  assert.equal(loadConfig(file).dataDir, join(dir, 'data'))
  assert.throws(() => loadConfig(join(dir, 'missing.json')), (error: NodeError) => error.code === 'CONFIG_NOT_FOUND')
  writeFileSync(file, '{ not json')
  assert.throws(() => loadConfig(file), (error: ConfigError) => error.code === 'CONFIG_INVALID' && error.issues[0]!.path === '$')
})
