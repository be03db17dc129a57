import { type Hex, keccak256, stringToBytes } from 'viem'

// Twin of contracts/src/libraries/ProtocolConstants.sol. The vector tests read that file and
// fail if any value here differs.

/** Basis points: 10_000 = 100%. */
export const BPS = 10_000n

/** Fixed-point unit of the reputation weight factor (1.0 = 1e18). */
export const WAD = 10n ** 18n

/** Score at which reputation adds half of its maximum bonus (+50% of stake's weight). */
export const REPUTATION_HALF_BONUS_SCORE = 16n

// Domain tags keep the three seeded draws independent of each other even with equal inputs.

export const SAMPLE_TAG_STRING = 'coop.audit.sample.v1'
export const AUDITORS_TAG_STRING = 'coop.audit.auditors.v1'
export const DISTRIBUTOR_TAG_STRING = 'coop.distributor.select.v1'

export const SAMPLE_TAG: Hex = keccak256(stringToBytes(SAMPLE_TAG_STRING))
export const AUDITORS_TAG: Hex = keccak256(stringToBytes(AUDITORS_TAG_STRING))
export const DISTRIBUTOR_TAG: Hex = keccak256(stringToBytes(DISTRIBUTOR_TAG_STRING))
