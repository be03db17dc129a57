// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {Reputation} from "./libraries/Reputation.sol";
import {TaskManagerBase} from "./TaskManagerBase.sol";

/// @title TaskManagerExtension
/// @notice The second code half of TaskManager: views and batched submissions. Never used at its
/// own address: TaskManager's fallback runs this code by delegatecall on TaskManager's storage.
/// @dev Declares no state (see TaskManagerBase). State-changing functions refuse direct calls.
/// EIP712 is inherited here only: its two fallback string slots come after the base's storage and
/// are never written (name and version fit ShortStrings), and under delegatecall its domain is
/// rebuilt with address(this) = TaskManager, so signatures bind to the TaskManager address.
///
/// Batched submissions. A node signs Submission(taskId, cycle, root) and any batcher posts many
/// with submitBatch. Each entry is checked like a direct submit (window, root, stake, registered,
/// once per cycle across both paths) and gets a weight interval on the cycle's batched weight
/// line, but nothing is written per node: the batch stores one Merkle root over its entries
/// (node, root, position, weight interval, score at submission) and sets the node's bit in the
/// cycle's submitted bitmap. Every later use of a batched submission (raiseAudit, the selected
/// distributor's post, settleReputation, convictions) needs its Submission record, which anyone
/// creates from a Merkle proof with materializeSubmission once the window has closed; from then on
/// every path treats it exactly like a direct one. Reputation of batched nodes is settled lazily:
/// when materialized after the audit window (or by settleReputation after materializing), not at
/// the node's next submission as for direct ones.
///
/// A bad entry reverts the whole batch with a typed error naming the entry (InvalidBatchSignature
/// or BatchEntryRejected) rather than being skipped: the batcher checks signatures and eligibility
/// off-chain (the same typed data; a simulation names the bad entry), and a batch that records
/// exactly what it was given keeps the entries root decodable from calldata alone.
contract TaskManagerExtension is TaskManagerBase, EIP712 {
    address private immutable _self = address(this);

    bytes32 public constant SUBMISSION_TYPEHASH = keccak256("Submission(uint256 taskId,uint256 cycle,bytes32 root)");

    constructor() EIP712("Coop TaskManager", "1") {}

    /// @dev Loop state of submitBatch, in memory to keep the stack shallow.
    struct BatchCursor {
        uint256 taskId;
        uint256 cycle;
        bytes32 domainSeparator;
        uint256 minStake;
        uint256 cumulative;
        uint256 firstPosition;
        uint256 wordIndex;
        uint256 word;
        uint256 nodesSlot; // storage slot of _nodes[taskId]
        uint256 bitsSlot; // storage slot of _submittedBits[taskId][cycle]
    }

    error NotDelegated();

    /// @dev State-changing entry points only run on TaskManager's storage.
    modifier onlyDelegated() {
        if (address(this) == _self) revert NotDelegated();
        _;
    }

    // ───────────────────────────── batched submissions ─────────────────────────────

    /// @notice Records many nodes' signed submissions for `cycle` in one transaction (any caller).
    /// Reverts with the first bad entry's index (see the contract notes).
    function submitBatch(uint256 taskId, uint256 cycle, SignedSubmission[] calldata entries)
        external
        onlyDelegated
        returns (uint256 batchIndex)
    {
        Task storage task = _task(taskId);
        uint256 n = entries.length;
        if (n == 0) revert EmptyBatch();
        _requireSubmissionWindow(task, cycle);
        Cycle storage c = _cycles[taskId][cycle];
        if (!_opened(c)) _openCycle(taskId, task, cycle, c);

        BatchCursor memory k = BatchCursor({
            taskId: taskId,
            cycle: cycle,
            domainSeparator: _domainSeparatorV4(),
            minStake: task.params.minStake,
            cumulative: c.batchedWeight,
            firstPosition: c.batchedCount,
            wordIndex: type(uint256).max,
            word: 0,
            nodesSlot: _nodesSlot(taskId),
            bitsSlot: _bitsSlot(taskId, cycle)
        });
        bytes32[] memory leaves = new bytes32[](n);
        bytes memory weights = new bytes(n * 20);
        for (uint256 i = 0; i < n; ++i) {
            (bytes32 leaf, uint256 packed) = _batchEntry(k, task, entries, i);
            leaves[i] = leaf;
            assembly ("memory-safe") {
                // 16-byte weight then 4-byte score; the 12 spilled bytes are overwritten next.
                mstore(add(add(weights, 0x20), mul(i, 20)), packed)
            }
        }
        _submittedBits[taskId][cycle][k.wordIndex] = k.word;
        if (k.cumulative > type(uint128).max) revert WeightOverflow(k.cumulative);

        bytes32 entriesRoot = _rootOf(leaves);
        batchIndex = c.batchCount;
        uint256 weightStart = c.batchedWeight;
        _batches[taskId][cycle][batchIndex] = Batch({
            entriesRoot: entriesRoot,
            weightStart: uint128(weightStart),
            weightEnd: uint128(k.cumulative),
            firstPosition: uint32(k.firstPosition),
            count: uint32(n)
        });
        c.batchCount = uint32(batchIndex + 1);
        c.batchedCount = uint32(k.firstPosition + n);
        c.batchedWeight = uint128(k.cumulative);
        emit SubmissionsBatched(taskId, cycle, batchIndex, entriesRoot, n, weightStart, k.cumulative, weights);
    }

    function _requireSubmissionWindow(Task storage task, uint256 cycle) private view {
        uint256 opensAt = _roundStart(task, cycle + 1);
        uint256 closesAt = opensAt + task.params.submissionWindow;
        if (block.timestamp < opensAt || block.timestamp >= closesAt) {
            revert OutsideSubmissionWindow(cycle, block.timestamp, opensAt, closesAt);
        }
    }

    function _bitsSlot(uint256 taskId, uint256 cycle) private view returns (uint256 slot) {
        mapping(uint256 => uint256) storage bits = _submittedBits[taskId][cycle];
        assembly ("memory-safe") {
            slot := bits.slot
        }
    }

    function _nodesSlot(uint256 taskId) private view returns (uint256 slot) {
        mapping(address => NodeState) storage taskNodes = _nodes[taskId];
        assembly ("memory-safe") {
            slot := taskNodes.slot
        }
    }

    /// @dev Checks entry `i` and returns its leaf and its packed (weight, score) for the event.
    /// This is what a batch pays per node, so it is written for gas: the signature check, the
    /// digest and the node's first storage slot (stake, score, member index: see NodeState) in one
    /// assembly block, hashing in scratch memory. The signature rules are OpenZeppelin
    /// ECDSA.tryRecover(hash, r, vs)'s (EIP-2098 compact form; s in the lower half order, so one
    /// encoding per signature; a failed recovery is invalid), inlined because the library call
    /// costs ~600 gas more per entry; test/TaskManager.batch.t.sol checks them against ECDSA.
    function _batchEntry(BatchCursor memory k, Task storage task, SignedSubmission[] calldata entries, uint256 i)
        private
        returns (bytes32 leaf, uint256 packed)
    {
        address account;
        bytes32 root;
        {
            uint256 failure;
            (account, root, failure) = _verifySignature(k, entries, i);
            if (failure == 1) revert BatchEntryRejected(i, account, EmptyRoot.selector);
            if (failure == 2) revert InvalidBatchSignature(i, account);
        }
        uint256 score;
        uint256 lower = k.cumulative;
        {
            uint256 weight;
            (weight, score) = _admit(k, task, account, i);
            packed = (weight << 128) | (score << 96);
            unchecked {
                // weight < 2^130 and a cycle has < 2^32 entries: no overflow (uint128 checked at the end).
                k.cumulative = lower + weight;
            }
        }
        leaf = _entryLeaf(account, root, k.firstPosition + i, lower, k.cumulative, score);
    }

    /// @dev Stake, registration and once-per-cycle checks of entry `i`; its weight and score.
    /// One SLOAD of the node's first slot; the cycle's submitted-bitmap word is cached in the
    /// cursor and written back when the next entry needs another word (and after the loop).
    function _admit(BatchCursor memory k, Task storage task, address account, uint256 i)
        private
        returns (uint256 weight, uint256 score)
    {
        uint256 nodesSlot = k.nodesSlot;
        uint256 nodeSlot;
        uint256 head;
        assembly ("memory-safe") {
            mstore(0x00, account)
            mstore(0x20, nodesSlot)
            nodeSlot := keccak256(0x00, 0x40)
            head := sload(nodeSlot)
        }
        uint256 stakeAmount = uint128(head);
        if (stakeAmount < k.minStake || stakeAmount == 0) revert BatchEntryRejected(i, account, InsufficientStake.selector);
        uint256 member = uint32(head >> 160);
        if (member == 0) member = _admitNewMember(task, nodeSlot, account, i);
        uint256 wordIndex = member >> 8;
        uint256 word = k.word;
        if (wordIndex != k.wordIndex) {
            uint256 bitsSlot = k.bitsSlot;
            uint256 cachedIndex = k.wordIndex;
            assembly ("memory-safe") {
                if iszero(eq(cachedIndex, not(0))) {
                    mstore(0x00, cachedIndex)
                    mstore(0x20, bitsSlot)
                    sstore(keccak256(0x00, 0x40), word)
                }
                mstore(0x00, wordIndex)
                mstore(0x20, bitsSlot)
                word := sload(keccak256(0x00, 0x40))
            }
            k.wordIndex = wordIndex;
        }
        uint256 mask = 1 << (member & 255);
        if (word & mask != 0) revert BatchEntryRejected(i, account, AlreadySubmitted.selector);
        k.word = word | mask;
        score = uint32(head >> 128);
        weight = Reputation.weight128(uint128(stakeAmount), uint32(score));
    }

    /// @dev Entry `i`'s node, and 1 if its root is empty, 2 if its signature is not the node's.
    function _verifySignature(BatchCursor memory k, SignedSubmission[] calldata entries, uint256 i)
        private
        view
        returns (address account, bytes32 root, uint256 failure)
    {
        bytes32 typeHash = SUBMISSION_TYPEHASH;
        bytes32 domain = k.domainSeparator;
        uint256 taskId = k.taskId;
        uint256 cycle = k.cycle;
        assembly ("memory-safe") {
            let e := add(entries.offset, shl(7, i))
            account := calldataload(e)
            if shr(160, account) { revert(0, 0) } // not an ABI address
            root := calldataload(add(e, 0x20))
            switch iszero(root)
            case 1 { failure := 1 }
            default {
                let m := mload(0x40)
                // digest = keccak256("\x19\x01" ‖ domain ‖ keccak256(abi.encode(typeHash, taskId, cycle, root)))
                mstore(m, typeHash)
                mstore(add(m, 0x20), taskId)
                mstore(add(m, 0x40), cycle)
                mstore(add(m, 0x60), root)
                let structHash := keccak256(m, 0x80)
                mstore(m, shl(240, 0x1901))
                mstore(add(m, 0x02), domain)
                mstore(add(m, 0x22), structHash)
                let digest := keccak256(m, 0x42)
                let vs := calldataload(add(e, 0x60))
                let s := shr(1, shl(1, vs))
                let signer := 0
                if iszero(gt(s, 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0)) {
                    mstore(m, digest)
                    mstore(add(m, 0x20), add(shr(255, vs), 27))
                    mstore(add(m, 0x40), calldataload(add(e, 0x40)))
                    mstore(add(m, 0x60), s)
                    mstore(0x00, 0)
                    if staticcall(gas(), 1, m, 0x80, 0x00, 0x20) { signer := mload(0x00) }
                }
                if or(iszero(signer), iszero(eq(signer, account))) { failure := 2 }
            }
        }
    }

    /// @dev A node's first submission in this task: registration is permanent, so checking it once
    /// (when the member index is assigned) is checking it always.
    function _admitNewMember(Task storage task, uint256 nodeSlot, address account, uint256 i) private returns (uint256) {
        if (bytes(_p2pAddressOf[account]).length == 0) revert BatchEntryRejected(i, account, NotRegistered.selector);
        NodeState storage node;
        assembly ("memory-safe") {
            node.slot := nodeSlot
        }
        return _memberIndex(task, node);
    }

    /// @notice Creates the Submission record of a batched entry from its Merkle proof (anyone may
    /// call, once the cycle's submission window has closed so its index is final). Idempotent:
    /// returns the existing record's index if already there. Past the audit window it also settles
    /// the entry's reputation (lazy settlement of batched nodes).
    function materializeSubmission(
        uint256 taskId,
        uint256 cycle,
        uint256 batchIndex,
        BatchedEntry calldata entry,
        bytes32[] calldata proof
    ) external onlyDelegated returns (uint256 index) {
        Task storage task = _task(taskId);
        uint256 closesAt = _roundStart(task, cycle + 1) + task.params.submissionWindow;
        if (block.timestamp < closesAt) revert SubmissionsStillOpen(taskId, cycle, closesAt);
        bytes32 entriesRoot = _batches[taskId][cycle][batchIndex].entriesRoot;
        if (entriesRoot == bytes32(0)) revert BatchNotFound(taskId, cycle, batchIndex);
        bytes32 leaf = _entryLeaf(entry.node, entry.root, entry.position, entry.weightStart, entry.weightEnd, entry.score);
        if (!MerkleProof.verifyCalldata(proof, entriesRoot, leaf)) revert InvalidBatchProof(taskId, cycle, batchIndex, entry.node);
        Submission storage s = _submissions[taskId][cycle][entry.node];
        // A node has one submission per cycle (the bitmap), so an existing record is this one.
        if (s.root != bytes32(0)) return s.index;
        index = _cycles[taskId][cycle].submitters.length + entry.position;
        s.root = entry.root;
        s.index = uint32(index);
        s.scoreAtSubmission = uint32(entry.score);
        s.cumulativeWeight = uint128(entry.weightEnd);
        s.weightStart = uint128(entry.weightStart);
        s.batched = true;
        emit SubmissionMaterialized(taskId, cycle, entry.node, batchIndex, index);
        if (block.timestamp >= _roundStart(task, cycle + 1) + task.params.auditWindow) _settle(taskId, cycle, entry.node);
    }

    /// @notice The EIP-712 digest a node signs for submitBatch (domain: this TaskManager).
    function submissionDigest(uint256 taskId, uint256 cycle, bytes32 root) external view returns (bytes32) {
        return _hashTypedDataV4(_submissionStructHash(taskId, cycle, root));
    }

    /// @notice Leaf of a batched entry in its batch's entries root.
    function batchEntryLeaf(BatchedEntry calldata entry) external pure returns (bytes32) {
        return _entryLeaf(entry.node, entry.root, entry.position, entry.weightStart, entry.weightEnd, entry.score);
    }

    function getBatch(uint256 taskId, uint256 cycle, uint256 batchIndex) external view returns (Batch memory) {
        return _batches[taskId][cycle][batchIndex];
    }

    /// @notice Whether `node` submitted for `cycle`, directly or in a batch.
    function hasSubmittedInCycle(uint256 taskId, uint256 cycle, address node) external view returns (bool) {
        return _submittedBit(taskId, cycle, _nodes[taskId][node].memberIndex);
    }

    function _submissionStructHash(uint256 taskId, uint256 cycle, bytes32 root) private pure returns (bytes32 hash) {
        bytes32 typeHash = SUBMISSION_TYPEHASH;
        assembly ("memory-safe") {
            // keccak256(abi.encode(typeHash, taskId, cycle, root)) in scratch memory past the free
            // pointer: a batch of N allocates nothing per entry.
            let m := mload(0x40)
            mstore(m, typeHash)
            mstore(add(m, 0x20), taskId)
            mstore(add(m, 0x40), cycle)
            mstore(add(m, 0x60), root)
            hash := keccak256(m, 0x80)
        }
    }

    /// @dev keccak256(bytes.concat(keccak256(abi.encode(node, root, position, weightStart, weightEnd, score)))).
    function _entryLeaf(address node, bytes32 root, uint256 position, uint256 weightStart, uint256 weightEnd, uint256 score)
        private
        pure
        returns (bytes32 leaf)
    {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, and(node, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(m, 0x20), root)
            mstore(add(m, 0x40), position)
            mstore(add(m, 0x60), weightStart)
            mstore(add(m, 0x80), weightEnd)
            mstore(add(m, 0xa0), score)
            mstore(0x00, keccak256(m, 0xc0))
            leaf := keccak256(0x00, 0x20)
        }
    }

    /// @dev Merkle root over `leaves` (overwritten): pairs hashed sorted (OpenZeppelin's
    /// commutative keccak, so MerkleProof verifies it), an odd last node promoted unchanged.
    /// Assembly: this runs once per entry of every batch, and checked array access doubled it.
    function _rootOf(bytes32[] memory leaves) private pure returns (bytes32 root) {
        assembly ("memory-safe") {
            let base := add(leaves, 0x20)
            for { let width := mload(leaves) } gt(width, 1) {} {
                let half := shr(1, width)
                for { let i := 0 } lt(i, half) { i := add(i, 1) } {
                    let a := mload(add(base, shl(6, i)))
                    let b := mload(add(base, add(shl(6, i), 0x20)))
                    if gt(a, b) {
                        let t := a
                        a := b
                        b := t
                    }
                    mstore(0x00, a)
                    mstore(0x20, b)
                    mstore(add(base, shl(5, i)), keccak256(0x00, 0x40))
                }
                if and(width, 1) { mstore(add(base, shl(5, half)), mload(add(base, shl(5, sub(width, 1))))) }
                width := add(half, and(width, 1))
            }
            root := mload(base)
        }
    }

    // ───────────────────────────── views ─────────────────────────────

    function MIN_UNBONDING_ROUNDS() external pure returns (uint256) {
        return MIN_UNBONDING_ROUNDS_;
    }

    function taskCount() external view returns (uint256) {
        return _taskCount;
    }

    function auditCount() external view returns (uint256) {
        return _auditCount;
    }

    function claimed(uint256 taskId, uint256 cycle, address node) external view returns (bool) {
        return _claimed[taskId][cycle][node];
    }

    function p2pAddressOf(address node) external view returns (string memory) {
        return _p2pAddressOf[node];
    }

    /// @notice Leaf of a distribution list: OpenZeppelin's standard double-hashed leaf of
    /// abi.encode(taskId, cycle, node, reward, bonus) (the leaf format of the npm merkle-tree library by OpenZeppelin).
    function distributionLeaf(uint256 taskId, uint256 cycle, address node, uint256 reward, uint256 bonus)
        external
        pure
        returns (bytes32)
    {
        return _distributionLeaf(taskId, cycle, node, reward, bonus);
    }

    function getTask(uint256 taskId) external view returns (Task memory) {
        return _task(taskId);
    }

    function getNode(uint256 taskId, address node) external view returns (NodeState memory) {
        return _nodes[taskId][node];
    }

    function getSubmission(uint256 taskId, uint256 cycle, address node) external view returns (Submission memory) {
        return _submissions[taskId][cycle][node];
    }

    function getCycle(uint256 taskId, uint256 cycle) external view returns (Cycle memory) {
        return _cycles[taskId][cycle];
    }

    function getAudit(uint256 auditId) external view returns (Audit memory) {
        return _audit(auditId);
    }

    function getVote(uint256 auditId, address voter) external view returns (Vote memory) {
        return _votes[auditId][voter];
    }

    /// @notice Stake token of the voters' pool of `auditId` not yet claimed.
    function votersPoolRemaining(uint256 auditId) external view returns (uint256) {
        return _audits[auditId].votersPool - _votersPaid[auditId];
    }

    function currentRound(uint256 taskId) external view returns (uint256) {
        return _currentRound(_task(taskId));
    }

    function roundStart(uint256 taskId, uint256 round) external view returns (uint256) {
        return _roundStart(_task(taskId), round);
    }

    /// @notice First round at which `node`'s unbonding stake may be withdrawn (other conditions:
    /// no open cases and no re-opened rounds).
    function unbondedAtRound(uint256 taskId, address node) external view returns (uint256) {
        return _unbondedAtRound(taskId, node);
    }

    /// @notice The attempt whose posting window is open now (lazy: unposted turns time out).
    function currentDistributionAttempt(uint256 taskId, uint256 cycle) external view returns (uint256) {
        Task storage task = _task(taskId);
        return _currentAttempt(task, _cycles[taskId][cycle], cycle);
    }

}
