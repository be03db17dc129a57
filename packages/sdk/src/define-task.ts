import { SdkError } from './errors.ts'
import {
  type ClassicTaskDefinition,
  type ClassicTaskInput,
  type RoundInfo,
  type RouteHandler,
  type ScaleSettings,
  type ScaleTaskDefinition,
  type ScaleTaskInput,
  TASK_BRAND,
  type TaskContext,
  type TaskDefinition,
  type TaskDefinitionInput,
} from './types.ts'

export const TASK_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/
export const ROUTE_NAME_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(?:\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/
const REQUIRED_FUNCTIONS = ['work', 'submission', 'audit', 'distribution'] as const

/** SCALE defaults and bounds (docs/scale.md). */
export const SCALE_DEFAULTS = { samples: 16, retentionRounds: 8, replication: 2, maxPayloadBytes: 16 * 1024 } as const
export const SCALE_LIMITS = {
  samples: [1, 1024],
  retentionRounds: [0, 100_000],
  replication: [1, 64],
  /** = MAX_DEVICE_PAYLOAD_BYTES of @coop/protocol */
  maxPayloadBytes: [64, 1 << 20],
} as const

/**
 * Validates and freezes a task definition. Throws SdkError('INVALID_TASK') with `details.problems`
 * listing everything wrong (missing functions, bad name, bad routes, a bad `scale` section).
 */
export function defineTask<Submission = unknown, WorkState = unknown>(
  definition: ClassicTaskInput<Submission, WorkState>,
): ClassicTaskDefinition<Submission, WorkState>
export function defineTask<Submission = unknown, WorkState = unknown>(
  definition: ScaleTaskInput<Submission, WorkState>,
): ScaleTaskDefinition<Submission, WorkState>
export function defineTask<Submission = unknown, WorkState = unknown>(
  definition: TaskDefinitionInput<Submission, WorkState>,
): TaskDefinition<Submission, WorkState>
export function defineTask<Submission = unknown, WorkState = unknown>(
  definition: TaskDefinitionInput<Submission, WorkState>,
): TaskDefinition<Submission, WorkState> {
  const problems = taskDefinitionProblems(definition)
  if (problems.length > 0) {
    throw new SdkError('INVALID_TASK', 'invalid task definition', { details: { problems } })
  }
  const routes = definition.routes === undefined ? undefined : Object.freeze({ ...definition.routes })
  const scale =
    definition.scale === undefined
      ? undefined
      : Object.freeze({ ...definition.scale, ...(definition.scale.ingest ? { ingest: Object.freeze({ ...definition.scale.ingest }) } : {}) })
  return Object.freeze({ ...definition, ...(routes ? { routes } : {}), ...(scale ? { scale } : {}), [TASK_BRAND]: true as const }) as TaskDefinition<
    Submission,
    WorkState
  >
}

/** The SCALE settings of a task, defaults filled in; null for a task without a `scale` section. */
export function scaleSettings(task: Pick<TaskDefinitionInput, 'scale'>): ScaleSettings | null {
  const scale = task.scale
  if (!scale) return null
  const ingest = scale.ingest
  return {
    ingest: ingest
      ? { maxPayloadBytes: ingest.maxPayloadBytes ?? SCALE_DEFAULTS.maxPayloadBytes, accept: typeof ingest.accept === 'function', leaves: typeof ingest.leaves === 'function' }
      : null,
    samples: scale.samples ?? SCALE_DEFAULTS.samples,
    retentionRounds: scale.retentionRounds ?? SCALE_DEFAULTS.retentionRounds,
    replication: scale.replication ?? SCALE_DEFAULTS.replication,
  }
}

function scaleProblems(scale: unknown, definition: Record<string, unknown>): string[] {
  if (scale === null || typeof scale !== 'object' || Array.isArray(scale)) return ['scale must be an object']
  const section = scale as Record<string, unknown>
  const problems: string[] = []
  const known = new Set(['ingest', 'leafAudit', 'samples', 'retentionRounds', 'replication'])
  for (const key of Object.keys(section)) if (!known.has(key)) problems.push(`scale.${key} is not a SCALE setting (known: ${[...known].join(', ')})`)
  if (typeof section.leafAudit !== 'function') problems.push('scale.leafAudit must be a function')
  const int = (key: 'samples' | 'retentionRounds' | 'replication') => {
    const value = section[key]
    const [min, max] = SCALE_LIMITS[key]
    if (value !== undefined && !(typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max)) {
      problems.push(`scale.${key} must be an integer in [${min}, ${max}]`)
    }
  }
  int('samples')
  int('retentionRounds')
  int('replication')
  const ingest = section.ingest
  if (ingest !== undefined) {
    if (ingest === null || typeof ingest !== 'object' || Array.isArray(ingest)) problems.push('scale.ingest must be an object')
    else {
      const options = ingest as Record<string, unknown>
      for (const key of Object.keys(options)) {
        if (!['maxPayloadBytes', 'accept', 'leaves'].includes(key)) problems.push(`scale.ingest.${key} is not an ingest setting (known: maxPayloadBytes, accept, leaves)`)
      }
      const max = options.maxPayloadBytes
      const [lo, hi] = SCALE_LIMITS.maxPayloadBytes
      if (max !== undefined && !(typeof max === 'number' && Number.isSafeInteger(max) && max >= lo && max <= hi)) {
        problems.push(`scale.ingest.maxPayloadBytes must be an integer in [${lo}, ${hi}]`)
      }
      for (const key of ['accept', 'leaves']) {
        if (options[key] !== undefined && typeof options[key] !== 'function') problems.push(`scale.ingest.${key} must be a function when present`)
      }
      if (definition.submission !== undefined) {
        problems.push('submission must be absent for an ingest task: its leaves are the device payloads it accepted (scale.ingest.leaves can add to them)')
      }
    }
  } else if (typeof definition.submission !== 'function') {
    problems.push('submission must be a function returning the round DAG leaves (or give scale.ingest)')
  }
  for (const key of ['work', 'audit']) {
    if (definition[key] !== undefined && typeof definition[key] !== 'function') problems.push(`${key} must be a function when present`)
  }
  return problems
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
  if (definition.scale === undefined) {
    for (const key of REQUIRED_FUNCTIONS) {
      if (typeof definition[key] !== 'function') problems.push(`${key} must be a function`)
    }
  } else {
    if (typeof definition.distribution !== 'function') problems.push('distribution must be a function')
    problems.push(...scaleProblems(definition.scale, definition))
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
