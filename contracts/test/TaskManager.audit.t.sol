// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {ITaskManager} from "../src/interfaces/ITaskManager.sol";
import {TaskManagerFixture} from "./utils/TaskManagerFixture.sol";

contract TaskManagerAuditTest is TaskManagerFixture {
    uint256 internal taskId;

    function setUp() public override {
        super.setUp();
        taskId = createDefaultTask();
        joinAll(taskId);
        warpToSubmission(taskId, 0);
        submitAll(taskId, 0, nodes4());
        warpPastSubmission(taskId, 0);
    }

    // ─── raiseAudit ───

    function test_raiseAudit_opensCaseWithAccuserVote() public {
        vm.prank(bob);
        uint256 auditId = manager.raiseAudit(taskId, 0, alice, keccak256("evidence"));
        ITaskManager.Audit memory a = manager.getAudit(auditId);
        assertEq(a.accused, alice, "accused");
        assertEq(a.accuser, bob, "accuser");
        assertEq(a.evidenceCid, keccak256("evidence"), "evidence");
        assertEq(a.deadline, block.timestamp + 40, "deadline");
        assertEq(a.upholdWeight, STAKE, "accuser's vote counted");
        assertEq(uint256(manager.getVote(auditId, bob).side), uint256(ITaskManager.VoteSide.Uphold), "accuser upholds");
        assertEq(manager.getSubmission(taskId, 0, alice).openAudits, 1, "submission open audits");
        assertEq(manager.getCycle(taskId, 0).openAudits, 1, "cycle open audits");
        assertEq(manager.getNode(taskId, alice).openCases, 1, "accused case");
        assertEq(manager.getNode(taskId, bob).openCases, 1, "accuser case");
        assertTrue(manager.getCycle(taskId, 0).seed != bytes32(0), "seed fixed by the audit");
    }

    function test_raiseAudit_revertsWithoutSubmission() public {
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.NoSubmission.selector, taskId, 1, alice));
        manager.raiseAudit(taskId, 1, alice, bytes32(0));
    }

    function test_raiseAudit_revertsAfterWindow() public {
        vm.warp(roundStart(taskId, 1) + 50);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.OutsideAuditWindow.selector, 0, block.timestamp, roundStart(taskId, 1) + 50));
        manager.raiseAudit(taskId, 0, alice, bytes32(0));
    }

    function test_raiseAudit_revertsWhileSubmissionsOpen() public {
        vm.warp(roundStart(taskId, 1) + 10);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.SeedNotYetAvailable.selector, taskId, 0, roundStart(taskId, 1) + 30));
        manager.raiseAudit(taskId, 0, alice, bytes32(0));
    }

    function test_raiseAudit_revertsOnSelfAccusation() public {
        vm.prank(alice);
        vm.expectRevert(ITaskManager.SelfAccusation.selector);
        manager.raiseAudit(taskId, 0, alice, bytes32(0));
    }

    function test_raiseAudit_revertsForUnstakedAccuser() public {
        address eve = address(0xE5E);
        vm.prank(eve);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.InsufficientStake.selector, 0, MIN_STAKE));
        manager.raiseAudit(taskId, 0, alice, bytes32(0));
    }

    function test_raiseAudit_revertsOnConvictedSubmission() public {
        uint256 auditId = raise(taskId, 0, bob, alice);
        resolveAfterVote(auditId);
        vm.warp(roundStart(taskId, 1) + 49);
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.AlreadyConvicted.selector, taskId, 0, alice));
        manager.raiseAudit(taskId, 0, alice, bytes32(0));
    }

    // ─── vote ───

    function test_vote_addsWeightOncePerNode() public {
        uint256 auditId = raise(taskId, 0, bob, alice);
        voteAs(auditId, carol, ITaskManager.VoteSide.Reject);
        voteAs(auditId, dave, ITaskManager.VoteSide.Uphold);
        ITaskManager.Audit memory a = manager.getAudit(auditId);
        assertEq(a.upholdWeight, 2 * STAKE, "uphold");
        assertEq(a.rejectWeight, STAKE, "reject");
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.AlreadyVoted.selector, auditId, carol));
        manager.vote(auditId, ITaskManager.VoteSide.Uphold);
    }

    function test_vote_revertsForAccuserTwice() public {
        uint256 auditId = raise(taskId, 0, bob, alice);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.AlreadyVoted.selector, auditId, bob));
        manager.vote(auditId, ITaskManager.VoteSide.Uphold);
    }

    function test_vote_revertsForAccused() public {
        uint256 auditId = raise(taskId, 0, bob, alice);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.AccusedCannotVote.selector, auditId));
        manager.vote(auditId, ITaskManager.VoteSide.Reject);
    }

    function test_vote_revertsOnNoneSide() public {
        uint256 auditId = raise(taskId, 0, bob, alice);
        vm.prank(carol);
        vm.expectRevert(ITaskManager.InvalidVoteSide.selector);
        manager.vote(auditId, ITaskManager.VoteSide.None);
    }

    function test_vote_revertsAfterDeadline() public {
        uint256 auditId = raise(taskId, 0, bob, alice);
        uint64 deadline = manager.getAudit(auditId).deadline;
        vm.warp(deadline);
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.VotingClosed.selector, auditId, deadline));
        manager.vote(auditId, ITaskManager.VoteSide.Reject);
    }

    function test_vote_revertsForUnstakedVoter() public {
        uint256 auditId = raise(taskId, 0, bob, alice);
        vm.prank(address(0xE5E));
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.InsufficientStake.selector, 0, MIN_STAKE));
        manager.vote(auditId, ITaskManager.VoteSide.Reject);
    }

    function test_vote_revertsOnUnknownAudit() public {
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.AuditNotFound.selector, 77));
        manager.vote(77, ITaskManager.VoteSide.Reject);
    }

    // ─── resolveAudit ───

    function test_resolveAudit_upheldSlashesConvictsAndPays() public {
        uint256 auditId = raise(taskId, 0, bob, alice);
        voteAs(auditId, carol, ITaskManager.VoteSide.Uphold);
        voteAs(auditId, dave, ITaskManager.VoteSide.Reject);
        uint256 slashed = STAKE / 2;
        vm.warp(manager.getAudit(auditId).deadline);
        vm.expectEmit();
        emit ITaskManager.Slashed(taskId, alice, slashed, auditId);
        manager.resolveAudit(auditId);

        ITaskManager.Audit memory a = manager.getAudit(auditId);
        assertTrue(a.resolved && a.upheld, "upheld");
        ITaskManager.NodeState memory n = manager.getNode(taskId, alice);
        assertEq(n.stake, STAKE - slashed, "slashed half");
        assertEq(n.failed, 1, "failed");
        assertEq(n.score, 0, "reputation lost");
        assertEq(n.reopenedUntil, block.timestamp + 100, "past rounds re-opened for a round");
        assertTrue(manager.getSubmission(taskId, 0, alice).convicted, "convicted");
        assertEq(stakeToken.balanceOf(bob), (slashed * 3_000) / 10_000, "auditor 30%");
        assertEq(a.votersPool, (slashed * 3_000) / 10_000, "voters 30%");
        assertEq(a.winningVotersWeight, STAKE, "carol is the only other winner");
        assertEq(manager.getCycle(taskId, 0).bonus, slashed - 2 * ((slashed * 3_000) / 10_000), "40% back to the cycle");
        assertEq(manager.getNode(taskId, alice).openCases, 0, "case closed");
        assertEq(manager.getCycle(taskId, 0).openAudits, 0, "cycle clear");
    }

    function test_resolveAudit_rejectedPenalisesAccuser() public {
        uint256 auditId = raise(taskId, 0, bob, alice);
        voteAs(auditId, carol, ITaskManager.VoteSide.Reject);
        voteAs(auditId, dave, ITaskManager.VoteSide.Reject);
        resolveAfterVote(auditId);
        ITaskManager.Audit memory a = manager.getAudit(auditId);
        assertTrue(a.resolved && !a.upheld, "rejected");
        uint256 penalty = STAKE / 10;
        assertEq(manager.getNode(taskId, bob).stake, STAKE - penalty, "accuser pays 10%");
        assertEq(manager.getNode(taskId, alice).stake, STAKE, "accused untouched");
        assertEq(stakeToken.balanceOf(alice), (penalty * 3_000) / 10_000, "wrongly accused compensated");
        assertEq(a.winningVotersWeight, 2 * STAKE, "carol and dave share the voters' pool");
        assertTrue(manager.getSubmission(taskId, 0, alice).settled, "accused's round counted as passed");
        assertEq(manager.getNode(taskId, alice).passed, 1, "passed");
    }

    function test_resolveAudit_fullTieRejects() public {
        uint256 auditId = raise(taskId, 0, bob, alice);
        voteAs(auditId, carol, ITaskManager.VoteSide.Reject);
        resolveAfterVote(auditId);
        assertFalse(manager.getAudit(auditId).upheld, "presumed honest on a full tie");
    }

    function test_resolveAudit_revertsWhileVoting() public {
        uint256 auditId = raise(taskId, 0, bob, alice);
        uint64 deadline = manager.getAudit(auditId).deadline;
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.VotingStillOpen.selector, auditId, deadline));
        manager.resolveAudit(auditId);
    }

    function test_resolveAudit_revertsTwice() public {
        uint256 auditId = raise(taskId, 0, bob, alice);
        resolveAfterVote(auditId);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.AuditAlreadyResolved.selector, auditId));
        manager.resolveAudit(auditId);
    }

    function test_resolveAudit_revertsOnUnknownAudit() public {
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.AuditNotFound.selector, 9));
        manager.resolveAudit(9);
    }

    // ─── claimVoteReward ───

    function test_claimVoteReward_paysWinnersProRata() public {
        uint256 auditId = raise(taskId, 0, bob, alice);
        voteAs(auditId, carol, ITaskManager.VoteSide.Uphold);
        voteAs(auditId, dave, ITaskManager.VoteSide.Uphold);
        resolveAfterVote(auditId);
        uint256 pool = manager.getAudit(auditId).votersPool;
        vm.prank(carol);
        manager.claimVoteReward(auditId);
        vm.prank(dave);
        manager.claimVoteReward(auditId);
        assertEq(stakeToken.balanceOf(carol), pool / 2, "carol half");
        assertEq(stakeToken.balanceOf(dave), pool / 2, "dave half");
        assertEq(manager.votersPoolRemaining(auditId), pool - 2 * (pool / 2), "only dust left");
    }

    function test_claimVoteReward_revertsForLoserAccuserTwiceAndUnresolved() public {
        uint256 auditId = raise(taskId, 0, bob, alice);
        voteAs(auditId, carol, ITaskManager.VoteSide.Uphold);
        voteAs(auditId, dave, ITaskManager.VoteSide.Reject);
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.NoRewardOwed.selector, auditId, carol));
        manager.claimVoteReward(auditId); // not resolved yet
        resolveAfterVote(auditId);
        vm.prank(dave);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.NoRewardOwed.selector, auditId, dave));
        manager.claimVoteReward(auditId); // lost
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.NoRewardOwed.selector, auditId, bob));
        manager.claimVoteReward(auditId); // accuser was paid as winner
        vm.startPrank(carol);
        manager.claimVoteReward(auditId);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.NoRewardOwed.selector, auditId, carol));
        manager.claimVoteReward(auditId); // twice
        vm.stopPrank();
    }
}

/// @dev Reputation breaks ties in weight, and convictions re-open past rounds.
contract TaskManagerReputationTest is TaskManagerFixture {
    // Weight of a score-1 node with 1e18 stake: 1e18 · (1 + 1/17) in WAD arithmetic.
    uint256 internal constant WEIGHT_OF_SCORE_ONE = 1_058_823_529_411_764_705;

    function _taskWithTinyMinStake() internal returns (uint256 taskId) {
        ITaskManager.TaskParams memory p = defaultParams();
        p.minStake = 1;
        taskId = createTask(p, 10 * BOUNTY_PER_ROUND);
    }

    /// alice (score 1, stake 1e18) and carol (score 0, stake = alice's weight) weigh the same.
    function _tieSetup() internal returns (uint256 taskId) {
        taskId = _taskWithTinyMinStake();
        join(taskId, alice, 1e18);
        join(taskId, carol, WEIGHT_OF_SCORE_ONE);
        join(taskId, dave, STAKE);
        address[] memory list = new address[](2);
        list[0] = alice;
        list[1] = dave;
        warpToSubmission(taskId, 0);
        submitAll(taskId, 0, list);
        warpToSubmission(taskId, 1);
        submitAll(taskId, 1, list); // settles cycle 0: alice and dave reach score 1
        warpPastSubmission(taskId, 1);
        assertEq(manager.getNode(taskId, alice).score, 1, "alice score");
    }

    function test_resolveAudit_weightTieBrokenByReputation_reject() public {
        uint256 taskId = _tieSetup();
        uint256 auditId = raise(taskId, 1, carol, dave); // carol: weight W, reputation 0
        voteAs(auditId, alice, ITaskManager.VoteSide.Reject); // alice: weight W, reputation 1
        ITaskManager.Audit memory a = manager.getAudit(auditId);
        assertEq(a.upholdWeight, a.rejectWeight, "weights tie");
        resolveAfterVote(auditId);
        assertFalse(manager.getAudit(auditId).upheld, "more reputation on reject wins");
    }

    function test_resolveAudit_weightTieBrokenByReputation_uphold() public {
        uint256 taskId = _tieSetup();
        uint256 auditId = raise(taskId, 1, alice, dave);
        voteAs(auditId, carol, ITaskManager.VoteSide.Reject);
        ITaskManager.Audit memory a = manager.getAudit(auditId);
        assertEq(a.upholdWeight, a.rejectWeight, "weights tie");
        resolveAfterVote(auditId);
        assertTrue(manager.getAudit(auditId).upheld, "more reputation on uphold wins");
    }

    function test_penaltyScaling_conviction_reopensPastRoundsWithinHorizon() public {
        uint256 taskId = createDefaultTask();
        joinAll(taskId);
        address[] memory list = nodes4();
        // dave passes cycles 0..3 honestly, then is caught on cycle 4.
        for (uint256 c = 0; c <= 4; ++c) {
            warpToSubmission(taskId, c);
            submitAll(taskId, c, list);
        }
        assertEq(manager.getNode(taskId, dave).score, 4, "built reputation");
        warpPastSubmission(taskId, 4); // round 5
        uint256 auditId = raise(taskId, 4, alice, dave);
        resolveAfterVote(auditId);
        assertEq(manager.getNode(taskId, dave).score, 0, "reputation lost");

        // Cycle 2 is past its normal window but inside the unbonding horizon (2 + 3 >= round 5); cycle 1 is not.
        vm.prank(bob);
        uint256 reopened = manager.raiseAudit(taskId, 2, dave, keccak256("old round"));
        assertEq(manager.getAudit(reopened).cycle, 2, "past round audited");
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.OutsideAuditWindow.selector, 1, block.timestamp, roundStart(taskId, 2) + 50));
        manager.raiseAudit(taskId, 1, dave, keccak256("beyond horizon"));
        uint256 stakeBefore = manager.getNode(taskId, dave).stake;
        resolveAfterVote(reopened);
        assertEq(manager.getNode(taskId, dave).stake, stakeBefore / 2, "ongoing deception loses more stake");
        assertEq(manager.getNode(taskId, dave).failed, 2, "two failures");

        // The re-opening expires after a round.
        vm.warp(manager.getNode(taskId, dave).reopenedUntil);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.OutsideAuditWindow.selector, 3, block.timestamp, roundStart(taskId, 4) + 50));
        manager.raiseAudit(taskId, 3, dave, keccak256("too late"));
    }

    function test_penaltyScaling_honestNodesCannotBeReopened() public {
        uint256 taskId = createDefaultTask();
        joinAll(taskId);
        warpToSubmission(taskId, 0);
        submitAll(taskId, 0, nodes4());
        warpToSubmission(taskId, 1);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.OutsideAuditWindow.selector, 0, block.timestamp, roundStart(taskId, 1) + 50));
        manager.raiseAudit(taskId, 0, alice, bytes32(0));
    }
}
