// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";

import {ICoopTaskManager} from "../../src/interfaces/ICoopTaskManager.sol";
import {ITaskManager} from "../../src/interfaces/ITaskManager.sol";
import {Reputation} from "../../src/libraries/Reputation.sol";
import {Vm} from "./Vm.sol";

/// @dev (sign, predict, leaves and proof are public: linked, so the invariant handler that uses
/// them stays under EIP-170 and `forge build --sizes` passes.)
/// @dev What a node and a batcher do off-chain, in Solidity for the tests: sign Submission
/// (EIP-712, compact EIP-2098 form), predict a batch's entries (weights from the current state),
/// and build the proofs materializeSubmission takes (same tree as the contract).
library BatchSigner {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    uint256 internal constant HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;
    uint256 internal constant N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141;

    function compact(uint8 v, bytes32 r, bytes32 s) internal pure returns (bytes32, bytes32) {
        return (r, bytes32(uint256(s) | (uint256(v - 27) << 255)));
    }

    function signDigest(uint256 key, bytes32 digest, bytes32 root) internal pure returns (ITaskManager.SignedSubmission memory e) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        (bytes32 cr, bytes32 vs) = compact(v, r, s);
        e = ITaskManager.SignedSubmission({node: vm.addr(key), root: root, r: cr, vs: vs});
    }

    function sign(ICoopTaskManager m, uint256 key, uint256 taskId, uint256 cycle, bytes32 root)
        public
        view
        returns (ITaskManager.SignedSubmission memory)
    {
        return signDigest(key, m.submissionDigest(taskId, cycle, root), root);
    }

    /// @dev The EIP-712 digest computed independently of the contract (domain given explicitly).
    function digestFor(uint256 chainId, address verifyingContract, uint256 taskId, uint256 cycle, bytes32 root)
        internal
        pure
        returns (bytes32)
    {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("Coop TaskManager"),
                keccak256("1"),
                chainId,
                verifyingContract
            )
        );
        bytes32 structHash =
            keccak256(abi.encode(keccak256("Submission(uint256 taskId,uint256 cycle,bytes32 root)"), taskId, cycle, root));
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    /// @dev The entries a batch of `signed` will record if posted now.
    function predict(ICoopTaskManager m, uint256 taskId, uint256 cycle, ITaskManager.SignedSubmission[] memory signed)
        public
        view
        returns (ITaskManager.BatchedEntry[] memory entries)
    {
        ITaskManager.Cycle memory c = m.getCycle(taskId, cycle);
        uint256 cumulative = c.batchedWeight;
        entries = new ITaskManager.BatchedEntry[](signed.length);
        for (uint256 i = 0; i < signed.length; ++i) {
            ITaskManager.NodeState memory n = m.getNode(taskId, signed[i].node);
            uint256 weight = Reputation.weight(n.stake, n.score);
            entries[i] = ITaskManager.BatchedEntry({
                node: signed[i].node,
                root: signed[i].root,
                position: c.batchedCount + i,
                weightStart: cumulative,
                weightEnd: cumulative + weight,
                score: n.score
            });
            cumulative += weight;
        }
    }

    function leaves(ICoopTaskManager m, ITaskManager.BatchedEntry[] memory entries) public pure returns (bytes32[] memory out) {
        out = new bytes32[](entries.length);
        for (uint256 i = 0; i < entries.length; ++i) out[i] = m.batchEntryLeaf(entries[i]);
    }

    function rootOf(bytes32[] memory leaves_) internal pure returns (bytes32) {
        bytes32[] memory level = _copy(leaves_);
        uint256 width = level.length;
        while (width > 1) width = _up(level, width);
        return level[0];
    }

    function proof(bytes32[] memory leaves_, uint256 index) public pure returns (bytes32[] memory out) {
        bytes32[] memory level = _copy(leaves_);
        bytes32[] memory path = new bytes32[](64);
        uint256 k;
        uint256 width = level.length;
        while (width > 1) {
            uint256 sibling = index ^ 1;
            if (sibling < width) path[k++] = level[sibling];
            width = _up(level, width);
            index >>= 1;
        }
        out = new bytes32[](k);
        for (uint256 i = 0; i < k; ++i) out[i] = path[i];
    }

    function _up(bytes32[] memory level, uint256 width) private pure returns (uint256) {
        uint256 half = width >> 1;
        for (uint256 i = 0; i < half; ++i) level[i] = Hashes.commutativeKeccak256(level[2 * i], level[2 * i + 1]);
        if (width & 1 == 1) level[half] = level[width - 1];
        return half + (width & 1);
    }

    function _copy(bytes32[] memory a) private pure returns (bytes32[] memory b) {
        b = new bytes32[](a.length);
        for (uint256 i = 0; i < a.length; ++i) b[i] = a[i];
    }
}
