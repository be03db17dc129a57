// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {ITaskManager} from "../src/interfaces/ITaskManager.sol";
import {TaskLens} from "../src/TaskLens.sol";
import {TaskManagerExtension} from "../src/TaskManagerExtension.sol";
import {Reputation} from "../src/libraries/Reputation.sol";
import {BatchSigner} from "./utils/BatchSigner.sol";
import {MerkleBuilder} from "./utils/MerkleBuilder.sol";
import {TaskManagerFixture} from "./utils/TaskManagerFixture.sol";

/// @dev Batched submissions: EIP-712 signed entries posted by any batcher, the per-cycle bitmap
/// shared with direct submit, materialization from Merkle proofs, and every later path (audits,
/// distribution, reputation, unbonding, claims) on batched nodes.
contract TaskManagerBatchTest is TaskManagerFixture {
    uint256 internal taskId;
    uint256[] internal keys;
    address[] internal signers;
    address internal batcher = address(0xBA7C);

    function setUp() public override {
        super.setUp();
        taskId = createDefaultTask();
        for (uint256 i = 1; i <= 4; ++i) {
            keys.push(0xB000 + i);
            signers.push(vm.addr(0xB000 + i));
            join(taskId, vm.addr(0xB000 + i), STAKE * i);
        }
    }

    // ─── helpers ───

    function signAll(uint256 cycle) internal view returns (ITaskManager.SignedSubmission[] memory signed) {
        signed = new ITaskManager.SignedSubmission[](keys.length);
        for (uint256 i = 0; i < keys.length; ++i) signed[i] = BatchSigner.sign(manager, keys[i], taskId, cycle, rootOf(signers[i], cycle));
    }

    function postBatch(uint256 cycle, ITaskManager.SignedSubmission[] memory signed)
        internal
        returns (ITaskManager.BatchedEntry[] memory entries, uint256 batchIndex)
    {
        entries = BatchSigner.predict(manager, taskId, cycle, signed);
        vm.prank(batcher);
        batchIndex = manager.submitBatch(taskId, cycle, signed);
    }

    function materialize(uint256 cycle, uint256 batchIndex, ITaskManager.BatchedEntry[] memory entries, uint256 i)
        internal
        returns (uint256)
    {
        bytes32[] memory proof = BatchSigner.proof(BatchSigner.leaves(manager, entries), i);
        return manager.materializeSubmission(taskId, cycle, batchIndex, entries[i], proof);
    }

    function one(ITaskManager.SignedSubmission memory e) internal pure returns (ITaskManager.SignedSubmission[] memory a) {
        a = new ITaskManager.SignedSubmission[](1);
        a[0] = e;
    }

    // ─── submitBatch ───

    function test_submitBatch_recordsEveryEntryWithOneCommitment() public {
        warpToSubmission(taskId, 0);
        ITaskManager.SignedSubmission[] memory signed = signAll(0);
        ITaskManager.BatchedEntry[] memory expected = BatchSigner.predict(manager, taskId, 0, signed);
        bytes32 root = BatchSigner.rootOf(BatchSigner.leaves(manager, expected));
        bytes memory weights;
        for (uint256 i = 0; i < expected.length; ++i) {
            weights = bytes.concat(weights, bytes16(uint128(expected[i].weightEnd - expected[i].weightStart)), bytes4(uint32(expected[i].score)));
        }
        vm.expectEmit();
        emit ITaskManager.CycleOpened(taskId, 0, BOUNTY_PER_ROUND, 0);
        vm.expectEmit();
        emit ITaskManager.SubmissionsBatched(taskId, 0, 0, root, 4, 0, expected[3].weightEnd, weights);
        vm.prank(batcher);
        uint256 batchIndex = manager.submitBatch(taskId, 0, signed);
        assertEq(batchIndex, 0, "first batch");
        ITaskManager.Batch memory b = manager.getBatch(taskId, 0, 0);
        assertEq(b.entriesRoot, root, "entries root");
        assertEq(b.count, 4, "count");
        assertEq(b.weightEnd, 10 * STAKE, "weights: stakes 1..4 x STAKE, score 0");
        ITaskManager.Cycle memory c = manager.getCycle(taskId, 0);
        assertEq(c.batchedCount, 4, "batched count");
        assertEq(c.batchCount, 1, "batch count");
        assertEq(c.batchedWeight, 10 * STAKE, "batched weight");
        assertEq(c.budget, BOUNTY_PER_ROUND, "the batch opened the cycle");
        assertEq(c.submitters.length, 0, "no per-node list entries");
        for (uint256 i = 0; i < 4; ++i) {
            assertTrue(manager.hasSubmittedInCycle(taskId, 0, signers[i]), "bit set");
            assertEq(manager.getNode(taskId, signers[i]).memberIndex, i + 1, "member index assigned");
            assertEq(manager.getSubmission(taskId, 0, signers[i]).root, bytes32(0), "not materialized yet");
        }
    }

    function test_submitBatch_secondBatchContinuesPositionsAndWeights() public {
        warpToSubmission(taskId, 0);
        ITaskManager.SignedSubmission[] memory signed = signAll(0);
        ITaskManager.SignedSubmission[] memory first = new ITaskManager.SignedSubmission[](2);
        ITaskManager.SignedSubmission[] memory second = new ITaskManager.SignedSubmission[](2);
        (first[0], first[1], second[0], second[1]) = (signed[0], signed[1], signed[2], signed[3]);
        postBatch(0, first);
        (ITaskManager.BatchedEntry[] memory entries, uint256 batchIndex) = postBatch(0, second);
        assertEq(batchIndex, 1, "second batch");
        assertEq(entries[0].position, 2, "positions continue");
        assertEq(entries[0].weightStart, 3 * STAKE, "weights continue");
        ITaskManager.Batch memory b = manager.getBatch(taskId, 0, 1);
        assertEq(b.firstPosition, 2, "first position");
        assertEq(b.weightStart, 3 * STAKE, "weight start");
    }

    function test_submitBatch_revertsOnEmptyBatchAndOutsideWindow() public {
        warpToSubmission(taskId, 0);
        ITaskManager.SignedSubmission[] memory none = new ITaskManager.SignedSubmission[](0);
        vm.expectRevert(ITaskManager.EmptyBatch.selector);
        manager.submitBatch(taskId, 0, none);
        ITaskManager.SignedSubmission[] memory signed = signAll(0);
        warpPastSubmission(taskId, 0);
        uint256 opensAt = roundStart(taskId, 1);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.OutsideSubmissionWindow.selector, 0, block.timestamp, opensAt, opensAt + 30));
        manager.submitBatch(taskId, 0, signed);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.TaskNotFound.selector, 9));
        manager.submitBatch(9, 0, signed);
    }

    function test_submitBatch_revertsNamingABadSignature() public {
        warpToSubmission(taskId, 0);
        ITaskManager.SignedSubmission[] memory signed = signAll(0);
        // Entry 2 claims signer 2 but is signed by signer 3's key.
        signed[2] = BatchSigner.sign(manager, keys[3], taskId, 0, rootOf(signers[2], 0));
        signed[2].node = signers[2];
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.InvalidBatchSignature.selector, 2, signers[2]));
        manager.submitBatch(taskId, 0, signed);
        // A root other than the signed one.
        signed = signAll(0);
        signed[1].root = keccak256("another root");
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.InvalidBatchSignature.selector, 1, signers[1]));
        manager.submitBatch(taskId, 0, signed);
    }

    function test_submitBatch_rejectsMalleableHighS() public {
        warpToSubmission(taskId, 0);
        bytes32 root = rootOf(signers[0], 0);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[0], manager.submissionDigest(taskId, 0, root));
        // (r, n − s, flipped v) recovers the same key with plain ecrecover; it must be refused.
        uint8 flipped = v == 27 ? 28 : 27;
        (bytes32 cr, bytes32 vs) = BatchSigner.compact(flipped, r, bytes32(BatchSigner.N - uint256(s)));
        ITaskManager.SignedSubmission memory e = ITaskManager.SignedSubmission(signers[0], root, cr, vs);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.InvalidBatchSignature.selector, 0, signers[0]));
        manager.submitBatch(taskId, 0, one(e));
    }

    function test_submitBatch_signatureBindsDomainChainTaskAndCycle() public {
        warpToSubmission(taskId, 0);
        bytes32 root = rootOf(signers[0], 0);
        // The contract's digest is the standard EIP-712 one for this TaskManager and chain.
        assertEq(
            manager.submissionDigest(taskId, 0, root), BatchSigner.digestFor(block.chainid, address(manager), taskId, 0, root), "EIP-712 digest"
        );
        // Another verifying contract.
        ITaskManager.SignedSubmission memory e =
            BatchSigner.signDigest(keys[0], BatchSigner.digestFor(block.chainid, address(0xDEAD), taskId, 0, root), root);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.InvalidBatchSignature.selector, 0, signers[0]));
        manager.submitBatch(taskId, 0, one(e));
        // Another chain.
        e = BatchSigner.signDigest(keys[0], BatchSigner.digestFor(block.chainid + 1, address(manager), taskId, 0, root), root);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.InvalidBatchSignature.selector, 0, signers[0]));
        manager.submitBatch(taskId, 0, one(e));
        // Signed here, then the chain id changes (a fork): refused.
        e = BatchSigner.sign(manager, keys[0], taskId, 0, root);
        vm.chainId(block.chainid + 7);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.InvalidBatchSignature.selector, 0, signers[0]));
        manager.submitBatch(taskId, 0, one(e));
    }

    function test_submitBatch_signatureCannotBeReplayedInAnotherCycleOrTask() public {
        uint256 otherTask = createDefaultTask();
        join(otherTask, signers[0], STAKE);
        warpToSubmission(taskId, 0);
        ITaskManager.SignedSubmission memory e = BatchSigner.sign(manager, keys[0], taskId, 0, rootOf(signers[0], 0));
        manager.submitBatch(taskId, 0, one(e));
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.InvalidBatchSignature.selector, 0, signers[0]));
        manager.submitBatch(otherTask, 0, one(e));
        warpToSubmission(taskId, 1);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.InvalidBatchSignature.selector, 0, signers[0]));
        manager.submitBatch(taskId, 1, one(e));
    }

    function test_submitBatch_oncePerCycleAcrossBatchesAndPaths() public {
        warpToSubmission(taskId, 0);
        ITaskManager.SignedSubmission[] memory signed = signAll(0);
        // Duplicate inside one batch.
        ITaskManager.SignedSubmission[] memory twice = new ITaskManager.SignedSubmission[](2);
        (twice[0], twice[1]) = (signed[0], signed[0]);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.BatchEntryRejected.selector, 1, signers[0], ITaskManager.AlreadySubmitted.selector));
        manager.submitBatch(taskId, 0, twice);
        // Direct first, then in a batch.
        vm.prank(signers[1]);
        manager.submit(taskId, 0, rootOf(signers[1], 0));
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.BatchEntryRejected.selector, 0, signers[1], ITaskManager.AlreadySubmitted.selector));
        manager.submitBatch(taskId, 0, one(signed[1]));
        // Batched first, then directly, then again in another batch.
        manager.submitBatch(taskId, 0, one(signed[2]));
        vm.prank(signers[2]);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.AlreadySubmitted.selector, taskId, 0, signers[2]));
        manager.submit(taskId, 0, rootOf(signers[2], 0));
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.BatchEntryRejected.selector, 0, signers[2], ITaskManager.AlreadySubmitted.selector));
        manager.submitBatch(taskId, 0, one(signed[2]));
    }

    function test_submitBatch_rejectsEntriesDirectSubmitWouldRefuse() public {
        warpToSubmission(taskId, 0);
        // Not staked enough.
        uint256 poorKey = 0xB0FF;
        address poor = vm.addr(poorKey);
        join(taskId, poor, MIN_STAKE - 1);
        ITaskManager.SignedSubmission memory e = BatchSigner.sign(manager, poorKey, taskId, 0, rootOf(poor, 0));
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.BatchEntryRejected.selector, 0, poor, ITaskManager.InsufficientStake.selector));
        manager.submitBatch(taskId, 0, one(e));
        // Staked but never registered.
        uint256 anonKey = 0xB0AA;
        address anon = vm.addr(anonKey);
        stakeToken.mint(anon, STAKE);
        vm.startPrank(anon);
        stakeToken.approve(address(manager), STAKE);
        manager.stake(taskId, STAKE);
        vm.stopPrank();
        e = BatchSigner.sign(manager, anonKey, taskId, 0, rootOf(anon, 0));
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.BatchEntryRejected.selector, 0, anon, ITaskManager.NotRegistered.selector));
        manager.submitBatch(taskId, 0, one(e));
        // An empty root.
        e = BatchSigner.sign(manager, keys[0], taskId, 0, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.BatchEntryRejected.selector, 0, signers[0], ITaskManager.EmptyRoot.selector));
        manager.submitBatch(taskId, 0, one(e));
    }

    function test_extension_refusesDirectCallsAndServesTheManagersDomain() public {
        TaskManagerExtension extension = TaskManagerExtension(manager.EXTENSION());
        warpToSubmission(taskId, 0);
        ITaskManager.SignedSubmission[] memory signed = signAll(0);
        vm.expectRevert(TaskManagerExtension.NotDelegated.selector);
        extension.submitBatch(taskId, 0, signed);
        (, string memory name, string memory version, uint256 chainId, address verifyingContract,,) = manager.eip712Domain();
        assertEq(keccak256(bytes(name)), keccak256("Coop TaskManager"), "name");
        assertEq(keccak256(bytes(version)), keccak256("1"), "version");
        assertEq(chainId, block.chainid, "chain");
        assertEq(verifyingContract, address(manager), "the manager, not the extension");
    }

    // ─── materializeSubmission ───

    function test_materialize_createsTheSubmissionRecord() public {
        join(taskId, alice, STAKE);
        warpToSubmission(taskId, 0);
        vm.prank(alice);
        manager.submit(taskId, 0, rootOf(alice, 0)); // one direct submitter before the batch
        (ITaskManager.BatchedEntry[] memory entries, uint256 batchIndex) = postBatch(0, signAll(0));
        bytes32[] memory proof = BatchSigner.proof(BatchSigner.leaves(manager, entries), 2);
        uint256 closesAt = roundStart(taskId, 1) + 30;
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.SubmissionsStillOpen.selector, taskId, 0, closesAt));
        manager.materializeSubmission(taskId, 0, batchIndex, entries[2], proof);
        warpPastSubmission(taskId, 0);
        vm.expectEmit();
        emit ITaskManager.SubmissionMaterialized(taskId, 0, signers[2], 0, 3);
        uint256 index = manager.materializeSubmission(taskId, 0, batchIndex, entries[2], proof);
        assertEq(index, 3, "after the 1 direct submitter: 1 + position 2");
        ITaskManager.Submission memory s = manager.getSubmission(taskId, 0, signers[2]);
        assertEq(s.root, rootOf(signers[2], 0), "root");
        assertEq(s.index, 3, "index");
        assertTrue(s.batched, "batched");
        assertEq(s.weightStart, 3 * STAKE, "interval start");
        assertEq(s.cumulativeWeight, 6 * STAKE, "interval end");
        assertFalse(s.settled, "inside the audit window: not settled yet");
        assertEq(materialize(0, batchIndex, entries, 2), 3, "idempotent");
    }

    function test_materialize_revertsOnBadProofOrUnknownBatch() public {
        warpToSubmission(taskId, 0);
        (ITaskManager.BatchedEntry[] memory entries, uint256 batchIndex) = postBatch(0, signAll(0));
        warpPastSubmission(taskId, 0);
        bytes32[] memory proof = BatchSigner.proof(BatchSigner.leaves(manager, entries), 1);
        ITaskManager.BatchedEntry memory forged = entries[1];
        forged.weightEnd += 1; // a bigger interval than committed
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.InvalidBatchProof.selector, taskId, 0, batchIndex, forged.node));
        manager.materializeSubmission(taskId, 0, batchIndex, forged, proof);
        forged = entries[1];
        forged.node = alice; // someone else's entry
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.InvalidBatchProof.selector, taskId, 0, batchIndex, alice));
        manager.materializeSubmission(taskId, 0, batchIndex, forged, proof);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.BatchNotFound.selector, taskId, 0, 1));
        manager.materializeSubmission(taskId, 0, 1, entries[1], proof);
    }

    // ─── later paths on batched submissions ───

    function test_audit_ofABatchedNode_afterMaterializing_upheldSlashesAndConvicts() public {
        joinAll(taskId);
        warpToSubmission(taskId, 0);
        submitAll(taskId, 0, nodes4());
        (ITaskManager.BatchedEntry[] memory entries, uint256 batchIndex) = postBatch(0, signAll(0));
        warpPastSubmission(taskId, 0);
        address accused = signers[0];
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.NoSubmission.selector, taskId, 0, accused));
        manager.raiseAudit(taskId, 0, accused, keccak256("evidence"));
        materialize(0, batchIndex, entries, 0);
        uint256 auditId = raise(taskId, 0, alice, accused);
        voteAs(auditId, bob, ITaskManager.VoteSide.Uphold);
        voteAs(auditId, carol, ITaskManager.VoteSide.Uphold);
        resolveAfterVote(auditId);
        assertTrue(manager.getAudit(auditId).upheld, "upheld");
        assertTrue(manager.getSubmission(taskId, 0, accused).convicted, "convicted");
        assertEq(manager.getNode(taskId, accused).stake, STAKE / 2, "slashed");
        assertEq(manager.getNode(taskId, accused).failed, 1, "failed");
    }

    function test_reputation_ofBatchedNodes_isSettledLazilyWhenMaterialized() public {
        warpToSubmission(taskId, 0);
        (ITaskManager.BatchedEntry[] memory entries, uint256 batchIndex) = postBatch(0, signAll(0));
        warpToSubmission(taskId, 1);
        (ITaskManager.BatchedEntry[] memory next,) = postBatch(1, signAll(1)); // does not settle cycle 0 (no per-node writes)
        assertEq(manager.getNode(taskId, signers[1]).passed, 0, "not settled by the next batch");
        materialize(0, batchIndex, entries, 1);
        assertEq(manager.getNode(taskId, signers[1]).passed, 1, "settled when materialized after the audit window");
        assertEq(manager.getNode(taskId, signers[1]).score, 1, "score");
        assertTrue(manager.getSubmission(taskId, 0, signers[1]).settled, "settled");
        // A node materialized inside the audit window settles through settleReputation later.
        warpPastSubmission(taskId, 1);
        materialize(1, 0, next, 2);
        assertEq(manager.getNode(taskId, signers[2]).passed, 0, "cycle 1 not yet past its audit window");
        vm.warp(roundStart(taskId, 2) + 50);
        manager.settleReputation(taskId, 1, signers[2]);
        assertEq(manager.getNode(taskId, signers[2]).passed, 1, "settled by settleReputation");
    }

    function test_unbonding_waitsForBatchedCyclesToLeaveTheAuditHorizon() public {
        warpToSubmission(taskId, 2);
        postBatch(2, signAll(2));
        address node = signers[0];
        vm.prank(node);
        manager.requestUnstake(taskId, STAKE);
        assertEq(manager.unbondedAtRound(taskId, node), 2 + 3 + 1, "cycle 2 locks until round 6");
        vm.warp(roundStart(taskId, 5));
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.StakeLocked.selector, taskId, node, 6));
        manager.withdrawStake(taskId);
        vm.warp(roundStart(taskId, 6));
        vm.prank(node);
        manager.withdrawStake(taskId);
        assertEq(manager.getNode(taskId, node).unbonding, 0, "withdrawn once the batched cycle left the horizon");
    }

    /// @dev A mixed cycle (2 direct, 4 batched): whoever the draw selects posts (a batched node
    /// after materializing), and every node, batched or direct, claims its share.
    function test_distribution_selectsOverDirectAndBatchedAndBatchedNodesClaim() public {
        join(taskId, alice, STAKE);
        join(taskId, bob, STAKE);
        warpToSubmission(taskId, 0);
        vm.prank(alice);
        manager.submit(taskId, 0, rootOf(alice, 0));
        (ITaskManager.BatchedEntry[] memory entries, uint256 batchIndex) = postBatch(0, signAll(0));
        vm.prank(bob);
        manager.submit(taskId, 0, rootOf(bob, 0)); // direct after the batch: still direct line
        warpToDistribution(taskId, 0);
        manager.recordSeed(taskId, 0);
        (uint256 point, uint256 directTotal, uint256 total) = lens.selectionPoint(taskId, 0, 0);
        assertEq(directTotal, 2 * STAKE, "direct line");
        assertEq(total, 12 * STAKE, "whole line");
        (address poster, uint256 index) = lens.selectedDistributor(taskId, 0, 0);
        if (point >= directTotal) {
            assertEq(poster, address(0), "batched selection is resolved off-chain");
            assertEq(index, lens.BATCHED_SELECTION(), "sentinel");
            uint256 onBatched = point - directTotal;
            for (uint256 i = 0; i < entries.length; ++i) {
                if (entries[i].weightStart <= onBatched && onBatched < entries[i].weightEnd) {
                    poster = entries[i].node;
                    index = materialize(0, batchIndex, entries, i);
                }
            }
        }
        address[] memory all = new address[](6);
        (all[0], all[1]) = (alice, bob);
        for (uint256 i = 0; i < 4; ++i) all[2 + i] = signers[i];
        Payout[] memory payouts = equalPayouts(taskId, 0, all);
        (uint256 rewardTotal,) = totals(payouts);
        bytes32 listRoot = MerkleBuilder.root(leavesOf(taskId, 0, payouts));
        // Anyone else, with any index, is refused.
        address other = poster == alice ? bob : alice;
        vm.prank(other);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.NotSelectedDistributor.selector, taskId, 0, 0, other));
        manager.postDistribution(taskId, 0, index, listRoot, keccak256("list"), rewardTotal, 0, bytes32(0));
        bytes32 head = sha256("head");
        vm.prank(poster);
        manager.postDistribution(taskId, 0, index, listRoot, keccak256("list"), rewardTotal, 0, head);
        vm.warp(block.timestamp + 20);
        for (uint256 i = 0; i < all.length; ++i) claimOne(taskId, 0, payouts, i);
        assertEq(rewardToken.balanceOf(signers[3]), BOUNTY_PER_ROUND / 6, "batched node paid");
    }

    /// @dev When the draw falls on the batched line, only the covering batched node may post, and
    /// only once materialized; a batched node whose interval misses the point is refused.
    function test_distribution_batchedOnlyCycle_selectedNodePostsAfterMaterializing() public {
        warpToSubmission(taskId, 0);
        (ITaskManager.BatchedEntry[] memory entries, uint256 batchIndex) = postBatch(0, signAll(0));
        warpToDistribution(taskId, 0);
        manager.recordSeed(taskId, 0);
        (uint256 point,,) = lens.selectionPoint(taskId, 0, 0);
        uint256 selected;
        for (uint256 i = 0; i < entries.length; ++i) {
            if (entries[i].weightStart <= point && point < entries[i].weightEnd) selected = i;
        }
        address poster = entries[selected].node;
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.NotSelectedDistributor.selector, taskId, 0, 0, poster));
        manager.postDistribution(taskId, 0, selected, bytes32(uint256(1)), bytes32(0), 0, 0, bytes32(0));
        uint256 index = materialize(0, batchIndex, entries, selected);
        uint256 wrong = (selected + 1) % entries.length;
        materialize(0, batchIndex, entries, wrong);
        vm.prank(entries[wrong].node);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.NotSelectedDistributor.selector, taskId, 0, 0, entries[wrong].node));
        manager.postDistribution(taskId, 0, wrong, bytes32(uint256(1)), bytes32(0), 0, 0, bytes32(0));
        vm.prank(poster);
        manager.postDistribution(taskId, 0, index, bytes32(uint256(1)), bytes32(0), 0, 0, bytes32(0));
        assertEq(manager.getCycle(taskId, 0).poster, poster, "posted");
    }

    // ─── fuzz ───

    /// @dev Any batch of distinct staked nodes: the weight line is the sum of the entries' weights,
    /// exactly one entry covers any point of it, and every entry materializes with its proof.
    function testFuzz_submitBatch_weightLineAndProofs(uint256 count, uint256 stakeSeed, uint256 pointSeed) public {
        count = bound(count, 1, 24);
        ITaskManager.SignedSubmission[] memory signed = new ITaskManager.SignedSubmission[](count);
        uint256 expectedTotal;
        for (uint256 i = 0; i < count; ++i) {
            uint256 key = 0xF000 + i;
            uint256 amount = MIN_STAKE + (uint256(keccak256(abi.encode(stakeSeed, i))) % (1_000_000e18));
            join(taskId, vm.addr(key), amount);
            expectedTotal += amount;
        }
        warpToSubmission(taskId, 0);
        for (uint256 i = 0; i < count; ++i) {
            uint256 key = 0xF000 + i;
            signed[i] = BatchSigner.sign(manager, key, taskId, 0, keccak256(abi.encode(key)));
        }
        (ITaskManager.BatchedEntry[] memory entries, uint256 batchIndex) = postBatch(0, signed);
        assertEq(manager.getCycle(taskId, 0).batchedWeight, expectedTotal, "line = sum of weights (score 0)");
        uint256 point = pointSeed % expectedTotal;
        uint256 covering;
        for (uint256 i = 0; i < count; ++i) {
            if (entries[i].weightStart <= point && point < entries[i].weightEnd) covering++;
        }
        assertEq(covering, 1, "exactly one entry covers the point");
        warpPastSubmission(taskId, 0);
        bytes32[] memory leaves = BatchSigner.leaves(manager, entries);
        for (uint256 i = 0; i < count; ++i) {
            manager.materializeSubmission(taskId, 0, batchIndex, entries[i], BatchSigner.proof(leaves, i));
            assertEq(manager.getSubmission(taskId, 0, entries[i].node).index, i, "index = position (no direct)");
        }
    }

    /// @dev Any tampering with a valid signature's bytes is refused (never recorded for the node).
    function testFuzz_submitBatch_tamperedSignatureRefused(uint256 flip, bool inR) public {
        warpToSubmission(taskId, 0);
        ITaskManager.SignedSubmission memory e = BatchSigner.sign(manager, keys[0], taskId, 0, rootOf(signers[0], 0));
        uint256 bit = 1 << bound(flip, 0, 255);
        if (inR) e.r = bytes32(uint256(e.r) ^ bit);
        else e.vs = bytes32(uint256(e.vs) ^ bit);
        vm.expectRevert(abi.encodeWithSelector(ITaskManager.InvalidBatchSignature.selector, 0, signers[0]));
        manager.submitBatch(taskId, 0, one(e));
    }

    /// @dev submitBatch inlines OpenZeppelin ECDSA.tryRecover(hash, r, vs) for gas: it must accept
    /// exactly the (r, vs) that ECDSA accepts for the node — valid, flipped-parity, high-s
    /// (malleable) and arbitrary signatures alike.
    function testFuzz_signatureRulesMatchOpenZeppelinECDSA(bytes32 r, bytes32 vs, uint8 mode) public {
        warpToSubmission(taskId, 0);
        bytes32 root = rootOf(signers[0], 0);
        bytes32 digest = manager.submissionDigest(taskId, 0, root);
        mode = mode % 4;
        if (mode != 3) {
            (uint8 v, bytes32 sr, bytes32 ss) = vm.sign(keys[0], digest);
            if (mode == 1) (v, ss) = (v == 27 ? 28 : 27, bytes32(BatchSigner.N - uint256(ss))); // same key, high s
            if (mode == 2) v = v == 27 ? 28 : 27; // wrong parity: another key
            (r, vs) = BatchSigner.compact(v, sr, ss);
        }
        (address signer, ECDSA.RecoverError error_,) = ECDSA.tryRecover(digest, r, vs);
        bool accepted = error_ == ECDSA.RecoverError.NoError && signer == signers[0];
        if (!accepted) vm.expectRevert(abi.encodeWithSelector(ITaskManager.InvalidBatchSignature.selector, 0, signers[0]));
        manager.submitBatch(taskId, 0, one(ITaskManager.SignedSubmission(signers[0], root, r, vs)));
        assertEq(manager.hasSubmittedInCycle(taskId, 0, signers[0]), accepted, "recorded iff ECDSA accepts");
        if (mode == 0) assertTrue(accepted, "a fresh signature is accepted");
    }
}
