// Drift detection: the committed generated ABIs must equal what forge's current output generates.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'

import { generateContractsModule, generatedFile, repoRoot } from '../scripts/generate-abis.ts'
import { coopErrorsAbi, taskLensAbi, taskManagerAbi, taskManagerBytecode } from '../src/generated/contracts.ts'

test('generated contracts.ts matches forge output (run `npm run build:contracts` if this fails)', () => {
  // forge build is incremental: a no-op when contracts/out is current, a compile otherwise.
  const build = spawnSync(process.execPath, [join(repoRoot, 'contracts', 'scripts', 'forge.mjs'), 'build'], {
    encoding: 'utf8',
  })
  assert.equal(build.status, 0, `forge build failed:\n${build.stdout}\n${build.stderr}`)
  const regenerated = generateContractsModule()
  const committed = readFileSync(generatedFile, 'utf8')
  assert.ok(regenerated === committed, 'packages/chain/src/generated/contracts.ts is stale: run `npm run build:contracts`')
})

test('generated ABIs carry the manager, lens and every custom error', () => {
  const functions = new Set<string>(taskManagerAbi.filter((item) => item.type === 'function').map((item) => item.name))
  for (const name of ['createTask', 'submit', 'raiseAudit', 'postDistribution', 'claimRewards', 'withdrawStake']) {
    assert.ok(functions.has(name), name)
  }
  assert.ok(taskLensAbi.some((item) => item.type === 'function' && item.name === 'selectedDistributor'))
  const errors = new Set<string>(coopErrorsAbi.map((item) => item.name))
  for (const name of ['OutsideSubmissionWindow', 'AlreadySubmitted', 'InsufficientStake', 'ERC20InsufficientAllowance']) {
    assert.ok(errors.has(name), name)
  }
  assert.match(taskManagerBytecode, /^0x[0-9a-f]+$/)
})
