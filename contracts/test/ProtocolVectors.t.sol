// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {ICoopTaskManager} from "../src/interfaces/ICoopTaskManager.sol";
import {ITaskManager} from "../src/interfaces/ITaskManager.sol";
import {BatchSigner} from "./utils/BatchSigner.sol";
import {DeployTaskManager} from "./utils/DeployTaskManager.sol";
import {AuditSampling} from "../src/libraries/AuditSampling.sol";
import {DistributorSelection} from "../src/libraries/DistributorSelection.sol";
import {Reputation} from "../src/libraries/Reputation.sol";
import {SlashSplit} from "../src/libraries/SlashSplit.sol";
import {TaskManagerFixture} from "./utils/TaskManagerFixture.sol";
import {TestBase} from "./utils/TestBase.sol";

/// @dev The JSON vectors in packages/protocol/vectors are produced by the TS twins; here the
/// Solidity libraries must reproduce every case, so Solidity and TS cannot disagree silently.
contract ProtocolVectorsTest is TestBase {
    function _vectors(string memory name) internal view returns (string memory) {
        return vm.readFile(string.concat(vm.projectRoot(), "/../packages/protocol/vectors/", name, ".json"));
    }

    function _key(string memory list, uint256 i, string memory field) internal pure returns (string memory) {
        return string.concat(".", list, "[", vm.toString(i), "].", field);
    }

    function test_vectors_reputation() public view {
        string memory json = _vectors("reputation");
        uint256 n = vm.parseJsonUint(json, ".count");
        assertGt(n, 0, "no cases");
        for (uint256 i = 0; i < n; ++i) {
            uint256 stake = vm.parseJsonUint(json, _key("cases", i, "stake"));
            uint256 score = vm.parseJsonUint(json, _key("cases", i, "score"));
            assertEq(Reputation.weightFactor(score), vm.parseJsonUint(json, _key("cases", i, "weightFactor")), "weightFactor");
            assertEq(Reputation.weight(stake, score), vm.parseJsonUint(json, _key("cases", i, "weight")), "weight");
        }
    }

    function test_vectors_auditProbability() public view {
        string memory json = _vectors("sampling");
        uint256 n = vm.parseJsonUint(json, ".probabilityCount");
        assertGt(n, 0, "no cases");
        for (uint256 i = 0; i < n; ++i) {
            uint256 p = AuditSampling.auditProbabilityBps(
                vm.parseJsonUint(json, _key("probability", i, "score")),
                vm.parseJsonUint(json, _key("probability", i, "dues")),
                vm.parseJsonUint(json, _key("probability", i, "floorBps")),
                vm.parseJsonUint(json, _key("probability", i, "decay"))
            );
            assertEq(p, vm.parseJsonUint(json, _key("probability", i, "probabilityBps")), "probabilityBps");
        }
    }

    function test_vectors_isSampled() public view {
        string memory json = _vectors("sampling");
        uint256 n = vm.parseJsonUint(json, ".sampledCount");
        assertGt(n, 0, "no cases");
        for (uint256 i = 0; i < n; ++i) {
            bool sampled = AuditSampling.isSampled(
                vm.parseJsonBytes32(json, _key("sampled", i, "seed")),
                vm.parseJsonUint(json, _key("sampled", i, "taskId")),
                vm.parseJsonUint(json, _key("sampled", i, "cycle")),
                vm.parseJsonAddress(json, _key("sampled", i, "node")),
                vm.parseJsonUint(json, _key("sampled", i, "probabilityBps"))
            );
            assertEq(sampled, vm.parseJsonBool(json, _key("sampled", i, "sampled")), "sampled");
        }
    }

    function test_vectors_auditorIndices() public view {
        string memory json = _vectors("sampling");
        uint256 n = vm.parseJsonUint(json, ".auditorsCount");
        assertGt(n, 0, "no cases");
        for (uint256 i = 0; i < n; ++i) {
            uint256[] memory got = AuditSampling.auditorIndices(
                vm.parseJsonBytes32(json, _key("auditors", i, "seed")),
                vm.parseJsonUint(json, _key("auditors", i, "taskId")),
                vm.parseJsonUint(json, _key("auditors", i, "cycle")),
                vm.parseJsonUint(json, _key("auditors", i, "submitterIndex")),
                vm.parseJsonUint(json, _key("auditors", i, "count")),
                vm.parseJsonUint(json, _key("auditors", i, "submitters"))
            );
            uint256 expectedCount = vm.parseJsonUint(json, _key("auditors", i, "indicesCount"));
            assertEq(got.length, expectedCount, "auditor count");
            if (expectedCount == 0) continue;
            uint256[] memory expected = vm.parseJsonUintArray(json, _key("auditors", i, "indices"));
            for (uint256 k = 0; k < expectedCount; ++k) assertEq(got[k], expected[k], "auditor index");
        }
    }

    function test_vectors_distributorSelection() public view {
        string memory json = _vectors("selection");
        uint256 n = vm.parseJsonUint(json, ".count");
        assertGt(n, 0, "no cases");
        for (uint256 i = 0; i < n; ++i) _checkSelectionCase(json, i);
    }

    function _checkSelectionCase(string memory json, uint256 i) internal pure {
        bytes32 seed = vm.parseJsonBytes32(json, _key("cases", i, "seed"));
        uint256 taskId = vm.parseJsonUint(json, _key("cases", i, "taskId"));
        uint256 cycle = vm.parseJsonUint(json, _key("cases", i, "cycle"));
        uint256 attempt = vm.parseJsonUint(json, _key("cases", i, "attempt"));
        uint256[] memory cumulative = vm.parseJsonUintArray(json, _key("cases", i, "cumulativeWeights"));
        uint256 point = DistributorSelection.drawPoint(seed, taskId, cycle, attempt, cumulative[cumulative.length - 1]);
        assertEq(point, vm.parseJsonUint(json, _key("cases", i, "point")), "point");
        uint256 index = DistributorSelection.select(seed, taskId, cycle, attempt, cumulative);
        assertEq(index, vm.parseJsonUint(json, _key("cases", i, "index")), "index");
        // The manager's O(1) check accepts exactly this index.
        assertTrue(DistributorSelection.covers(point, index == 0 ? 0 : cumulative[index - 1], cumulative[index]), "covers");
    }

    function test_vectors_slashSplit() public view {
        string memory json = _vectors("slash-split");
        uint256 n = vm.parseJsonUint(json, ".splitCount");
        assertGt(n, 0, "no cases");
        for (uint256 i = 0; i < n; ++i) {
            (uint256 toWinner, uint256 toVoters, uint256 toPool) = SlashSplit.split(
                vm.parseJsonUint(json, _key("split", i, "slashed")),
                vm.parseJsonUint(json, _key("split", i, "winnerBps")),
                vm.parseJsonUint(json, _key("split", i, "votersBps")),
                vm.parseJsonBool(json, _key("split", i, "hasVoters"))
            );
            assertEq(toWinner, vm.parseJsonUint(json, _key("split", i, "toWinner")), "toWinner");
            assertEq(toVoters, vm.parseJsonUint(json, _key("split", i, "toVoters")), "toVoters");
            assertEq(toPool, vm.parseJsonUint(json, _key("split", i, "toPool")), "toPool");
        }
        n = vm.parseJsonUint(json, ".voterShareCount");
        for (uint256 i = 0; i < n; ++i) {
            uint256 share = SlashSplit.voterShare(
                vm.parseJsonUint(json, _key("voterShare", i, "votersPool")),
                vm.parseJsonUint(json, _key("voterShare", i, "voterWeight")),
                vm.parseJsonUint(json, _key("voterShare", i, "winningVotersWeight"))
            );
            assertEq(share, vm.parseJsonUint(json, _key("voterShare", i, "share")), "voterShare");
        }
        n = vm.parseJsonUint(json, ".slashAmountCount");
        for (uint256 i = 0; i < n; ++i) {
            uint256 amount = SlashSplit.slashAmount(
                vm.parseJsonUint(json, _key("slashAmount", i, "stake")), vm.parseJsonUint(json, _key("slashAmount", i, "bps"))
            );
            assertEq(amount, vm.parseJsonUint(json, _key("slashAmount", i, "amount")), "slashAmount");
        }
    }

    function test_vectors_distributionMerkleTrees() public {
        ICoopTaskManager manager = DeployTaskManager.deploy();
        string memory json = _vectors("merkle");
        uint256 trees = vm.parseJsonUint(json, ".count");
        assertGt(trees, 0, "no trees");
        for (uint256 t = 0; t < trees; ++t) {
            string memory tree = string.concat(".trees[", vm.toString(t), "]");
            uint256 leafCount = vm.parseJsonUint(json, string.concat(tree, ".leafCount"));
            for (uint256 i = 0; i < leafCount; ++i) _checkLeaf(manager, json, tree, i);
        }
    }

    function _checkLeaf(ICoopTaskManager manager, string memory json, string memory tree, uint256 i) internal pure {
        string memory leafKey = string.concat(tree, ".leaves[", vm.toString(i), "]");
        bytes32 leaf = manager.distributionLeaf(
            vm.parseJsonUint(json, string.concat(tree, ".taskId")),
            vm.parseJsonUint(json, string.concat(tree, ".cycle")),
            vm.parseJsonAddress(json, string.concat(leafKey, ".node")),
            vm.parseJsonUint(json, string.concat(leafKey, ".reward")),
            vm.parseJsonUint(json, string.concat(leafKey, ".bonus"))
        );
        assertEq(leaf, vm.parseJsonBytes32(json, string.concat(leafKey, ".leaf")), "leaf");
        bytes32[] memory proof = vm.parseJsonUint(json, string.concat(leafKey, ".proofCount")) == 0
            ? new bytes32[](0)
            : vm.parseJsonBytes32Array(json, string.concat(leafKey, ".proof"));
        bytes32 root = vm.parseJsonBytes32(json, string.concat(tree, ".root"));
        assertTrue(MerkleProof.verify(proof, root, leaf), "proof verifies against the TS root");
    }

    // ─── batch commitment (submitBatch / materializeSubmission) ───

    function test_vectors_batchCommitment_leavesTreesAndProofs() public {
        ICoopTaskManager manager = DeployTaskManager.deploy();
        string memory json = _vectors("batch-commitment");
        uint256 batches = vm.parseJsonUint(json, ".count");
        assertGt(batches, 0, "no batches");
        for (uint256 b = 0; b < batches; ++b) {
            string memory batch = string.concat(".batches[", vm.toString(b), "]");
            uint256 n = vm.parseJsonUint(json, string.concat(batch, ".entryCount"));
            bytes32 root = vm.parseJsonBytes32(json, string.concat(batch, ".entriesRoot"));
            bytes32[] memory leaves = new bytes32[](n);
            bytes memory weights;
            for (uint256 i = 0; i < n; ++i) {
                ITaskManager.BatchedEntry memory entry;
                (leaves[i], entry) = _checkBatchEntry(manager, json, batch, i, root);
                weights = bytes.concat(weights, bytes16(uint128(entry.weightEnd - entry.weightStart)), bytes4(uint32(entry.score)));
            }
            // The test-side tree (same pairing as the contract's _rootOf) and the event's packing.
            assertEq(BatchSigner.rootOf(leaves), root, "entries root");
            assertEq(keccak256(weights), keccak256(vm.parseJsonBytes(json, string.concat(batch, ".weights"))), "packed weights");
        }
    }

    function _checkBatchEntry(ICoopTaskManager manager, string memory json, string memory batch, uint256 i, bytes32 root)
        internal
        pure
        returns (bytes32 leaf, ITaskManager.BatchedEntry memory entry)
    {
        string memory key = string.concat(batch, ".entries[", vm.toString(i), "]");
        entry = ITaskManager.BatchedEntry({
            node: vm.parseJsonAddress(json, string.concat(key, ".node")),
            root: vm.parseJsonBytes32(json, string.concat(key, ".root")),
            position: vm.parseJsonUint(json, string.concat(key, ".position")),
            weightStart: vm.parseJsonUint(json, string.concat(key, ".weightStart")),
            weightEnd: vm.parseJsonUint(json, string.concat(key, ".weightEnd")),
            score: vm.parseJsonUint(json, string.concat(key, ".score"))
        });
        leaf = manager.batchEntryLeaf(entry);
        assertEq(leaf, vm.parseJsonBytes32(json, string.concat(key, ".leaf")), "batch entry leaf");
        bytes32[] memory proof = vm.parseJsonUint(json, string.concat(key, ".proofCount")) == 0
            ? new bytes32[](0)
            : vm.parseJsonBytes32Array(json, string.concat(key, ".proof"));
        assertTrue(MerkleProof.verify(proof, root, leaf), "TS proof verifies against the TS root");
    }
}

/// @dev The on-chain cases of batch-commitment.json: the keys stake in a fresh task (score 0, so
/// weight = stake), their signed submissions are posted with the real submitBatch, and the
/// contract's entries roots, weight lines and SubmissionsBatched data must equal the TS
/// commitment; then every entry is materialized with the TS proof.
contract ProtocolVectorsBatchTest is TaskManagerFixture {
    string internal json;

    function _key(string memory path, uint256 i) internal pure returns (string memory) {
        return string.concat(path, "[", vm.toString(i), "]");
    }

    function test_vectors_batchCommitment_submitBatchAndMaterialize() public {
        json = vm.readFile(string.concat(vm.projectRoot(), "/../packages/protocol/vectors/batch-commitment.json"));
        uint256 cases = vm.parseJsonUint(json, ".onchainCount");
        assertGt(cases, 0, "no on-chain cases");
        for (uint256 c = 0; c < cases; ++c) _runCase(_key(".onchain", c));
    }

    function _runCase(string memory path) internal {
        uint256 taskId = createDefaultTask();
        uint256[] memory keys = vm.parseJsonUintArray(json, string.concat(path, ".keys"));
        uint256[] memory stakes = vm.parseJsonUintArray(json, string.concat(path, ".stakes"));
        for (uint256 i = 0; i < keys.length; ++i) {
            address node = vm.parseJsonAddress(json, _key(string.concat(path, ".nodes"), i));
            assertEq(vm.addr(keys[i]), node, "key signs for the vector's node");
            join(taskId, node, stakes[i]);
        }
        warpToSubmission(taskId, 0);
        uint256 batchCount = vm.parseJsonUint(json, string.concat(path, ".batchCount"));
        for (uint256 b = 0; b < batchCount; ++b) _postBatch(taskId, path, keys, b);
        warpPastSubmission(taskId, 0);
        for (uint256 b = 0; b < batchCount; ++b) _materializeBatch(taskId, path, b);
    }

    function _postBatch(uint256 taskId, string memory path, uint256[] memory keys, uint256 b) internal {
        string memory batch = _key(string.concat(path, ".batches"), b);
        ITaskManager.SignedSubmission[] memory signed = _signBatch(taskId, path, batch, keys);
        bytes32 entriesRoot = vm.parseJsonBytes32(json, string.concat(batch, ".entriesRoot"));
        _expectBatchEvent(taskId, batch, b, entriesRoot, signed.length);
        assertEq(manager.submitBatch(taskId, 0, signed), b, "batch index");
        ITaskManager.Batch memory stored = manager.getBatch(taskId, 0, b);
        assertEq(stored.entriesRoot, entriesRoot, "stored entries root");
        assertEq(stored.firstPosition, vm.parseJsonUint(json, string.concat(batch, ".firstPosition")), "first position");
        assertEq(stored.weightStart, vm.parseJsonUint(json, string.concat(batch, ".weightStart")), "weight start");
        assertEq(stored.weightEnd, vm.parseJsonUint(json, string.concat(batch, ".weightEnd")), "weight end");
    }

    function _signBatch(uint256 taskId, string memory path, string memory batch, uint256[] memory keys)
        internal
        view
        returns (ITaskManager.SignedSubmission[] memory signed)
    {
        bytes32[] memory roots = vm.parseJsonBytes32Array(json, string.concat(path, ".roots"));
        uint256 first = vm.parseJsonUint(json, string.concat(batch, ".firstEntry"));
        signed = new ITaskManager.SignedSubmission[](vm.parseJsonUint(json, string.concat(batch, ".entryCount")));
        for (uint256 i = 0; i < signed.length; ++i) signed[i] = BatchSigner.sign(manager, keys[first + i], taskId, 0, roots[first + i]);
    }

    /// @dev SubmissionsBatched must carry exactly the TS commitment (root, interval, packed weights).
    function _expectBatchEvent(uint256 taskId, string memory batch, uint256 b, bytes32 entriesRoot, uint256 n) internal {
        uint256 weightStart = vm.parseJsonUint(json, string.concat(batch, ".weightStart"));
        uint256 weightEnd = vm.parseJsonUint(json, string.concat(batch, ".weightEnd"));
        bytes memory weights = vm.parseJsonBytes(json, string.concat(batch, ".weights"));
        vm.expectEmit();
        emit ITaskManager.SubmissionsBatched(taskId, 0, b, entriesRoot, n, weightStart, weightEnd, weights);
    }

    function _materializeBatch(uint256 taskId, string memory path, uint256 b) internal {
        string memory batch = _key(string.concat(path, ".batches"), b);
        uint256 first = vm.parseJsonUint(json, string.concat(batch, ".firstEntry"));
        uint256[] memory proofCounts = vm.parseJsonUintArray(json, string.concat(batch, ".proofCounts"));
        // The entry as the TS layout gives it: positions and weight intervals follow on from the batch's start.
        ITaskManager.BatchedEntry memory entry;
        entry.position = vm.parseJsonUint(json, string.concat(batch, ".firstPosition"));
        entry.weightEnd = vm.parseJsonUint(json, string.concat(batch, ".weightStart"));
        for (uint256 i = 0; i < proofCounts.length; ++i) {
            entry.node = vm.parseJsonAddress(json, _key(string.concat(path, ".nodes"), first + i));
            entry.root = vm.parseJsonBytes32(json, _key(string.concat(path, ".roots"), first + i));
            entry.weightStart = entry.weightEnd;
            entry.weightEnd = entry.weightStart + vm.parseJsonUint(json, _key(string.concat(path, ".stakes"), first + i));
            bytes32[] memory proof =
                proofCounts[i] == 0 ? new bytes32[](0) : vm.parseJsonBytes32Array(json, _key(string.concat(batch, ".proofs"), i));
            manager.materializeSubmission(taskId, 0, b, entry, proof);
            assertEq(manager.getSubmission(taskId, 0, entry.node).root, entry.root, "materialized from the TS proof");
            entry.position += 1;
        }
    }
}
