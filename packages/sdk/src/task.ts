// What a task program imports from '@coop/sdk'. `bundleTask` maps '@coop/sdk' to this module so
// a bundle never carries the node-side SDK (sandbox, bundler, harness); keep it free of IO.
export { SCALE_DEFAULTS, SCALE_LIMITS, defineTask, isTaskDefinition, resolveRoute, scaleSettings, shouldCheat, taskDefinitionProblems } from './define-task.ts'
export {
  DAG_CBOR_CODE,
  RAW_CODE,
  SHA2_256_CODE,
  blockCid,
  cidFromDigest,
  decodeValue,
  digestOfCid,
  encodeValue,
  parseCid,
  rawCid,
  samplePositions,
  sha256,
  submissionRoot,
  toHex,
  valueCid,
  verifyBlock,
} from './cid.ts'
export { configInt } from './config.ts'
export { defaultDistribution } from './distribution.ts'
export { SandboxError, SdkError, isSandboxError, isSdkError } from './errors.ts'
export type { ErrorDetails, SandboxErrorCode, SdkErrorCode } from './errors.ts'
export { TASK_BRAND } from './types.ts'
export type {
  Address,
  AuditVerdict,
  Behaviour,
  ClassicTaskDefinition,
  ClassicTaskInput,
  DevicePayloadView,
  ScaleIngest,
  ScaleSection,
  ScaleSettings,
  ScaleTaskDefinition,
  ScaleTaskInput,
  Bounty,
  DistributionShare,
  Hex,
  RoundInfo,
  RouteHandler,
  RouteRequest,
  SubmitterStatus,
  TaskContext,
  TaskDefinition,
  TaskDefinitionInput,
  TaskKv,
  TaskLog,
  TaskStore,
} from './types.ts'
