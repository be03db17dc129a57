export { weightedTrust, type TrustEdges, type TrustScore, type WeightedTrustOptions } from './weighted-trust.ts'
export { setTrust, removeTrust, shareTrustTable, unshareTrustTable, readTrustTable, loadTrustWeb, trustScores, TRUST_GROUP, type TrustEntry, type TrustOptions } from './trust-table.ts'
export { shouldRelay, createRelayFilter, type RelayPolicy, type RelayVerdict } from './relay-policy.ts'
