// The GUN wire protocol: codec, dedup, peer logic (mesh), WebSocket and libp2p transports.
export { DEFAULT_WIRE_LIMITS, decodeFrame, decodeMessage, decodeGraph, encodeFrame, newMessageId, checkSoul, type WireLimits, type DecodedFrame, type RejectedMessage } from './codec.ts'
export { keyMatches, toWireJson, type KeyLex, type SoulQuery, type WireAck, type WireDam, type WireGet, type WireJson, type WireMessage, type WirePut } from './messages.ts'
export { MessageDedup, type DedupOptions } from './dedup.ts'
export { GraphMesh, MeshPeer, countGraphKeys, nextDown, type GraphMeshOptions, type MeshEvents, type MeshStore, type PeerDirection, type PeerStats, type WireTransport } from './mesh.ts'
export { LengthPrefixedDecoder, encodeLengthPrefixed, type DecodedChunk } from './length-prefixed.ts'
export { KeepConnected, backoffDelay, type BackoffOptions, type DialedConnection, type KeepConnectedOptions } from './reconnect.ts'
export { listenGraphWebSocket, webSocketTransport, type GraphWebSocketServer, type GraphWebSocketServerOptions } from './websocket-server.ts'
export { connectGraphWebSocket, toWebSocketUrl, type GraphWebSocketPeer, type GraphWebSocketPeerOptions } from './websocket-client.ts'
