// Reading a task's `ctx.config` (plain JSON from the task's manifest or the devnet): values that
// are missing or out of range fall back to the task's default instead of failing a round.

/** `value` if it is a safe integer in [min, max], else `fallback`. */
export function configInt(value: unknown, fallback: number, min: number, max: number): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max ? value : fallback
}
