// @coop/node: the Coop node daemon (state, scheduler, roles, runtime, p2p, chain, API).
export { startNode, type CoopNode, type NodeTask, type RewardEntry, type StartNodeOptions } from './node.ts'
export { validateConfig, loadConfig, DEFAULT_POLL_INTERVAL_MS, type NodeConfig, type TaskConfig, type Behaviour } from './config.ts'
export { NodeError, ConfigError, type NodeErrorCode, type ConfigIssue } from './errors.ts'
export {
  NodeStore,
  openState,
  INTENT_KINDS,
  type Intent,
  type IntentKind,
  type IntentStatus,
  type IntentRef,
  type AuditRow,
  type Verdict,
  type StoredList,
  type StoredSubmission,
} from './state/store.ts'
export { dueActions, phaseAt, actionKey, type DueAction, type DueInput, type DueResult, type CycleView, type AuditView, type SchedulerParams, type Phase } from './scheduler/phases.ts'
export { TxSender, ALREADY_DONE_ERRORS, type TxCall, type TxOutcome, type ExecuteOptions } from './chain/tx.ts'
export { intentEffectDone } from './chain/effects.ts'
export { createNodeChain, type NodeChain } from './chain/client.ts'
export { PROTOCOLS, roundsTopic } from './p2p/protocols.ts'
export { readHeadChainFacts, type HeadChainReader } from './scale/chain-facts.ts'
export { ScaleState, type StoredHead, type CompactScaleState, type ReplicaAck } from './scale/scale-state.ts'
export { cidFromDigest, digestOfCid } from './runtime/program.ts'
export type { NodeEvent } from './roles/env.ts'
export type { ListDocument } from './roles/checks.ts'
export { createLogger, type Logger } from './logger.ts'
export { createMetrics, type NodeMetrics } from './metrics.ts'
// The HTTP/WS API and the chain view (packages/node/src/api, view), for the devnet and tools.
export {
  createApiServer,
  createChainView,
  ApiError,
  toJson,
  WsClose,
  type ApiNode,
  type ApiNodeTask,
  type ApiServer,
  type ApiServerOptions,
  type ApiErrorCode,
  type ChainView,
  type ChainViewOptions,
} from './api/index.ts'
