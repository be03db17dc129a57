// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {ITaskManager} from "./interfaces/ITaskManager.sol";
import {ICoopTaskManager} from "./interfaces/ICoopTaskManager.sol";
import {AuditSampling} from "./libraries/AuditSampling.sol";
import {DistributorSelection} from "./libraries/DistributorSelection.sol";

/// @title TaskLens
/// @notice Read-only answers nodes and dashboards ask of a TaskManager: is a submission sampled,
/// who audits it, who distributes a cycle. Kept apart so the manager stays under EIP-170; it
/// applies the same libraries to the manager's state, so the answers are the manager's rules.
contract TaskLens {
    ICoopTaskManager public immutable manager;

    constructor(ICoopTaskManager manager_) {
        manager = manager_;
    }

    /// @notice Audit probability (bps) of `node`'s submission for `cycle`.
    function auditProbabilityBps(uint256 taskId, uint256 cycle, address node) public view returns (uint256) {
        ITaskManager.TaskParams memory p = manager.getTask(taskId).params;
        ITaskManager.Submission memory s = manager.getSubmission(taskId, cycle, node);
        return AuditSampling.auditProbabilityBps(s.scoreAtSubmission, p.duesRounds, p.auditFloorBps, p.auditDecay);
    }

    /// @notice Whether `node`'s submission for `cycle` is sampled (false until the seed is fixed).
    function isSampled(uint256 taskId, uint256 cycle, address node) external view returns (bool) {
        ITaskManager.Cycle memory c = manager.getCycle(taskId, cycle);
        ITaskManager.Submission memory s = manager.getSubmission(taskId, cycle, node);
        if (s.root == bytes32(0) || c.seed == bytes32(0)) return false;
        return AuditSampling.isSampled(c.seed, taskId, cycle, node, auditProbabilityBps(taskId, cycle, node));
    }

    /// @notice Auditors assigned to `node`'s submission for `cycle` (a batched one must be
    /// materialized). Assignment indices run over the cycle's selection order: direct submitters,
    /// then batched entries; a batched auditor's address is not on-chain (only its batch's entries
    /// root) and is returned as address(0) — resolve it from the batch (chain action getCycleSubmitters).
    function auditorsOf(uint256 taskId, uint256 cycle, address node) external view returns (address[] memory auditors) {
        ITaskManager.Cycle memory c = manager.getCycle(taskId, cycle);
        ITaskManager.Submission memory s = manager.getSubmission(taskId, cycle, node);
        if (s.root == bytes32(0) || c.seed == bytes32(0)) return auditors;
        uint256 perSample = manager.getTask(taskId).params.auditorsPerSample;
        uint256 direct = c.submitters.length;
        uint256[] memory indices =
            AuditSampling.auditorIndices(c.seed, taskId, cycle, s.index, perSample, direct + c.batchedCount);
        auditors = new address[](indices.length);
        for (uint256 i = 0; i < indices.length; ++i) {
            if (indices[i] < direct) auditors[i] = c.submitters[indices[i]];
        }
    }

    /// @notice Cumulative selection weights of the cycle's submitters, in submission order.
    function cumulativeWeights(uint256 taskId, uint256 cycle) public view returns (uint256[] memory cumulative) {
        address[] memory submitters = manager.getCycle(taskId, cycle).submitters;
        cumulative = new uint256[](submitters.length);
        for (uint256 i = 0; i < submitters.length; ++i) {
            cumulative[i] = manager.getSubmission(taskId, cycle, submitters[i]).cumulativeWeight;
        }
    }

    /// @notice The node selected for distribution `attempt` of `cycle`, and its index in the
    /// cycle's selection order (direct submitters, then batched entries). When the draw falls on a
    /// batched entry the node is not known on-chain: returns (address(0), BATCHED_SELECTION);
    /// `selectionPoint` then locates it on the batched weight line.
    function selectedDistributor(uint256 taskId, uint256 cycle, uint256 attempt)
        external
        view
        returns (address node, uint256 index)
    {
        ITaskManager.Cycle memory c = manager.getCycle(taskId, cycle);
        if (c.seed == bytes32(0) || (c.submitters.length == 0 && c.batchedCount == 0)) return (address(0), 0);
        uint256[] memory cumulative = cumulativeWeights(taskId, cycle);
        if (c.batchedCount == 0) {
            index = DistributorSelection.select(c.seed, taskId, cycle, attempt, cumulative);
            return (c.submitters[index], index);
        }
        (uint256 point, uint256 directTotal,) = selectionPoint(taskId, cycle, attempt);
        if (point >= directTotal) return (address(0), BATCHED_SELECTION);
        index = DistributorSelection.indexAt(point, cumulative);
        node = c.submitters[index];
    }

    /// @notice Index returned by selectedDistributor when the draw falls on a batched entry.
    uint256 public constant BATCHED_SELECTION = type(uint256).max;

    /// @notice The attempt's draw on the cycle's whole weight line, the direct line's total and the
    /// whole total. A point ≥ directTotal selects the batched entry whose interval on the batched
    /// line contains point − directTotal.
    function selectionPoint(uint256 taskId, uint256 cycle, uint256 attempt)
        public
        view
        returns (uint256 point, uint256 directTotal, uint256 total)
    {
        ITaskManager.Cycle memory c = manager.getCycle(taskId, cycle);
        uint256 direct = c.submitters.length;
        directTotal = direct == 0 ? 0 : manager.getSubmission(taskId, cycle, c.submitters[direct - 1]).cumulativeWeight;
        total = directTotal + c.batchedWeight;
        if (c.seed == bytes32(0) || total == 0) return (0, directTotal, total);
        point = DistributorSelection.drawPoint(c.seed, taskId, cycle, attempt, total);
    }
}
