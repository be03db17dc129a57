// Seed 004 appendix A1.1 "Consensus by Inertial Mass": a peer-to-peer NTP by the damping equation
//     τ(t) = t − ((e − (e − s)/2 + a)/2)
// s: when this peer asked the other for its time (our clock), a: the other's time in its answer,
// e: when the answer arrived (our clock). Assuming symmetric routing, e − (e − s)/2 is our clock at the
// moment the other read its clock, so (e − (e − s)/2 + a)/2 is the mean of both clocks at that moment and
// τ, evaluated there, is how far we are ahead of that mean: half the difference between the two clocks.
// "If each peer adds half the difference between their times, we approximate Newtonian time."

/** One time exchange with a peer, all in ms: s and e on our clock, a on theirs. */
export type TimeSample = { s: number; a: number; e: number }

/** The seed's τ(t) for one exchange. */
export function tau(t: number, { s, a, e }: TimeSample): number {
  return t - (e - (e - s) / 2 + a) / 2
}

/** Our clock at the instant the other peer read its clock (half the round trip after s). */
export function midpoint({ s, e }: TimeSample): number {
  return e - (e - s) / 2
}

/**
 * How much to add to our clock after one exchange: −τ at the midpoint, i.e. half of (their time − ours).
 * Applying it moves us halfway towards the other peer; both doing so meet in the middle.
 */
export function clockAdjustment(sample: TimeSample): number {
  return 0 - tau(midpoint(sample), sample) // 0 − x: no −0 when already in sync
}

/** Round-trip time of the exchange (what limits its accuracy: asymmetric routing errs by up to rtt/2). */
export function roundTrip({ s, e }: TimeSample): number {
  return e - s
}
