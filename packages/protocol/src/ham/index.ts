export * from './types.ts'
export * from './ham.ts'
export * from './merge-graph.ts'
