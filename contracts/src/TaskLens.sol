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

    /// @notice Auditors assigned to `node`'s submission for `cycle`.
    function auditorsOf(uint256 taskId, uint256 cycle, address node) external view returns (address[] memory auditors) {
        ITaskManager.Cycle memory c = manager.getCycle(taskId, cycle);
        ITaskManager.Submission memory s = manager.getSubmission(taskId, cycle, node);
        if (s.root == bytes32(0) || c.seed == bytes32(0)) return auditors;
        uint256 perSample = manager.getTask(taskId).params.auditorsPerSample;
        uint256[] memory indices =
            AuditSampling.auditorIndices(c.seed, taskId, cycle, s.index, perSample, c.submitters.length);
        auditors = new address[](indices.length);
        for (uint256 i = 0; i < indices.length; ++i) {
            auditors[i] = c.submitters[indices[i]];
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

    /// @notice The node selected for distribution `attempt` of `cycle`, and its submitter index.
    function selectedDistributor(uint256 taskId, uint256 cycle, uint256 attempt)
        external
        view
        returns (address node, uint256 index)
    {
        ITaskManager.Cycle memory c = manager.getCycle(taskId, cycle);
        if (c.seed == bytes32(0) || c.submitters.length == 0) return (address(0), 0);
        index = DistributorSelection.select(c.seed, taskId, cycle, attempt, cumulativeWeights(taskId, cycle));
        node = c.submitters[index];
    }
}
