// @coop/sdk — for task authors (defineTask, types, CID helpers, the harness) and for the node
// (content store, bundler, sandbox). Task bundles see only ./task.ts (see bundleTask).
export * from './task.ts'
export { bundleTask, TASK_SDK_ENTRY } from './bundle.ts'
export type { BundleOptions } from './bundle.ts'
export { createContentStore } from './content-store.ts'
export type { ContentStore, ContentStoreOptions, ContentStoreStats } from './content-store.ts'
export { startSandbox } from './sandbox.ts'
export type { SandboxHost, SandboxMethod, SandboxOptions, SandboxStats, TaskRuntime } from './sandbox.ts'
export { createHarness } from './harness.ts'
export type { CycleReport, Harness, HarnessAudit, HarnessIngest, HarnessNode, HarnessOptions, HarnessReport, HarnessSubmission } from './harness.ts'
export { createMemoryContext, createMemoryKv, createMemoryStore, derivePrivateKey, withRound } from './memory.ts'
export type { ContextServices, LogSink, MemoryContextOptions, MemoryKv, MemoryStore } from './memory.ts'
