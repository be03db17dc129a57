// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {TaskManagerBase} from "./TaskManagerBase.sol";

/// @title TaskManagerExtension
/// @notice The second code half of TaskManager: views and batched submissions. Never used at its
/// own address: TaskManager's fallback runs this code by delegatecall on TaskManager's storage.
/// @dev Declares no state (see TaskManagerBase). State-changing functions refuse direct calls.
contract TaskManagerExtension is TaskManagerBase {
    address private immutable _self = address(this);

    error NotDelegated();

    /// @dev State-changing entry points only run on TaskManager's storage.
    modifier onlyDelegated() {
        if (address(this) == _self) revert NotDelegated();
        _;
    }

    function MIN_UNBONDING_ROUNDS() external pure returns (uint256) {
        return MIN_UNBONDING_ROUNDS_;
    }

    function taskCount() external view returns (uint256) {
        return _taskCount;
    }

    function auditCount() external view returns (uint256) {
        return _auditCount;
    }

    function claimed(uint256 taskId, uint256 cycle, address node) external view returns (bool) {
        return _claimed[taskId][cycle][node];
    }

    function p2pAddressOf(address node) external view returns (string memory) {
        return _p2pAddressOf[node];
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @notice Leaf of a distribution list: OpenZeppelin's standard double-hashed leaf of
    /// abi.encode(taskId, cycle, node, reward, bonus) (the leaf format of the npm merkle-tree library by OpenZeppelin).
    function distributionLeaf(uint256 taskId, uint256 cycle, address node, uint256 reward, uint256 bonus)
        external
        pure
        returns (bytes32)
    {
        return _distributionLeaf(taskId, cycle, node, reward, bonus);
    }

    function getTask(uint256 taskId) external view returns (Task memory) {
        return _task(taskId);
    }

    function getNode(uint256 taskId, address node) external view returns (NodeState memory) {
        return _nodes[taskId][node];
    }

    function getSubmission(uint256 taskId, uint256 cycle, address node) external view returns (Submission memory) {
        return _submissions[taskId][cycle][node];
    }

    function getCycle(uint256 taskId, uint256 cycle) external view returns (Cycle memory) {
        return _cycles[taskId][cycle];
    }

    function getAudit(uint256 auditId) external view returns (Audit memory) {
        return _audit(auditId);
    }

    function getVote(uint256 auditId, address voter) external view returns (Vote memory) {
        return _votes[auditId][voter];
    }

    /// @notice Stake token of the voters' pool of `auditId` not yet claimed.
    function votersPoolRemaining(uint256 auditId) external view returns (uint256) {
        return _audits[auditId].votersPool - _votersPaid[auditId];
    }

    function currentRound(uint256 taskId) external view returns (uint256) {
        return _currentRound(_task(taskId));
    }

    function roundStart(uint256 taskId, uint256 round) external view returns (uint256) {
        return _roundStart(_task(taskId), round);
    }

    /// @notice First round at which `node`'s unbonding stake may be withdrawn (other conditions:
    /// no open cases and no re-opened rounds).
    function unbondedAtRound(uint256 taskId, address node) external view returns (uint256) {
        return _unbondedAtRound(taskId, node);
    }

    /// @notice The attempt whose posting window is open now (lazy: unposted turns time out).
    function currentDistributionAttempt(uint256 taskId, uint256 cycle) external view returns (uint256) {
        Task storage task = _task(taskId);
        return _currentAttempt(task, _cycles[taskId][cycle], cycle);
    }

}
