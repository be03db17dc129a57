// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {ITaskManager} from "../src/interfaces/ITaskManager.sol";
import {TaskManagerFixture} from "./utils/TaskManagerFixture.sol";

contract TaskManagerSubmitTest is TaskManagerFixture {
    uint256 internal taskId;

    function setUp() public override {
        super.setUp();
        taskId = createDefaultTask();
        joinAll(taskId);
    }

    // ─── submit ───

    function test_submit_recordsRootWeightAndOpensCycle() public {
        warpToSubmission(taskId, 0);
        vm.prank(alice);
        vm.expectEmit();
        emit ITaskManager.CycleOpened(taskId, 0, BOUNTY_PER_ROUND, 0);
        manager.submit(taskId, 0, rootOf(alice, 0));
        submitAs(taskId, bob, 0);
        ITaskManager.Cycle memory c = manager.getCycle(taskId, 0);
        assertEq(c.submitters.length, 2, "submitters");
        assertEq(c.submitters[1], bob, "order");
        assertEq(manager.getSubmission(taskId, 0, alice).cumulativeWeight, STAKE, "new node weight = stake");
        assertEq(manager.getSubmission(taskId, 0, bob).cumulativeWeight, 2 * STAKE, "cumulative");
        assertEq(c.budget, BOUNTY_PER_ROUND, "bounty reserved once");
        assertEq(manager.getTask(taskId).escrow, 9 * BOUNTY_PER_ROUND, "escrow");
        assertEq(manager.getTask(taskId).cyclesInFlight, 1, "in flight");
        ITaskManager.Submission memory s = manager.getSubmission(taskId, 0, bob);
        assertEq(s.root, rootOf(bob, 0), "root");
        assertEq(s.index, 1, "index");
    }

    function test_submit_revertsEarly() public {
        uint256 opensAt = roundStart(taskId, 1);
        vm.warp(opensAt - 1);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.OutsideSubmissionWindow.selector, 0, opensAt - 1, opensAt, opensAt + 30));
        manager.submit(taskId, 0, rootOf(alice, 0));
    }

    function test_submit_revertsLate() public {
        uint256 opensAt = roundStart(taskId, 1);
        vm.warp(opensAt + 30);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.OutsideSubmissionWindow.selector, 0, opensAt + 30, opensAt, opensAt + 30));
        manager.submit(taskId, 0, rootOf(alice, 0));
    }

    function test_submit_revertsForWrongCycle() public {
        warpToSubmission(taskId, 0); // round 1: only cycle 0 is accepted
        uint256 opensAt = roundStart(taskId, 2);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.OutsideSubmissionWindow.selector, 1, block.timestamp, opensAt, opensAt + 30));
        manager.submit(taskId, 1, rootOf(alice, 1));
    }

    function test_submit_revertsOnDuplicate() public {
        warpToSubmission(taskId, 0);
        submitAs(taskId, alice, 0);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.AlreadySubmitted.selector, taskId, 0, alice));
        manager.submit(taskId, 0, keccak256("other"));
    }

    function test_submit_revertsWhenUnstaked() public {
        address eve = address(0xE5E);
        vm.prank(eve);
        manager.registerNode("/ip4/127.0.0.1/tcp/1/p2p/eve");
        warpToSubmission(taskId, 0);
        vm.prank(eve);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.InsufficientStake.selector, 0, MIN_STAKE));
        manager.submit(taskId, 0, rootOf(eve, 0));
    }

    function test_submit_revertsBelowMinStakeAfterUnstake() public {
        vm.prank(alice);
        manager.requestUnstake(taskId, STAKE - MIN_STAKE + 1);
        warpToSubmission(taskId, 0);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.InsufficientStake.selector, MIN_STAKE - 1, MIN_STAKE));
        manager.submit(taskId, 0, rootOf(alice, 0));
    }

    function test_submit_revertsWhenNotRegistered() public {
        address eve = address(0xE5E);
        stakeToken.mint(eve, STAKE);
        vm.startPrank(eve);
        stakeToken.approve(address(manager), STAKE);
        manager.stake(taskId, STAKE);
        warpToSubmission(taskId, 0);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.NotRegistered.selector, eve));
        manager.submit(taskId, 0, rootOf(eve, 0));
        vm.stopPrank();
    }

    function test_submit_revertsWhenWeightOverflowsUint128() public {
        // Stake fits uint128; the cycle's cumulative weight may not exceed it either.
        address whale = address(0x3A1E);
        address orca = address(0x0CA);
        join(taskId, whale, uint256(1) << 127);
        join(taskId, orca, uint256(1) << 127);
        warpToSubmission(taskId, 0);
        submitAs(taskId, whale, 0);
        vm.prank(orca);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.WeightOverflow.selector, uint256(type(uint128).max) + 1));
        manager.submit(taskId, 0, rootOf(orca, 0));
    }

    function test_stake_revertsAboveUint128() public {
        address whale = address(0x3A1E);
        uint256 amount = uint256(type(uint128).max) + 1;
        stakeToken.mint(whale, amount);
        vm.startPrank(whale);
        stakeToken.approve(address(manager), amount);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.StakeOverflow.selector, amount));
        manager.stake(taskId, amount);
        vm.stopPrank();
    }

    function test_submit_revertsOnEmptyRoot() public {
        warpToSubmission(taskId, 0);
        vm.prank(alice);
        vm.expectRevert(ITaskManager.EmptyRoot.selector);
        manager.submit(taskId, 0, bytes32(0));
    }

    function test_submit_settlesPreviousRoundAsPassed() public {
        warpToSubmission(taskId, 0);
        submitAs(taskId, alice, 0);
        warpToSubmission(taskId, 1);
        vm.expectEmit();
        emit ITaskManager.ReputationUpdated(taskId, alice, 1, 0, 1);
        submitAs(taskId, alice, 1);
        ITaskManager.NodeState memory n = manager.getNode(taskId, alice);
        assertEq(n.passed, 1, "passed");
        assertEq(n.score, 1, "score");
        assertTrue(manager.getSubmission(taskId, 0, alice).settled, "settled");
        // Weight for cycle 1 already includes the reputation factor of score 1: 1 + 1/17.
        assertEq(manager.getSubmission(taskId, 1, alice).cumulativeWeight, (STAKE * (1e18 + uint256(1e18) / 17)) / 1e18, "weight grows with reputation");
    }

    // ─── recordSeed ───

    function test_recordSeed_fixesSeedOnceAfterSubmissionsClose() public {
        warpToSubmission(taskId, 0);
        submitAs(taskId, alice, 0);
        warpPastSubmission(taskId, 0);
        vm.prevrandao(bytes32(uint256(42)));
        bytes32 seed = manager.recordSeed(taskId, 0);
        assertTrue(seed != bytes32(0), "seed set");
        vm.prevrandao(bytes32(uint256(43)));
        vm.roll(block.number + 5);
        assertEq(manager.recordSeed(taskId, 0), seed, "seed never changes once fixed");
        assertEq(manager.getCycle(taskId, 0).seed, seed, "stored");
    }

    function test_recordSeed_revertsWhileSubmissionsOpen() public {
        warpToSubmission(taskId, 0);
        uint256 availableAt = roundStart(taskId, 1) + 30;
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.SeedNotYetAvailable.selector, taskId, 0, availableAt));
        manager.recordSeed(taskId, 0);
    }

    function test_recordSeed_revertsOnUnknownTask() public {
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.TaskNotFound.selector, 5));
        manager.recordSeed(5, 0);
    }

    // ─── settleReputation ───

    function test_settleReputation_countsAPassedRound() public {
        warpToSubmission(taskId, 0);
        submitAs(taskId, alice, 0);
        vm.warp(roundStart(taskId, 1) + 50);
        manager.settleReputation(taskId, 0, alice);
        assertEq(manager.getNode(taskId, alice).passed, 1, "passed");
        manager.settleReputation(taskId, 0, alice); // idempotent
        assertEq(manager.getNode(taskId, alice).passed, 1, "counted once");
    }

    function test_settleReputation_revertsDuringAuditWindow() public {
        warpToSubmission(taskId, 0);
        submitAs(taskId, alice, 0);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.OutsideAuditWindow.selector, 0, block.timestamp, roundStart(taskId, 1) + 50));
        manager.settleReputation(taskId, 0, alice);
    }

    function test_settleReputation_skipsConvictedSubmission() public {
        warpToSubmission(taskId, 0);
        submitAs(taskId, alice, 0);
        warpPastSubmission(taskId, 0);
        uint256 auditId = raise(taskId, 0, bob, alice);
        resolveAfterVote(auditId);
        manager.settleReputation(taskId, 0, alice);
        ITaskManager.NodeState memory n = manager.getNode(taskId, alice);
        assertEq(n.passed, 0, "not passed");
        assertEq(n.failed, 1, "failed");
    }
}
