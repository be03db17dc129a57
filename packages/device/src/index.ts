// @coop/device — devices without wallets (issue 4): sign payloads, post them to a node, keep the
// node's receipt, and later check the payload's inclusion against the chain.
export { createDevice, currentRound, devicePublicKey, generateDeviceKey } from './device.ts'
export type { Device, DeviceOptions, SendOptions, SendResult } from './device.ts'
export { verifyInclusion } from './verify-inclusion.ts'
export type { CheckStatus, InclusionOptions, InclusionReport } from './verify-inclusion.ts'
export { DeviceError, isDeviceError } from './errors.ts'
export type { DeviceErrorCode } from './errors.ts'
export type { DevicePayload, DeviceReceipt, DeviceScheme } from '@coop/protocol'
