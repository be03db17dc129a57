export { tau, midpoint, clockAdjustment, roundTrip, type TimeSample } from './tau.ts'
export { ClockSync, type ClockSyncOptions, type SyncResult } from './clock-sync.ts'
