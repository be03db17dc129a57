// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ITaskManager} from "../src/interfaces/ITaskManager.sol";
import {TaskManagerFixture} from "./utils/TaskManagerFixture.sol";
import {FeeOnTransferERC20} from "./utils/TestERC20.sol";

contract TaskManagerTasksTest is TaskManagerFixture {
    // ─── createTask ───

    function test_createTask_escrowsBountyAndStoresParams() public {
        uint256 taskId = createDefaultTask();
        ITaskManager.Task memory task = manager.getTask(taskId);
        assertEq(taskId, 1, "first task id");
        assertEq(task.creator, creator, "creator");
        assertEq(task.escrow, 10 * BOUNTY_PER_ROUND, "escrow");
        assertEq(task.startTime, T0, "start");
        assertEq(rewardToken.balanceOf(address(manager)), 10 * BOUNTY_PER_ROUND, "held");
        assertEq(task.params.programCid, keccak256("program"), "program");
    }

    function test_createTask_emitsTaskCreated() public {
        ITaskManager.TaskParams memory p = defaultParams();
        vm.expectEmit();
        emit ITaskManager.TaskCreated(1, address(this), p.programCid, address(stakeToken), address(rewardToken), p.bountyPerRound, uint64(T0));
        manager.createTask(p, 0);
    }

    function test_createTask_withoutBounty() public {
        vm.prank(creator);
        uint256 taskId = manager.createTask(defaultParams(), 0);
        assertEq(manager.getTask(taskId).escrow, 0, "no escrow");
    }

    function test_createTask_revertsOnZeroToken() public {
        ITaskManager.TaskParams memory p = defaultParams();
        p.stakeToken = IERC20(address(0));
        vm.expectRevert(ITaskManager.ZeroAddress.selector);
        manager.createTask(p, 0);
        p = defaultParams();
        p.rewardToken = IERC20(address(0));
        vm.expectRevert(ITaskManager.ZeroAddress.selector);
        manager.createTask(p, 0);
    }

    function test_createTask_revertsOnZeroBountyPerRound() public {
        ITaskManager.TaskParams memory p = defaultParams();
        p.bountyPerRound = 0;
        vm.expectRevert(ITaskManager.ZeroAmount.selector);
        manager.createTask(p, 0);
    }

    function test_createTask_revertsOnWindowsThatDoNotFitARound() public {
        ITaskManager.TaskParams memory p = defaultParams();
        p.voteWindow = 51; // auditWindow 50 + 51 > roundLength 100
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.InvalidWindows.selector, p.roundLength, p.submissionWindow, p.auditWindow, p.voteWindow));
        manager.createTask(p, 0);
        p = defaultParams();
        p.submissionWindow = 50; // = auditWindow: audits (which open when submissions close) would have no time
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.InvalidWindows.selector, p.roundLength, p.submissionWindow, p.auditWindow, p.voteWindow));
        manager.createTask(p, 0);
        p = defaultParams();
        p.roundLength = 0;
        vm.expectRevert();
        manager.createTask(p, 0);
    }

    function test_createTask_revertsOnSharesOver100Percent() public {
        ITaskManager.TaskParams memory p = defaultParams();
        p.winnerBps = 6_000;
        p.votersBps = 5_000;
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.InvalidShares.selector, p.slashBps, p.falseAccusationBps, p.winnerBps, p.votersBps, p.auditFloorBps));
        manager.createTask(p, 0);
        p = defaultParams();
        p.slashBps = 10_001;
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.InvalidShares.selector, p.slashBps, p.falseAccusationBps, p.winnerBps, p.votersBps, p.auditFloorBps));
        manager.createTask(p, 0);
    }

    function test_createTask_revertsOnShortUnbonding() public {
        ITaskManager.TaskParams memory p = defaultParams();
        p.unbondingRounds = 2;
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.UnbondingTooShort.selector, 2, 3));
        manager.createTask(p, 0);
    }

    function test_createTask_revertsOnBadDistributionParams() public {
        ITaskManager.TaskParams memory p = defaultParams();
        p.maxDistributionAttempts = 0;
        vm.expectRevert(ITaskManager.InvalidDistributionParams.selector);
        manager.createTask(p, 0);
        p = defaultParams();
        p.distributionWindow = 0;
        vm.expectRevert(ITaskManager.InvalidDistributionParams.selector);
        manager.createTask(p, 0);
    }

    function test_createTask_creditsWhatArrivesFromFeeOnTransferTokens() public {
        FeeOnTransferERC20 fee = new FeeOnTransferERC20();
        ITaskManager.TaskParams memory p = defaultParams();
        p.rewardToken = IERC20(address(fee));
        fee.mint(address(this), 1_000);
        fee.approve(address(manager), 1_000);
        uint256 taskId = manager.createTask(p, 1_000);
        assertEq(manager.getTask(taskId).escrow, 990, "escrow is what arrived");
        assertEq(fee.balanceOf(address(manager)), 990, "balance");
    }

    // ─── fundTask ───

    function test_fundTask_topsUpFromAnyone() public {
        uint256 taskId = createDefaultTask();
        rewardToken.mint(bob, 500);
        vm.startPrank(bob);
        rewardToken.approve(address(manager), 500);
        vm.expectEmit();
        emit ITaskManager.BountyFunded(taskId, bob, 500);
        manager.fundTask(taskId, 500);
        vm.stopPrank();
        assertEq(manager.getTask(taskId).escrow, 10 * BOUNTY_PER_ROUND + 500, "escrow");
    }

    function test_fundTask_revertsOnUnknownTask() public {
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.TaskNotFound.selector, 7));
        manager.fundTask(7, 1);
    }

    function test_fundTask_revertsOnZero() public {
        uint256 taskId = createDefaultTask();
        vm.expectRevert(ITaskManager.ZeroAmount.selector);
        manager.fundTask(taskId, 0);
    }

    function test_fundTask_revertsWhenStopped() public {
        uint256 taskId = createDefaultTask();
        vm.prank(creator);
        manager.stopTask(taskId);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.TaskIsStopped.selector, taskId));
        manager.fundTask(taskId, 1);
    }

    // ─── stopTask ───

    function test_stopTask_blocksNewCycles() public {
        uint256 taskId = createDefaultTask();
        joinAll(taskId);
        vm.prank(creator);
        vm.expectEmit();
        emit ITaskManager.TaskStopped(taskId);
        manager.stopTask(taskId);
        warpToSubmission(taskId, 0);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.TaskIsStopped.selector, taskId));
        manager.submit(taskId, 0, rootOf(alice, 0));
    }

    function test_stopTask_revertsForNonCreator() public {
        uint256 taskId = createDefaultTask();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.NotTaskCreator.selector, taskId, alice));
        manager.stopTask(taskId);
    }

    function test_stopTask_revertsTwice() public {
        uint256 taskId = createDefaultTask();
        vm.startPrank(creator);
        manager.stopTask(taskId);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.TaskIsStopped.selector, taskId));
        manager.stopTask(taskId);
        vm.stopPrank();
    }

    // ─── withdrawRemainingBounty ───

    function test_withdrawRemainingBounty_returnsEscrowAfterStop() public {
        uint256 taskId = createDefaultTask();
        vm.startPrank(creator);
        manager.stopTask(taskId);
        manager.withdrawRemainingBounty(taskId);
        vm.stopPrank();
        assertEq(rewardToken.balanceOf(creator), 10 * BOUNTY_PER_ROUND, "returned");
        assertEq(manager.getTask(taskId).escrow, 0, "escrow emptied");
    }

    function test_withdrawRemainingBounty_endsCleanlyWhenBountyRunsOut() public {
        // 2.5 rounds of bounty: two cycles run, the half-round remainder returns to the creator.
        uint256 taskId = createTask(defaultParams(), (5 * BOUNTY_PER_ROUND) / 2);
        joinAll(taskId);
        address[] memory list = nodes4();
        runCleanCycle(taskId, 0, list);
        runCleanCycle(taskId, 3, list);
        warpToSubmission(taskId, 6);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.BountyExhausted.selector, taskId));
        manager.submit(taskId, 6, rootOf(alice, 6));
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.NotTaskCreator.selector, taskId, alice));
        vm.prank(alice);
        manager.withdrawRemainingBounty(taskId); // only the creator ends the task
        vm.expectEmit();
        emit ITaskManager.BountyReturned(taskId, creator, BOUNTY_PER_ROUND / 2, 0);
        vm.prank(creator);
        manager.withdrawRemainingBounty(taskId);
        assertEq(rewardToken.balanceOf(creator), BOUNTY_PER_ROUND / 2, "remainder to creator");
    }

    function test_withdrawRemainingBounty_revertsWhileRunning() public {
        uint256 taskId = createDefaultTask();
        vm.prank(creator);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.TaskStillRunning.selector, taskId, 10 * BOUNTY_PER_ROUND, 0));
        manager.withdrawRemainingBounty(taskId);
    }

    function test_withdrawRemainingBounty_revertsWhileCyclesInFlight() public {
        uint256 taskId = createDefaultTask();
        joinAll(taskId);
        warpToSubmission(taskId, 0);
        submitAs(taskId, alice, 0);
        vm.prank(creator);
        manager.stopTask(taskId);
        vm.prank(creator);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.TaskStillRunning.selector, taskId, 9 * BOUNTY_PER_ROUND, 1));
        manager.withdrawRemainingBounty(taskId);
    }

    function test_withdrawRemainingBounty_revertsWhenNothingLeft() public {
        vm.prank(creator);
        uint256 taskId = manager.createTask(defaultParams(), 0);
        vm.prank(creator);
        vm.expectRevert(ITaskManager.NothingToWithdraw.selector);
        manager.withdrawRemainingBounty(taskId);
    }
}
