// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {ICoopTaskManager} from "../src/interfaces/ICoopTaskManager.sol";
import {DeployTaskManager} from "./utils/DeployTaskManager.sol";
import {AuditSampling} from "../src/libraries/AuditSampling.sol";
import {DistributorSelection} from "../src/libraries/DistributorSelection.sol";
import {Reputation} from "../src/libraries/Reputation.sol";
import {SlashSplit} from "../src/libraries/SlashSplit.sol";
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
}
