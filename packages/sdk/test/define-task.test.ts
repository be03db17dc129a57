import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TASK_BRAND, defineTask, isSdkError, isTaskDefinition, resolveRoute, shouldCheat } from '../src/index.ts'
import type { RouteHandler } from '../src/index.ts'

const ok = async () => ({ ok: true as const })
const base = {
  name: 'demo',
  work: async () => undefined,
  submission: async () => ({}),
  audit: ok,
  distribution: async () => [],
}

describe('defineTask', () => {
  it('returns a frozen, branded definition', () => {
    const task = defineTask({ ...base, routes: { page: async () => 1 } })
    assert.equal(task.name, 'demo')
    assert.equal(task[TASK_BRAND], true)
    assert.ok(Object.isFrozen(task))
    assert.ok(Object.isFrozen(task.routes))
    assert.ok(isTaskDefinition(task))
    assert.equal(isTaskDefinition({ ...base }), false, 'an unbranded object is not a definition')
  })

  it('lists every problem in a typed INVALID_TASK error', () => {
    try {
      defineTask({ name: 'Bad Name!', work: 1, audit: async () => ({ ok: true }) } as never)
      assert.fail('expected a throw')
    } catch (error) {
      assert.ok(isSdkError(error, 'INVALID_TASK'))
      const problems = error.details.problems as string[]
      assert.ok(problems.some((p) => p.startsWith('name')))
      assert.ok(problems.includes('work must be a function'))
      assert.ok(problems.includes('submission must be a function'))
      assert.ok(problems.includes('distribution must be a function'))
      assert.equal(error.shortMessage, 'invalid task definition')
    }
  })

  it('rejects bad names, setup and routes', () => {
    for (const name of ['', 'UPPER', '-lead', 'a'.repeat(65), 'sp ace', 42]) {
      assert.throws(() => defineTask({ ...base, name } as never), (e) => isSdkError(e, 'INVALID_TASK'), String(name))
    }
    assert.throws(() => defineTask({ ...base, setup: 'x' } as never), (e) => isSdkError(e, 'INVALID_TASK'))
    assert.throws(() => defineTask({ ...base, routes: { '../x': async () => 1 } }), (e) => isSdkError(e, 'INVALID_TASK'))
    assert.throws(() => defineTask({ ...base, routes: { page: 'nope' } } as never), (e) => isSdkError(e, 'INVALID_TASK'))
    assert.throws(() => defineTask(null as never), (e) => isSdkError(e, 'INVALID_TASK'))
    assert.doesNotThrow(() => defineTask({ ...base, name: 'web-archive.v2_x' }))
  })

  it('resolves route paths: exact, then by prefix, ignoring slashes and the query', () => {
    const page: RouteHandler = async () => 'page'
    const stats: RouteHandler = async () => 'stats'
    const routes = { page, 'api/stats': stats }
    assert.equal(resolveRoute(routes, 'page')?.handler, page)
    assert.equal(resolveRoute(routes, '/page/abc?x=1')?.name, 'page')
    assert.equal(resolveRoute(routes, '/api/stats/')?.handler, stats)
    assert.equal(resolveRoute(routes, 'api'), undefined)
    assert.equal(resolveRoute(routes, 'toString'), undefined, 'no prototype keys')
    assert.equal(resolveRoute(undefined, 'page'), undefined)
  })

  it('shouldCheat is inclusive from cheatFromRound, by cycle', () => {
    const round = (cycle: number) => ({ taskId: 1n, round: cycle + 1, cycle, startTime: 0, roundLength: 12 })
    const cheater = { behaviour: { mode: 'cheater' as const, cheatFromRound: 3 } }
    assert.equal(shouldCheat(round(2), cheater), false)
    assert.equal(shouldCheat(round(3), cheater), true)
    assert.equal(shouldCheat(round(0), { behaviour: { mode: 'cheater' } }), true)
    assert.equal(shouldCheat(round(9), { behaviour: { mode: 'honest', cheatFromRound: 0 } }), false)
  })
})
