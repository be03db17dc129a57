/**
 * GUN's `Gun.state()`: milliseconds from `now`, made strictly increasing by adding thousandths when
 * called more than once in the same millisecond (GUN: `t + N/999`), so successive local writes are
 * ordered. `drift` shifts it like `Gun.state.drift` (used by clock sync).
 */
export function createStateClock(now: () => number = Date.now): { (): number; drift: number } {
  let last = -Infinity
  let n = 0
  const state = (): number => {
    const t = now()
    if (last < t) {
      n = 0
      last = t + state.drift
      return last
    }
    n += 1
    last = t + n / 999 + state.drift
    return last
  }
  state.drift = 0
  return state
}
