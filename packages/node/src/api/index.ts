// The node's HTTP + WebSocket API (also used by the devnet, which has no node of its own).
export {
  createApiServer,
  type ApiNode,
  type ApiNodeTask,
  type ApiServer,
  type ApiServerOptions,
  type RewardEntry,
} from './server.ts'
export { ApiError, toJson, type ApiErrorCode } from './http.ts'
export { WsClose } from './ws.ts'
export { createChainView, type ChainView, type ChainViewOptions } from '../view/index.ts'
