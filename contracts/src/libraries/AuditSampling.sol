// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {ProtocolConstants as C} from "./ProtocolConstants.sol";

/// @title AuditSampling
/// @notice Which submissions get audited, and by whom. Pure functions of the cycle seed (fixed
/// on-chain when submissions close), the task id, the cycle and the submitter, so every node
/// computes the same assignment and nobody chooses whom they are duty-bound to audit. The
/// assignment is a duty, not a permission: any staked node may still raise an audit (fisherman).
/// TS twin: packages/protocol/src/audit-sampling.ts. Vectors: packages/protocol/vectors/sampling.json.
library AuditSampling {
    /// @notice Probability (bps) that a submission by a node with `score` is sampled.
    /// Paying dues: 100% while score < dues. After that it decays hyperbolically,
    /// p = 10000 · decay / (decay + score − dues), and never drops below `floorBps`.
    /// decay = 0 means "straight to the floor once dues are paid".
    function auditProbabilityBps(uint256 score, uint256 dues, uint256 floorBps, uint256 decay)
        internal
        pure
        returns (uint256)
    {
        if (score < dues) return C.BPS;
        uint256 p = decay == 0 ? 0 : (C.BPS * decay) / (decay + score - dues);
        return p < floorBps ? floorBps : p;
    }

    /// @notice Whether `node`'s submission for `cycle` is sampled for audit.
    function isSampled(bytes32 seed, uint256 taskId, uint256 cycle, address node, uint256 probabilityBps)
        internal
        pure
        returns (bool)
    {
        uint256 draw = uint256(keccak256(abi.encode(C.SAMPLE_TAG, seed, taskId, cycle, node))) % C.BPS;
        return draw < probabilityBps;
    }

    /// @notice Indices (into the cycle's submitter list) of the auditors assigned to the submitter at
    /// `submitterIndex`: `count` distinct other submitters (fewer if the cycle is smaller), taken
    /// consecutively after a seeded offset so the assignment is uniform and never self-audit.
    function auditorIndices(bytes32 seed, uint256 taskId, uint256 cycle, uint256 submitterIndex, uint256 count, uint256 submitters)
        internal
        pure
        returns (uint256[] memory indices)
    {
        if (submitters <= 1 || count == 0) return new uint256[](0);
        uint256 others = submitters - 1;
        uint256 k = count < others ? count : others;
        uint256 offset = uint256(keccak256(abi.encode(C.AUDITORS_TAG, seed, taskId, cycle, submitterIndex))) % others;
        indices = new uint256[](k);
        for (uint256 j = 0; j < k; ++j) {
            indices[j] = (submitterIndex + 1 + (offset + j) % others) % submitters;
        }
    }
}
