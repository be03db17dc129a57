// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {ICoopTaskManager} from "../../src/interfaces/ICoopTaskManager.sol";
import {DeployTaskManager} from "./DeployTaskManager.sol";
import {TaskLens} from "../../src/TaskLens.sol";
import {ITaskManager} from "../../src/interfaces/ITaskManager.sol";
import {TestBase} from "./TestBase.sol";
import {TestERC20} from "./TestERC20.sol";
import {MerkleBuilder} from "./MerkleBuilder.sol";
import {DefaultTaskParams} from "./DefaultTaskParams.sol";

/// @dev Deploys a manager, a lens, a stake token and a (different) reward token, and offers the
/// steps of a round as helpers so each test reads as the protocol story it checks.
abstract contract TaskManagerFixture is TestBase {
    ICoopTaskManager internal manager;
    TaskLens internal lens;
    TestERC20 internal stakeToken;
    TestERC20 internal rewardToken;

    address internal creator = address(0xC0FFEE);
    address internal alice = address(0xA11CE);
    address internal bob = address(0xB0B);
    address internal carol = address(0xCA201);
    address internal dave = address(0xDA7E);

    uint256 internal constant MIN_STAKE = DefaultTaskParams.MIN_STAKE;
    uint256 internal constant STAKE = 1_000e18;
    uint256 internal constant BOUNTY_PER_ROUND = DefaultTaskParams.BOUNTY_PER_ROUND;
    uint256 internal constant T0 = 1_000_000;

    function setUp() public virtual {
        vm.warp(T0);
        stakeToken = new TestERC20("Stake", "STK");
        rewardToken = new TestERC20("Reward", "RWD");
        manager = DeployTaskManager.deploy();
        lens = new TaskLens(manager);
        vm.label(address(manager), "TaskManager");
        vm.label(alice, "alice");
        vm.label(bob, "bob");
        vm.label(carol, "carol");
        vm.label(dave, "dave");
    }

    function defaultParams() internal view returns (ITaskManager.TaskParams memory) {
        return DefaultTaskParams.build(IERC20(address(stakeToken)), IERC20(address(rewardToken)));
    }

    function createTask(ITaskManager.TaskParams memory p, uint256 bounty) internal returns (uint256 taskId) {
        rewardToken.mint(creator, bounty);
        vm.startPrank(creator);
        rewardToken.approve(address(manager), bounty);
        taskId = manager.createTask(p, bounty);
        vm.stopPrank();
    }

    function createDefaultTask() internal returns (uint256) {
        return createTask(defaultParams(), 10 * BOUNTY_PER_ROUND);
    }

    function join(uint256 taskId, address node, uint256 amount) internal {
        stakeToken.mint(node, amount);
        vm.startPrank(node);
        stakeToken.approve(address(manager), amount);
        manager.stake(taskId, amount);
        manager.registerNode(string.concat("/ip4/127.0.0.1/tcp/4001/p2p/", vm.toString(node)));
        vm.stopPrank();
    }

    function joinAll(uint256 taskId) internal {
        join(taskId, alice, STAKE);
        join(taskId, bob, STAKE);
        join(taskId, carol, STAKE);
        join(taskId, dave, STAKE);
    }

    function nodes4() internal view returns (address[] memory list) {
        list = new address[](4);
        list[0] = alice;
        list[1] = bob;
        list[2] = carol;
        list[3] = dave;
    }

    function roundStart(uint256 taskId, uint256 round) internal view returns (uint256) {
        return manager.roundStart(taskId, round);
    }

    function warpToSubmission(uint256 taskId, uint256 cycle) internal {
        vm.warp(roundStart(taskId, cycle + 1));
    }

    function warpPastSubmission(uint256 taskId, uint256 cycle) internal {
        vm.warp(roundStart(taskId, cycle + 1) + manager.getTask(taskId).params.submissionWindow);
    }

    function warpToDistribution(uint256 taskId, uint256 cycle) internal {
        vm.warp(roundStart(taskId, cycle + 2));
    }

    function rootOf(address node, uint256 cycle) internal pure returns (bytes32) {
        return keccak256(abi.encode("work", node, cycle));
    }

    function submitAs(uint256 taskId, address node, uint256 cycle) internal {
        vm.prank(node);
        manager.submit(taskId, cycle, rootOf(node, cycle));
    }

    function submitAll(uint256 taskId, uint256 cycle, address[] memory list) internal {
        for (uint256 i = 0; i < list.length; ++i) submitAs(taskId, list[i], cycle);
    }

    function raise(uint256 taskId, uint256 cycle, address accuser, address accused) internal returns (uint256 auditId) {
        vm.prank(accuser);
        auditId = manager.raiseAudit(taskId, cycle, accused, keccak256("evidence"));
    }

    function voteAs(uint256 auditId, address voter, ITaskManager.VoteSide side) internal {
        vm.prank(voter);
        manager.vote(auditId, side);
    }

    function resolveAfterVote(uint256 auditId) internal {
        vm.warp(manager.getAudit(auditId).deadline);
        manager.resolveAudit(auditId);
    }

    // ─── distribution helpers ───

    struct Payout {
        address node;
        uint256 reward;
        uint256 bonus;
    }

    function leavesOf(uint256 taskId, uint256 cycle, Payout[] memory payouts) internal view returns (bytes32[] memory leaves) {
        leaves = new bytes32[](payouts.length);
        for (uint256 i = 0; i < payouts.length; ++i) {
            leaves[i] = manager.distributionLeaf(taskId, cycle, payouts[i].node, payouts[i].reward, payouts[i].bonus);
        }
    }

    /// @dev Equal split of the cycle budget and bonus among `list`.
    function equalPayouts(uint256 taskId, uint256 cycle, address[] memory list) internal view returns (Payout[] memory payouts) {
        ITaskManager.Cycle memory c = manager.getCycle(taskId, cycle);
        payouts = new Payout[](list.length);
        for (uint256 i = 0; i < list.length; ++i) {
            payouts[i] = Payout(list[i], c.budget / list.length, c.bonus / list.length);
        }
    }

    function totals(Payout[] memory payouts) internal pure returns (uint256 reward, uint256 bonus) {
        for (uint256 i = 0; i < payouts.length; ++i) {
            reward += payouts[i].reward;
            bonus += payouts[i].bonus;
        }
    }

    /// @dev Posts `payouts` as the currently selected distributor; returns the poster.
    function postAsSelected(uint256 taskId, uint256 cycle, Payout[] memory payouts) internal returns (address poster) {
        manager.recordSeed(taskId, cycle);
        uint256 attempt = manager.currentDistributionAttempt(taskId, cycle);
        uint256 index;
        (poster, index) = lens.selectedDistributor(taskId, cycle, attempt);
        _postAs(poster, index, taskId, cycle, payouts);
    }

    function _postAs(address poster, uint256 index, uint256 taskId, uint256 cycle, Payout[] memory payouts) private {
        (uint256 rewardTotal, uint256 bonusTotal) = totals(payouts);
        bytes32 root = MerkleBuilder.root(leavesOf(taskId, cycle, payouts));
        bytes32 head = scaleHeadOf(taskId, cycle, poster);
        vm.prank(poster);
        manager.postDistribution(taskId, cycle, index, root, keccak256("list"), rewardTotal, bonusTotal, head);
    }

    /// @dev A stand-in SCALE head digest, distinct per (task, cycle, poster).
    function scaleHeadOf(uint256 taskId, uint256 cycle, address poster) internal pure returns (bytes32) {
        return sha256(abi.encode("scale head", taskId, cycle, poster));
    }

    function claimRequest(uint256 taskId, uint256 cycle, Payout[] memory payouts, uint256 i)
        internal
        view
        returns (ITaskManager.ClaimRequest memory request)
    {
        request.cycle = cycle;
        request.reward = payouts[i].reward;
        request.bonus = payouts[i].bonus;
        request.proof = MerkleBuilder.proof(leavesOf(taskId, cycle, payouts), i);
    }

    function claimOne(uint256 taskId, uint256 cycle, Payout[] memory payouts, uint256 i) internal {
        ITaskManager.ClaimRequest[] memory requests = new ITaskManager.ClaimRequest[](1);
        requests[0] = claimRequest(taskId, cycle, payouts, i);
        manager.claimRewards(taskId, payouts[i].node, requests);
    }

    /// @dev Runs one clean cycle for `list`: submit, post an equal split, finalize.
    function runCleanCycle(uint256 taskId, uint256 cycle, address[] memory list) internal returns (Payout[] memory payouts) {
        warpToSubmission(taskId, cycle);
        submitAll(taskId, cycle, list);
        warpToDistribution(taskId, cycle);
        payouts = equalPayouts(taskId, cycle, list);
        postAsSelected(taskId, cycle, payouts);
        vm.warp(block.timestamp + manager.getTask(taskId).params.distributionAuditWindow);
        manager.finalizeDistribution(taskId, cycle);
    }
}
