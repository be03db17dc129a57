// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {ITaskManager} from "../src/interfaces/ITaskManager.sol";
import {TaskManagerFixture} from "./utils/TaskManagerFixture.sol";

contract TaskManagerStakeTest is TaskManagerFixture {
    uint256 internal taskId;

    function setUp() public override {
        super.setUp();
        taskId = createDefaultTask();
    }

    // ─── registerNode ───

    function test_registerNode_storesAddress() public {
        vm.prank(alice);
        vm.expectEmit();
        emit ITaskManager.NodeRegistered(alice, "/ip4/127.0.0.1/tcp/9000/p2p/12D3KooW");
        manager.registerNode("/ip4/127.0.0.1/tcp/9000/p2p/12D3KooW");
        assertEq(keccak256(bytes(manager.p2pAddressOf(alice))), keccak256("/ip4/127.0.0.1/tcp/9000/p2p/12D3KooW"), "stored");
    }

    function test_registerNode_revertsOnEmpty() public {
        vm.expectRevert(ITaskManager.EmptyP2pAddress.selector);
        manager.registerNode("");
    }

    // ─── stake ───

    function test_stake_addsToActiveStake() public {
        stakeToken.mint(alice, 300);
        vm.startPrank(alice);
        stakeToken.approve(address(manager), 300);
        manager.stake(taskId, 100);
        vm.expectEmit();
        emit ITaskManager.Staked(taskId, alice, 200, 300);
        manager.stake(taskId, 200);
        vm.stopPrank();
        assertEq(manager.getNode(taskId, alice).stake, 300, "stake");
        assertEq(stakeToken.balanceOf(address(manager)), 300, "held");
    }

    function test_stake_revertsOnZero() public {
        vm.expectRevert(ITaskManager.ZeroAmount.selector);
        manager.stake(taskId, 0);
    }

    function test_stake_revertsOnUnknownTask() public {
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.TaskNotFound.selector, 99));
        manager.stake(99, 1);
    }

    function test_stake_revertsWithoutAllowance() public {
        stakeToken.mint(alice, 100);
        vm.prank(alice);
        vm.expectRevert();
        manager.stake(taskId, 100);
    }

    // ─── requestUnstake ───

    function test_requestUnstake_movesToUnbonding() public {
        join(taskId, alice, STAKE);
        vm.warp(roundStart(taskId, 2) + 5);
        vm.prank(alice);
        vm.expectEmit();
        emit ITaskManager.UnstakeRequested(taskId, alice, 400e18, 2);
        manager.requestUnstake(taskId, 400e18);
        ITaskManager.NodeState memory n = manager.getNode(taskId, alice);
        assertEq(n.stake, 600e18, "active");
        assertEq(n.unbonding, 400e18, "unbonding");
        assertEq(n.unbondingRound, 2, "round");
    }

    function test_requestUnstake_revertsOnZero() public {
        join(taskId, alice, STAKE);
        vm.prank(alice);
        vm.expectRevert(ITaskManager.ZeroAmount.selector);
        manager.requestUnstake(taskId, 0);
    }

    function test_requestUnstake_revertsOverStake() public {
        join(taskId, alice, STAKE);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.InsufficientStake.selector, STAKE, STAKE + 1));
        manager.requestUnstake(taskId, STAKE + 1);
    }

    // ─── withdrawStake ───

    function test_withdrawStake_afterUnbondingRounds() public {
        join(taskId, alice, STAKE);
        vm.prank(alice);
        manager.requestUnstake(taskId, STAKE);
        vm.warp(roundStart(taskId, 3));
        vm.prank(alice);
        manager.withdrawStake(taskId);
        assertEq(stakeToken.balanceOf(alice), STAKE, "returned");
        assertEq(manager.getNode(taskId, alice).unbonding, 0, "cleared");
    }

    function test_withdrawStake_revertsBeforeUnbondingEnds() public {
        join(taskId, alice, STAKE);
        vm.prank(alice);
        manager.requestUnstake(taskId, STAKE);
        vm.warp(roundStart(taskId, 3) - 1);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.StakeLocked.selector, taskId, alice, 3));
        manager.withdrawStake(taskId);
    }

    function test_withdrawStake_staysLockedWhileSubmittedRoundsAreAuditable() public {
        joinAll(taskId);
        warpToSubmission(taskId, 4); // round 5
        submitAs(taskId, alice, 4);
        vm.prank(alice);
        manager.requestUnstake(taskId, STAKE);
        // Request in round 5 → 8; last cycle 4 stays re-openable while round <= 4 + 3 → 8.
        assertEq(manager.unbondedAtRound(taskId, alice), 8, "unlock round");
        vm.warp(roundStart(taskId, 8) - 1);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.StakeLocked.selector, taskId, alice, 8));
        manager.withdrawStake(taskId);
        vm.warp(roundStart(taskId, 8));
        vm.prank(alice);
        manager.withdrawStake(taskId);
    }

    function test_withdrawStake_revertsWithOpenCases() public {
        joinAll(taskId);
        warpToSubmission(taskId, 0);
        submitAs(taskId, alice, 0);
        vm.prank(alice);
        manager.requestUnstake(taskId, STAKE);
        warpPastSubmission(taskId, 0);
        raise(taskId, 0, bob, alice);
        vm.warp(roundStart(taskId, 50));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.StakeHasOpenCases.selector, taskId, alice, 1));
        manager.withdrawStake(taskId);
    }

    function test_withdrawStake_unbondingStakeIsSlashedThenWithdrawable() public {
        joinAll(taskId);
        warpToSubmission(taskId, 0);
        submitAs(taskId, alice, 0);
        vm.prank(alice);
        manager.requestUnstake(taskId, STAKE); // leaving right after submitting does not escape audits
        warpPastSubmission(taskId, 0);
        uint256 auditId = raise(taskId, 0, bob, alice);
        resolveAfterVote(auditId);
        assertEq(manager.getNode(taskId, alice).unbonding, STAKE / 2, "slashed while unbonding");
        uint256 unlockRound = manager.unbondedAtRound(taskId, alice);
        vm.warp(roundStart(taskId, unlockRound));
        vm.prank(alice);
        manager.withdrawStake(taskId);
        assertEq(stakeToken.balanceOf(alice), STAKE / 2, "only what survived the slash");
    }

    function test_views_roundClock() public {
        assertEq(manager.currentRound(taskId), 0, "round 0 at creation");
        assertEq(manager.roundStart(taskId, 3), T0 + 300, "round 3 start");
        vm.warp(T0 + 299);
        assertEq(manager.currentRound(taskId), 2, "round 2");
        vm.warp(T0 + 300);
        assertEq(manager.currentRound(taskId), 3, "round 3");
    }

    function test_withdrawStake_revertsWhenNothingUnbonding() public {
        join(taskId, alice, STAKE);
        vm.prank(alice);
        vm.expectRevert(ITaskManager.NothingToWithdraw.selector);
        manager.withdrawStake(taskId);
    }

    function testFuzz_stakeUnstakeWithdraw_conservesTokens(uint256 stakeAmount, uint256 unstakeAmount, uint256 waitRounds)
        public
    {
        stakeAmount = bound(stakeAmount, 1, 1e36);
        unstakeAmount = bound(unstakeAmount, 1, stakeAmount);
        waitRounds = bound(waitRounds, 0, 10);
        stakeToken.mint(alice, stakeAmount);
        vm.startPrank(alice);
        stakeToken.approve(address(manager), stakeAmount);
        manager.stake(taskId, stakeAmount);
        manager.requestUnstake(taskId, unstakeAmount);
        vm.warp(roundStart(taskId, waitRounds));
        if (waitRounds < 3) {
            vm.expectRevert(abi.encodeWithSelector(ITaskManager.StakeLocked.selector, taskId, alice, 3));
            manager.withdrawStake(taskId);
        } else {
            manager.withdrawStake(taskId);
            assertEq(stakeToken.balanceOf(alice), unstakeAmount, "withdrawn");
        }
        vm.stopPrank();
        ITaskManager.NodeState memory n = manager.getNode(taskId, alice);
        assertEq(stakeToken.balanceOf(alice) + n.stake + n.unbonding, stakeAmount, "nothing created or lost");
        assertEq(stakeToken.balanceOf(address(manager)), n.stake + n.unbonding, "manager holds exactly the stake");
    }

    function testFuzz_slash_takesActiveThenUnbonding(uint256 active, uint256 unbonding, uint16 slashBps) public {
        active = bound(active, MIN_STAKE, 1e30);
        unbonding = bound(unbonding, 0, 1e30);
        slashBps = uint16(bound(slashBps, 1, 10_000));
        ITaskManager.TaskParams memory p = defaultParams();
        p.slashBps = slashBps;
        uint256 t = createTask(p, BOUNTY_PER_ROUND);
        join(t, alice, active + unbonding);
        join(t, bob, STAKE);
        if (unbonding > 0) {
            vm.prank(alice);
            manager.requestUnstake(t, unbonding);
        }
        // alice must still be eligible to submit; she keeps `active`.
        warpToSubmission(t, 0);
        submitAs(t, alice, 0);
        warpPastSubmission(t, 0);
        uint256 auditId = raise(t, 0, bob, alice);
        uint256 bobBefore = stakeToken.balanceOf(bob);
        resolveAfterVote(auditId);
        uint256 expected = ((active + unbonding) * slashBps) / 10_000;
        ITaskManager.NodeState memory n = manager.getNode(t, alice);
        assertEq(active + unbonding - n.stake - n.unbonding, expected, "slashed exactly slashBps of total stake");
        if (expected <= active) assertEq(n.unbonding, unbonding, "unbonding untouched while active covers it");
        else assertEq(n.stake, 0, "active emptied first");
        // The auditor got winnerBps; the rest (no other voters) returned to the cycle's bonus.
        uint256 toWinner = (expected * p.winnerBps) / 10_000;
        assertEq(stakeToken.balanceOf(bob) - bobBefore, toWinner, "auditor share");
        assertEq(manager.getCycle(t, 0).bonus, expected - toWinner, "remainder to the cycle pool");
    }
}
