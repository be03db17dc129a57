import type { Value } from './types.ts'

/**
 * HAM (Hypothetical Amnesia Machine), the conflict rule of GUN (seed 004 §2.3), with outcomes
 * identical to gun 0.2020.1241 (`ham()` inside `Gun.on.put`, gun.js), which is:
 *
 *   if (state > now) defer                                   // future: wait until the machine gets there
 *   if (state < was) drop                                    // older than what we have: historical
 *   if (state === was && (val === known || L(val) <= L(known))) drop   // tie the incoming value loses
 *   apply                                                    // newer, or a tie the incoming value wins
 *
 * with `L = JSON.stringify` and JavaScript's string order (UTF-16 code units), and `was = -Infinity`
 * when the key has no state yet. The outcome objects are shared constants: no allocation per call.
 */
export type HamOutcome =
  | { readonly defer: true }
  | { readonly historical: true }
  | { readonly converge: true; readonly incoming: boolean }

export const HAM_DEFER: HamOutcome = Object.freeze({ defer: true })
export const HAM_HISTORICAL: HamOutcome = Object.freeze({ historical: true })
export const HAM_KEEP_CURRENT: HamOutcome = Object.freeze({ converge: true, incoming: false })
export const HAM_TAKE_INCOMING: HamOutcome = Object.freeze({ converge: true, incoming: true })

/** The same four outcomes as small integers, for hot loops that switch on them. */
export const HamCode = { defer: 0, historical: 1, keepCurrent: 2, takeIncoming: 3 } as const
export type HamCode = (typeof HamCode)[keyof typeof HamCode]

/**
 * `currentState` undefined means the key is unknown here (GUN: -Infinity). `currentValue` is only
 * read on a state tie.
 */
export function ham(
  machineState: number,
  incomingState: number,
  currentState: number | undefined,
  incomingValue: Value,
  currentValue: Value | undefined,
): HamOutcome {
  switch (hamCode(machineState, incomingState, currentState, incomingValue, currentValue)) {
    case HamCode.defer:
      return HAM_DEFER
    case HamCode.historical:
      return HAM_HISTORICAL
    case HamCode.keepCurrent:
      return HAM_KEEP_CURRENT
    default:
      return HAM_TAKE_INCOMING
  }
}

export function hamCode(
  machineState: number,
  incomingState: number,
  currentState: number | undefined,
  incomingValue: Value,
  currentValue: Value | undefined,
): HamCode {
  if (incomingState > machineState) return HamCode.defer
  const was = currentState === undefined ? -Infinity : currentState
  if (incomingState < was) return HamCode.historical
  if (incomingState === was) {
    return incomingValue === currentValue || !lexicallyAfter(incomingValue, currentValue)
      ? HamCode.keepCurrent
      : HamCode.takeIncoming
  }
  return HamCode.takeIncoming
}

/**
 * GUN's tie-break: the incoming value wins a state tie only if `JSON.stringify(incoming) >
 * JSON.stringify(current)` (GUN keeps the current one when `L(val) <= L(known)`). Comparing with
 * `undefined` (no current value) is false both ways in JavaScript, so GUN applies the incoming value.
 */
export function lexicallyAfter(incomingValue: Value, currentValue: Value | undefined): boolean {
  if (currentValue === undefined) return true
  return JSON.stringify(incomingValue) > JSON.stringify(currentValue)
}
