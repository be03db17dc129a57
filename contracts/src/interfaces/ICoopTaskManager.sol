// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {ITaskManager} from "./ITaskManager.sol";

/// @title ICoopTaskManager
/// @notice Every function callable at a TaskManager address: TaskManager's own and those its
/// fallback serves from TaskManagerExtension. Callers (TaskLens, tests, other contracts) use this
/// type; the TS ABI generator checks that it lists exactly the union of the two contracts' ABIs.
interface ICoopTaskManager is ITaskManager {
    // ─── TaskManager ───
    function EXTENSION() external view returns (address);
    function createTask(TaskParams calldata params, uint256 bounty) external returns (uint256 taskId);
    function fundTask(uint256 taskId, uint256 amount) external;
    function stopTask(uint256 taskId) external;
    function withdrawRemainingBounty(uint256 taskId) external;
    function registerNode(string calldata p2pAddress) external;
    function stake(uint256 taskId, uint256 amount) external;
    function requestUnstake(uint256 taskId, uint256 amount) external;
    function withdrawStake(uint256 taskId) external;
    function submit(uint256 taskId, uint256 cycle, bytes32 root) external;
    function recordSeed(uint256 taskId, uint256 cycle) external returns (bytes32);
    function settleReputation(uint256 taskId, uint256 cycle, address node) external;
    function raiseAudit(uint256 taskId, uint256 cycle, address accused, bytes32 evidenceCid) external returns (uint256 auditId);
    function challengeDistribution(uint256 taskId, uint256 cycle, bytes32 evidenceCid) external returns (uint256 auditId);
    function vote(uint256 auditId, VoteSide side) external;
    function resolveAudit(uint256 auditId) external;
    function claimVoteReward(uint256 auditId) external;
    function postDistribution(
        uint256 taskId,
        uint256 cycle,
        uint256 submitterIndex,
        bytes32 merkleRoot,
        bytes32 listCid,
        uint256 rewardTotal,
        uint256 bonusTotal,
        bytes32 scaleHead
    ) external;
    function finalizeDistribution(uint256 taskId, uint256 cycle) external;
    function failDistribution(uint256 taskId, uint256 cycle) external;
    function claimRewards(uint256 taskId, address account, ClaimRequest[] calldata claims) external;

    // ─── TaskManagerExtension (through the fallback) ───
    function submitBatch(uint256 taskId, uint256 cycle, SignedSubmission[] calldata entries) external returns (uint256 batchIndex);
    function materializeSubmission(
        uint256 taskId,
        uint256 cycle,
        uint256 batchIndex,
        BatchedEntry calldata entry,
        bytes32[] calldata proof
    ) external returns (uint256 index);
    function SUBMISSION_TYPEHASH() external view returns (bytes32);
    function submissionDigest(uint256 taskId, uint256 cycle, bytes32 root) external view returns (bytes32);
    function batchEntryLeaf(BatchedEntry calldata entry) external pure returns (bytes32);
    function getBatch(uint256 taskId, uint256 cycle, uint256 batchIndex) external view returns (Batch memory);
    function hasSubmittedInCycle(uint256 taskId, uint256 cycle, address node) external view returns (bool);
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        );
    function MIN_UNBONDING_ROUNDS() external pure returns (uint256);
    function taskCount() external view returns (uint256);
    function auditCount() external view returns (uint256);
    function claimed(uint256 taskId, uint256 cycle, address node) external view returns (bool);
    function p2pAddressOf(address node) external view returns (string memory);
    function distributionLeaf(uint256 taskId, uint256 cycle, address node, uint256 reward, uint256 bonus)
        external
        pure
        returns (bytes32);
    function getTask(uint256 taskId) external view returns (Task memory);
    function getNode(uint256 taskId, address node) external view returns (NodeState memory);
    function getSubmission(uint256 taskId, uint256 cycle, address node) external view returns (Submission memory);
    function getCycle(uint256 taskId, uint256 cycle) external view returns (Cycle memory);
    function getAudit(uint256 auditId) external view returns (Audit memory);
    function getVote(uint256 auditId, address voter) external view returns (Vote memory);
    function votersPoolRemaining(uint256 auditId) external view returns (uint256);
    function currentRound(uint256 taskId) external view returns (uint256);
    function roundStart(uint256 taskId, uint256 round) external view returns (uint256);
    function unbondedAtRound(uint256 taskId, address node) external view returns (uint256);
    function currentDistributionAttempt(uint256 taskId, uint256 cycle) external view returns (uint256);
}
