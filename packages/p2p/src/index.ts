export {
  createCoopHost,
  DEFAULT_LISTEN,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type CoopHost,
  type CoopHostOptions,
  type GossipHandler,
  type RawStreamHandler,
  type RawStreamHandlerOptions,
  type RequestHandler,
} from './host.ts'
export {
  DEFAULT_MAX_CLOCK_SKEW_MS,
  DEFAULT_MAX_MESSAGE_BYTES,
  ENVELOPE_VERSION,
  MAX_TYPE_LENGTH,
  NONCE_BYTES,
  signEnvelope,
  verifyEnvelope,
  type EnvelopeAccount,
  type SignEnvelopeParameters,
  type VerifiedMessage,
  type VerifyEnvelopeOptions,
} from './envelope.ts'
export { P2P_ERROR_CODES, P2pError, isP2pError, type P2pErrorCode, type P2pErrorDetails } from './errors.ts'
export { PROTOCOL_PREFIX, toProtocolId, type P2pLogger, type P2pStats } from './internal.ts'
export { PEER_KEY_FILE, loadOrCreatePeerKey } from './peer-key.ts'
export { ERROR_SUFFIX, RESPONSE_SUFFIX, RequestResponseService, requestResponse, type RequestOptions } from './services/request-response.ts'
export { GossipService, coopGossip } from './services/gossip.ts'
export { BootstrapService, bootstrapDialer } from './services/bootstrap.ts'
