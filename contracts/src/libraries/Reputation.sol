// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {ProtocolConstants as C} from "./ProtocolConstants.sol";

/// @title Reputation
/// @notice CARP reputation rules: how a node's score turns into voting / selection weight.
/// TS twin: packages/protocol/src/reputation.ts. Vectors: packages/protocol/vectors/reputation.json.
library Reputation {
    /// @notice Weight multiplier in WAD: 1.0 for a new (or convicted) node, approaching 2.0 as the
    /// score grows: factor = 1 + score / (score + 16). Reputation can at most double stake's weight,
    /// so it breaks near-ties and rewards history without letting old nodes outvote capital.
    function weightFactor(uint256 score) internal pure returns (uint256) {
        return C.WAD + (C.WAD * score) / (score + C.REPUTATION_HALF_BONUS_SCORE);
    }

    /// @notice Weight of a node in votes and distributor selection: stake × weightFactor(score).
    function weight(uint256 stake, uint256 score) internal pure returns (uint256) {
        return (stake * weightFactor(score)) / C.WAD;
    }

    /// @notice weight() for a stake that fits uint128 and a uint32 score, without overflow checks
    /// (stake < 2^128 and factor < 2^61, so the product is < 2^189): the same rule, cheaper in the
    /// per-entry loop of submitBatch.
    function weight128(uint128 stake, uint32 score) internal pure returns (uint256) {
        unchecked {
            uint256 s = score;
            return (uint256(stake) * (C.WAD + (C.WAD * s) / (s + C.REPUTATION_HALF_BONUS_SCORE))) / C.WAD;
        }
    }
}
