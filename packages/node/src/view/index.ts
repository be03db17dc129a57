// The chain view: a read model of one Coop deployment, built from TaskManager's events.
export { createChainView, type ChainView, type ChainViewOptions, type RoundsQuery } from './chain-view.ts'
export type * from './types.ts'
