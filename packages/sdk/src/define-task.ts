import { SdkError } from './errors.ts'
import {
  type RoundInfo,
  type RouteHandler,
  TASK_BRAND,
  type TaskContext,
  type TaskDefinition,
  type TaskDefinitionInput,
} from './types.ts'

export const TASK_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/
export const ROUTE_NAME_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(?:\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/
const REQUIRED_FUNCTIONS = ['work', 'submission', 'audit', 'distribution'] as const

/**
 * Validates and freezes a task definition. Throws SdkError('INVALID_TASK') with `details.problems`
 * listing everything wrong (missing functions, bad name, bad routes).
 */
export function defineTask<Submission = unknown, WorkState = unknown>(
  definition: TaskDefinitionInput<Submission, WorkState>,
): TaskDefinition<Submission, WorkState> {
  const problems = taskDefinitionProblems(definition)
  if (problems.length > 0) {
    throw new SdkError('INVALID_TASK', 'invalid task definition', { details: { problems } })
  }
  const routes = definition.routes === undefined ? undefined : Object.freeze({ ...definition.routes })
  return Object.freeze({ ...definition, ...(routes ? { routes } : {}), [TASK_BRAND]: true as const })
}

/** Everything wrong with `value` as a task definition (empty when valid). */
export function taskDefinitionProblems(value: unknown): string[] {
  if (value === null || typeof value !== 'object') return ['definition must be an object']
  const definition = value as Record<string, unknown>
  const problems: string[] = []
  const name = definition.name
  if (typeof name !== 'string') problems.push('name must be a string')
  else if (!TASK_NAME_PATTERN.test(name)) {
    problems.push(`name ${JSON.stringify(name)} must match ${TASK_NAME_PATTERN} (lowercase, 1-64 chars)`)
  }
  for (const key of REQUIRED_FUNCTIONS) {
    if (typeof definition[key] !== 'function') problems.push(`${key} must be a function`)
  }
  if (definition.setup !== undefined && typeof definition.setup !== 'function') {
    problems.push('setup must be a function when present')
  }
  const routes = definition.routes
  if (routes !== undefined) {
    if (routes === null || typeof routes !== 'object' || Array.isArray(routes)) problems.push('routes must be an object')
    else {
      for (const [route, handler] of Object.entries(routes)) {
        if (!ROUTE_NAME_PATTERN.test(route)) problems.push(`route ${JSON.stringify(route)} must match ${ROUTE_NAME_PATTERN}`)
        if (typeof handler !== 'function') problems.push(`route ${JSON.stringify(route)} must be a function`)
      }
    }
  }
  return problems
}

/** Whether `value` is a definition returned by `defineTask` (works across bundle copies of the SDK). */
export function isTaskDefinition(value: unknown): value is TaskDefinition {
  return (
    value !== null &&
    typeof value === 'object' &&
    (value as Record<symbol, unknown>)[TASK_BRAND] === true &&
    taskDefinitionProblems(value).length === 0
  )
}

/**
 * The handler for a route path: exact match of the path without leading '/' and query, else
 * the longest registered prefix ending at a '/' boundary (`page/abc` → `page`).
 */
export function resolveRoute(
  routes: Readonly<Record<string, RouteHandler>> | undefined,
  path: string,
): { name: string; handler: RouteHandler } | undefined {
  if (!routes) return undefined
  let key = path.split('?')[0] ?? ''
  key = key.replace(/^\/+/, '').replace(/\/+$/, '')
  while (key.length > 0) {
    const handler = Object.hasOwn(routes, key) ? routes[key] : undefined
    if (typeof handler === 'function') return { name: key, handler }
    const slash = key.lastIndexOf('/')
    if (slash < 0) break
    key = key.slice(0, slash)
  }
  return undefined
}

/** Whether the node should misbehave for `round.cycle` (cheater mode from `cheatFromRound`, inclusive). */
export function shouldCheat(round: RoundInfo, ctx: Pick<TaskContext, 'behaviour'>): boolean {
  return ctx.behaviour.mode === 'cheater' && round.cycle >= (ctx.behaviour.cheatFromRound ?? 0)
}
