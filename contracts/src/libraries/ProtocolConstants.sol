// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

/// @dev Units and domain tags shared by the protocol libraries. The TS twins in
/// packages/protocol/src/constants.ts must hold the same values (checked by the vector tests).
library ProtocolConstants {
    /// @dev Basis points: 10_000 = 100%.
    uint256 internal constant BPS = 10_000;
    /// @dev Fixed-point unit for the reputation weight factor.
    uint256 internal constant WAD = 1e18;
    /// @dev Score at which the reputation bonus on weight reaches half of its maximum (+100%).
    uint256 internal constant REPUTATION_HALF_BONUS_SCORE = 16;

    bytes32 internal constant SAMPLE_TAG = keccak256("coop.audit.sample.v1");
    bytes32 internal constant AUDITORS_TAG = keccak256("coop.audit.auditors.v1");
    bytes32 internal constant DISTRIBUTOR_TAG = keccak256("coop.distributor.select.v1");
}
