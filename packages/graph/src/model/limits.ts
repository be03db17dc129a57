import type { GraphLimits } from '../types.ts'

export const DEFAULT_LIMITS: Readonly<GraphLimits> = Object.freeze({
  maxSoulLength: 2048,
  maxKeyLength: 2048,
  maxValueLength: 1024 * 1024,
  maxKeysPerPut: 1_000_000,
})

export function resolveLimits(limits: Partial<GraphLimits> | undefined): Readonly<GraphLimits> {
  return limits === undefined ? DEFAULT_LIMITS : Object.freeze({ ...DEFAULT_LIMITS, ...limits })
}
