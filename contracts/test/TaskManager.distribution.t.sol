// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {ITaskManager} from "../src/interfaces/ITaskManager.sol";
import {TaskManagerFixture} from "./utils/TaskManagerFixture.sol";
import {MerkleBuilder} from "./utils/MerkleBuilder.sol";

contract TaskManagerDistributionTest is TaskManagerFixture {
    uint256 internal taskId;

    function setUp() public override {
        super.setUp();
        taskId = createDefaultTask();
        joinAll(taskId);
        warpToSubmission(taskId, 0);
        submitAll(taskId, 0, nodes4());
    }

    function _selected(uint256 cycle) internal returns (address node, uint256 index) {
        manager.recordSeed(taskId, cycle);
        (node, index) = lens.selectedDistributor(taskId, cycle, manager.currentDistributionAttempt(taskId, cycle));
    }

    function _someoneElse(address node) internal view returns (address) {
        return node == alice ? bob : alice;
    }

    // ─── postDistribution ───

    function test_postDistribution_bySelectedNode() public {
        warpToDistribution(taskId, 0);
        Payout[] memory payouts = equalPayouts(taskId, 0, nodes4());
        (address selected,) = _selected(0);
        address poster = postAsSelected(taskId, 0, payouts);
        assertEq(poster, selected, "poster");
        ITaskManager.Cycle memory c = manager.getCycle(taskId, 0);
        assertEq(uint256(c.status), uint256(ITaskManager.DistributionStatus.Posted), "posted");
        assertEq(c.rewardTotal, BOUNTY_PER_ROUND, "total");
        assertEq(c.merkleRoot, MerkleBuilder.root(leavesOf(taskId, 0, payouts)), "root");
    }

    function test_postDistribution_anchorsScaleHead() public {
        warpToDistribution(taskId, 0);
        Payout[] memory payouts = equalPayouts(taskId, 0, nodes4());
        manager.recordSeed(taskId, 0);
        (address selected, uint256 index) = _selected(0);
        (uint256 rewardTotal, uint256 bonusTotal) = totals(payouts);
        bytes32 root = MerkleBuilder.root(leavesOf(taskId, 0, payouts));
        bytes32 head = sha256("head of cycle 0");
        vm.expectEmit();
        emit ITaskManager.DistributionPosted(taskId, 0, selected, 0, root, keccak256("list"), rewardTotal, bonusTotal, head);
        vm.prank(selected);
        manager.postDistribution(taskId, 0, index, root, keccak256("list"), rewardTotal, bonusTotal, head);
        assertEq(manager.getCycle(taskId, 0).scaleHead, head, "head stored with the list");
        vm.warp(block.timestamp + manager.getTask(taskId).params.distributionAuditWindow);
        manager.finalizeDistribution(taskId, 0);
        assertEq(manager.getCycle(taskId, 0).scaleHead, head, "head final with the list");
    }

    function test_postDistribution_zeroScaleHeadForTasksWithoutScale() public {
        warpToDistribution(taskId, 0);
        manager.recordSeed(taskId, 0);
        (address selected, uint256 index) = _selected(0);
        vm.prank(selected);
        manager.postDistribution(taskId, 0, index, bytes32(uint256(1)), bytes32(0), 0, 0, bytes32(0));
        assertEq(manager.getCycle(taskId, 0).scaleHead, bytes32(0), "no head");
    }

    function test_postDistribution_revertsBeforeRoundCyclePlus2() public {
        vm.warp(roundStart(taskId, 2) - 1);
        (address selected, uint256 index) = _selected(0);
        vm.prank(selected);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.DistributionNotOpen.selector, taskId, 0, roundStart(taskId, 2)));
        manager.postDistribution(taskId, 0, index, bytes32(uint256(1)), bytes32(0), 0, 0, bytes32(0));
    }

    function test_postDistribution_revertsForCycleWithoutSubmissions() public {
        warpToDistribution(taskId, 5);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.DistributionNotOpen.selector, taskId, 5, roundStart(taskId, 7)));
        manager.postDistribution(taskId, 5, 0, bytes32(uint256(1)), bytes32(0), 0, 0, bytes32(0));
    }

    function test_postDistribution_revertsForUnselectedNode() public {
        warpToDistribution(taskId, 0);
        (address selected, uint256 index) = _selected(0);
        address other = _someoneElse(selected);
        uint256 otherIndex = manager.getSubmission(taskId, 0, other).index;
        vm.prank(other);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.NotSelectedDistributor.selector, taskId, 0, 0, other));
        manager.postDistribution(taskId, 0, otherIndex, bytes32(uint256(1)), bytes32(0), 0, 0, bytes32(0));
        // Nor may it borrow the selected node's index.
        vm.prank(other);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.NotSelectedDistributor.selector, taskId, 0, 0, other));
        manager.postDistribution(taskId, 0, index, bytes32(uint256(1)), bytes32(0), 0, 0, bytes32(0));
    }

    function test_postDistribution_revertsOverBudget() public {
        warpToDistribution(taskId, 0);
        (address selected, uint256 index) = _selected(0);
        vm.prank(selected);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.DistributionOverBudget.selector, BOUNTY_PER_ROUND + 1, BOUNTY_PER_ROUND, 0, 0));
        manager.postDistribution(taskId, 0, index, bytes32(uint256(1)), bytes32(0), BOUNTY_PER_ROUND + 1, 0, bytes32(0));
    }

    function test_postDistribution_revertsWhileAuditsPending() public {
        warpPastSubmission(taskId, 0);
        raise(taskId, 0, alice, bob);
        warpToDistribution(taskId, 0);
        (address selected, uint256 index) = _selected(0);
        vm.prank(selected);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.AuditsPending.selector, taskId, 0, 1));
        manager.postDistribution(taskId, 0, index, bytes32(uint256(1)), bytes32(0), 0, 0, bytes32(0));
    }

    function test_postDistribution_revertsWhenAlreadyPosted() public {
        warpToDistribution(taskId, 0);
        postAsSelected(taskId, 0, equalPayouts(taskId, 0, nodes4()));
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.DistributionAlreadyPosted.selector, taskId, 0));
        manager.postDistribution(taskId, 0, 0, bytes32(uint256(1)), bytes32(0), 0, 0, bytes32(0));
    }

    function test_postDistribution_turnPassesWhenSelectedNodeIsSilent() public {
        warpToDistribution(taskId, 0);
        manager.recordSeed(taskId, 0);
        (address first,) = lens.selectedDistributor(taskId, 0, 0);
        vm.warp(block.timestamp + 20); // attempt 0's posting window elapsed
        assertEq(manager.currentDistributionAttempt(taskId, 0), 1, "attempt 1");
        (address second, uint256 secondIndex) = lens.selectedDistributor(taskId, 0, 1);
        if (second != first) {
            uint256 firstIndex = manager.getSubmission(taskId, 0, first).index;
            vm.prank(first);
            vm.expectRevert(abi.encodeWithSelector(ITaskManager.NotSelectedDistributor.selector, taskId, 0, 1, first));
            manager.postDistribution(taskId, 0, firstIndex, bytes32(uint256(1)), bytes32(0), 0, 0, bytes32(0));
        }
        vm.prank(second);
        manager.postDistribution(taskId, 0, secondIndex, bytes32(uint256(1)), bytes32(0), 0, 0, bytes32(0));
        assertEq(manager.getCycle(taskId, 0).attempt, 1, "posted in attempt 1");
    }

    function test_postDistribution_convictedNodeCannotPost() public {
        warpPastSubmission(taskId, 0);
        manager.recordSeed(taskId, 0);
        (address selected, uint256 index) = lens.selectedDistributor(taskId, 0, 0);
        address accuser = _someoneElse(selected);
        uint256 auditId = raise(taskId, 0, accuser, selected);
        resolveAfterVote(auditId);
        warpToDistribution(taskId, 0);
        vm.prank(selected);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.NotSelectedDistributor.selector, taskId, 0, 0, selected));
        manager.postDistribution(taskId, 0, index, bytes32(uint256(1)), bytes32(0), 0, 0, bytes32(0));
    }

    // ─── challengeDistribution ───

    function test_challengeDistribution_upheldVoidsListSlashesPosterAndPassesTurn() public {
        warpToDistribution(taskId, 0);
        Payout[] memory payouts = equalPayouts(taskId, 0, nodes4());
        payouts[0].reward += 1; // wrong list (still within budget? no: remove from another)
        payouts[1].reward -= 1;
        address poster = postAsSelected(taskId, 0, payouts);
        address challenger = _someoneElse(poster);
        vm.prank(challenger);
        uint256 auditId = manager.challengeDistribution(taskId, 0, keccak256("recomputed list differs"));
        address[] memory list = nodes4();
        for (uint256 i = 0; i < list.length; ++i) {
            if (list[i] != poster && list[i] != challenger) voteAs(auditId, list[i], ITaskManager.VoteSide.Uphold);
        }
        vm.warp(manager.getAudit(auditId).deadline);
        vm.expectEmit();
        emit ITaskManager.DistributionRejected(taskId, 0, poster, 0);
        manager.resolveAudit(auditId);
        ITaskManager.Cycle memory c = manager.getCycle(taskId, 0);
        assertEq(uint256(c.status), uint256(ITaskManager.DistributionStatus.Pending), "back to pending");
        assertEq(c.attempt, 1, "next attempt");
        assertEq(c.turnStart, block.timestamp, "fresh window");
        assertEq(c.scaleHead, bytes32(0), "voided list's head cleared");
        assertEq(c.merkleRoot, bytes32(0), "voided list cleared");
        assertEq(manager.getNode(taskId, poster).stake, STAKE / 2, "poster slashed");
        assertTrue(manager.getSubmission(taskId, 0, poster).convicted, "poster convicted: never drawn again");
        assertEq(manager.getNode(taskId, poster).score, 0, "poster loses its reputation");
        assertGt(c.bonus, 0, "slash remainder joins this cycle's payout");
        // The next selected node posts a correct list including the bonus.
        address nextPoster = postAsSelected(taskId, 0, equalPayouts(taskId, 0, nodes4()));
        assertEq(manager.getCycle(taskId, 0).attempt, 1, "attempt 1 posted");
        assertEq(manager.getCycle(taskId, 0).scaleHead, scaleHeadOf(taskId, 0, nextPoster), "new poster anchors its own head");
    }

    function test_challengeDistribution_rejectedLetsListStand() public {
        warpToDistribution(taskId, 0);
        address poster = postAsSelected(taskId, 0, equalPayouts(taskId, 0, nodes4()));
        address challenger = _someoneElse(poster);
        vm.prank(challenger);
        uint256 auditId = manager.challengeDistribution(taskId, 0, bytes32(0));
        address[] memory list = nodes4();
        for (uint256 i = 0; i < list.length; ++i) {
            if (list[i] != poster && list[i] != challenger) voteAs(auditId, list[i], ITaskManager.VoteSide.Reject);
        }
        // Open challenge blocks finalization even after the challenge window.
        vm.warp(block.timestamp + 20);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.DistributionNotFinal.selector, taskId, 0));
        manager.finalizeDistribution(taskId, 0);
        resolveAfterVote(auditId);
        assertEq(manager.getNode(taskId, challenger).stake, STAKE - STAKE / 10, "challenger pays");
        manager.finalizeDistribution(taskId, 0);
        assertEq(uint256(manager.getCycle(taskId, 0).status), uint256(ITaskManager.DistributionStatus.Final), "final");
    }

    function test_challengeDistribution_revertsWithoutPost() public {
        warpToDistribution(taskId, 0);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.NoDistributionPosted.selector, taskId, 0));
        manager.challengeDistribution(taskId, 0, bytes32(0));
    }

    function test_challengeDistribution_revertsAfterWindow() public {
        warpToDistribution(taskId, 0);
        address poster = postAsSelected(taskId, 0, equalPayouts(taskId, 0, nodes4()));
        vm.warp(block.timestamp + 20);
        vm.prank(_someoneElse(poster));
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.ChallengeWindowClosed.selector, taskId, 0, block.timestamp));
        manager.challengeDistribution(taskId, 0, bytes32(0));
    }

    function test_challengeDistribution_revertsForPosterAndUnstaked() public {
        warpToDistribution(taskId, 0);
        address poster = postAsSelected(taskId, 0, equalPayouts(taskId, 0, nodes4()));
        vm.prank(poster);
        vm.expectRevert(ITaskManager.SelfAccusation.selector);
        manager.challengeDistribution(taskId, 0, bytes32(0));
        vm.prank(address(0xE5E));
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.InsufficientStake.selector, 0, MIN_STAKE));
        manager.challengeDistribution(taskId, 0, bytes32(0));
    }

    // ─── finalizeDistribution ───

    function test_finalizeDistribution_returnsUnallocatedBudget() public {
        warpToDistribution(taskId, 0);
        address[] memory two = new address[](2);
        two[0] = alice;
        two[1] = bob;
        Payout[] memory payouts = new Payout[](2);
        payouts[0] = Payout(alice, 300e18, 0);
        payouts[1] = Payout(bob, 300e18, 0);
        postAsSelected(taskId, 0, payouts);
        vm.warp(block.timestamp + 20);
        vm.expectEmit();
        emit ITaskManager.DistributionFinalized(taskId, 0, manager.getCycle(taskId, 0).merkleRoot, 400e18, 0);
        manager.finalizeDistribution(taskId, 0);
        assertEq(manager.getTask(taskId).escrow, 9 * BOUNTY_PER_ROUND + 400e18, "returned to escrow");
        assertEq(manager.getTask(taskId).cyclesInFlight, 0, "settled");
    }

    function test_finalizeDistribution_revertsDuringChallengeWindow() public {
        warpToDistribution(taskId, 0);
        postAsSelected(taskId, 0, equalPayouts(taskId, 0, nodes4()));
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.DistributionNotFinal.selector, taskId, 0));
        manager.finalizeDistribution(taskId, 0);
    }

    function test_finalizeDistribution_revertsWithoutPost() public {
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.DistributionNotFinal.selector, taskId, 0));
        manager.finalizeDistribution(taskId, 0);
    }

    // ─── failDistribution ───

    function test_failDistribution_afterAllAttemptsTimeOut() public {
        warpToDistribution(taskId, 0);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.DistributionAttemptsRemain.selector, taskId, 0));
        manager.failDistribution(taskId, 0);
        vm.warp(block.timestamp + 3 * 20);
        (address selected, uint256 index) = _selected(0);
        vm.prank(selected);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.DistributionAttemptsExhausted.selector, taskId, 0));
        manager.postDistribution(taskId, 0, index, bytes32(uint256(1)), bytes32(0), 0, 0, bytes32(0));
        vm.expectEmit();
        emit ITaskManager.DistributionFailed(taskId, 0, BOUNTY_PER_ROUND, 0);
        manager.failDistribution(taskId, 0);
        assertEq(manager.getTask(taskId).escrow, 10 * BOUNTY_PER_ROUND, "bounty back in escrow");
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.DistributionAttemptsRemain.selector, taskId, 0));
        manager.failDistribution(taskId, 0);
    }

    // ─── claimRewards ───

    function test_claimRewards_paysEachNodeOnce() public {
        warpToDistribution(taskId, 0);
        Payout[] memory payouts = equalPayouts(taskId, 0, nodes4());
        postAsSelected(taskId, 0, payouts);
        vm.warp(block.timestamp + 20);
        for (uint256 i = 0; i < payouts.length; ++i) claimOne(taskId, 0, payouts, i); // first claim finalizes
        assertEq(rewardToken.balanceOf(alice), BOUNTY_PER_ROUND / 4, "alice paid");
        assertEq(manager.getCycle(taskId, 0).rewardClaimed, BOUNTY_PER_ROUND, "all claimed");
        ITaskManager.ClaimRequest[] memory again = new ITaskManager.ClaimRequest[](1);
        again[0] = claimRequest(taskId, 0, payouts, 0);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.AlreadyClaimed.selector, taskId, 0, alice));
        manager.claimRewards(taskId, alice, again);
    }

    function test_claimRewards_severalCyclesInOneCall() public {
        address[] memory list = nodes4();
        // cycle 0 submitted in setUp; run cycle 1 alongside (gradual consensus overlap).
        warpToSubmission(taskId, 1);
        submitAll(taskId, 1, list);
        Payout[] memory p0 = equalPayouts(taskId, 0, list);
        postAsSelected(taskId, 0, p0);
        warpToDistribution(taskId, 1);
        Payout[] memory p1 = equalPayouts(taskId, 1, list);
        postAsSelected(taskId, 1, p1);
        vm.warp(block.timestamp + 20);
        ITaskManager.ClaimRequest[] memory requests = new ITaskManager.ClaimRequest[](2);
        requests[0] = claimRequest(taskId, 0, p0, 2);
        requests[1] = claimRequest(taskId, 1, p1, 2);
        manager.claimRewards(taskId, carol, requests);
        assertEq(rewardToken.balanceOf(carol), 2 * (BOUNTY_PER_ROUND / 4), "two cycles");
        assertTrue(manager.claimed(taskId, 0, carol) && manager.claimed(taskId, 1, carol), "both marked");
    }

    function test_claimRewards_paysSlashBonusInStakeToken() public {
        warpPastSubmission(taskId, 0);
        uint256 auditId = raise(taskId, 0, alice, dave);
        resolveAfterVote(auditId); // dave convicted; 40% of the slash returns to cycle 0
        uint256 bonus = manager.getCycle(taskId, 0).bonus;
        assertEq(bonus, STAKE / 2 - (STAKE / 2) * 3_000 / 10_000, "all but the auditor share (no other voters)");
        warpToDistribution(taskId, 0);
        address[] memory passed = new address[](3);
        passed[0] = alice;
        passed[1] = bob;
        passed[2] = carol;
        Payout[] memory payouts = equalPayouts(taskId, 0, passed);
        postAsSelected(taskId, 0, payouts);
        vm.warp(block.timestamp + 20);
        uint256 before = stakeToken.balanceOf(bob);
        claimOne(taskId, 0, payouts, 1);
        assertEq(rewardToken.balanceOf(bob), BOUNTY_PER_ROUND / 3, "reward token share");
        assertEq(stakeToken.balanceOf(bob) - before, bonus / 3, "stake token bonus share");
    }

    function test_claimRewards_revertsOnBadProof() public {
        warpToDistribution(taskId, 0);
        Payout[] memory payouts = equalPayouts(taskId, 0, nodes4());
        postAsSelected(taskId, 0, payouts);
        vm.warp(block.timestamp + 20);
        ITaskManager.ClaimRequest[] memory requests = new ITaskManager.ClaimRequest[](1);
        requests[0] = claimRequest(taskId, 0, payouts, 0);
        requests[0].reward += 1;
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.InvalidProof.selector, taskId, 0, alice));
        manager.claimRewards(taskId, alice, requests);
        requests[0] = claimRequest(taskId, 0, payouts, 0);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.InvalidProof.selector, taskId, 0, bob));
        manager.claimRewards(taskId, bob, requests); // alice's leaf cannot pay bob
    }

    function test_claimRewards_revertsBeforeFinal() public {
        warpToDistribution(taskId, 0);
        Payout[] memory payouts = equalPayouts(taskId, 0, nodes4());
        postAsSelected(taskId, 0, payouts);
        ITaskManager.ClaimRequest[] memory early = new ITaskManager.ClaimRequest[](1);
        early[0] = claimRequest(taskId, 0, payouts, 0);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.DistributionNotFinal.selector, taskId, 0));
        manager.claimRewards(taskId, alice, early);
    }

    function test_claimRewards_cannotExceedPostedTotal() public {
        // A list whose leaves sum to more than its declared total: the last claim is refused.
        warpToDistribution(taskId, 0);
        Payout[] memory payouts = equalPayouts(taskId, 0, nodes4());
        bytes32 root = MerkleBuilder.root(leavesOf(taskId, 0, payouts));
        manager.recordSeed(taskId, 0);
        (address selected, uint256 index) = lens.selectedDistributor(taskId, 0, 0);
        vm.prank(selected);
        manager.postDistribution(taskId, 0, index, root, bytes32(0), BOUNTY_PER_ROUND / 2, 0, bytes32(0));
        vm.warp(block.timestamp + 20);
        claimOne(taskId, 0, payouts, 0);
        claimOne(taskId, 0, payouts, 1);
        ITaskManager.ClaimRequest[] memory third = new ITaskManager.ClaimRequest[](1);
        third[0] = claimRequest(taskId, 0, payouts, 2);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.ClaimExceedsTotal.selector, taskId, 0));
        manager.claimRewards(taskId, carol, third);
    }

    function testFuzz_claimRewards_merkleClaimsPayExactlyOnce(uint256 seed, uint8 size, uint8 pick) public {
        uint256 n = bound(size, 1, 40);
        uint256 i = bound(pick, 0, n - 1);
        warpToDistribution(taskId, 0);
        Payout[] memory payouts = new Payout[](n);
        uint256 remaining = BOUNTY_PER_ROUND;
        for (uint256 k = 0; k < n; ++k) {
            uint256 amount = uint256(keccak256(abi.encode(seed, k))) % (remaining / n + 1);
            payouts[k] = Payout(address(uint160(uint256(keccak256(abi.encode("node", seed, k))))), amount, 0);
        }
        postAsSelected(taskId, 0, payouts);
        vm.warp(block.timestamp + 20);
        address account = payouts[i].node;
        uint256 before = rewardToken.balanceOf(account);
        claimOne(taskId, 0, payouts, i);
        assertEq(rewardToken.balanceOf(account) - before, payouts[i].reward, "paid the leaf amount");
        ITaskManager.ClaimRequest[] memory again = new ITaskManager.ClaimRequest[](1);
        again[0] = claimRequest(taskId, 0, payouts, i);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.AlreadyClaimed.selector, taskId, 0, account));
        manager.claimRewards(taskId, account, again);
        // A proof for a different amount never verifies.
        if (n == 1) return;
        ITaskManager.ClaimRequest[] memory forged = new ITaskManager.ClaimRequest[](1);
        uint256 j = (i + 1) % n;
        forged[0] = claimRequest(taskId, 0, payouts, j);
        forged[0].reward += 1 + (seed % 1e18);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.InvalidProof.selector, taskId, 0, payouts[j].node));
        manager.claimRewards(taskId, payouts[j].node, forged);
    }
}
