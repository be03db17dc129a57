// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {ICoopTaskManager} from "../../src/interfaces/ICoopTaskManager.sol";
import {ITaskManager} from "../../src/interfaces/ITaskManager.sol";
import {TaskLens} from "../../src/TaskLens.sol";
import {BatchSigner} from "../utils/BatchSigner.sol";

/// @dev The invariant handler's batcher: posts signed submissions with submitBatch, remembers
/// each batch's entries (as an off-chain reader decodes them), and materializes entries from their
/// proofs. A contract of its own so the handler stays under EIP-170.
contract BatchActor {
    ICoopTaskManager public immutable manager;
    TaskLens public immutable lens;

    struct BatchRecord {
        uint256 batchIndex;
        ITaskManager.BatchedEntry entry;
    }

    mapping(uint256 => mapping(uint256 => BatchRecord[])) internal _batched;
    mapping(uint256 => mapping(uint256 => mapping(address => bool))) public isBatched;

    constructor(ICoopTaskManager manager_, TaskLens lens_) {
        manager = manager_;
        lens = lens_;
    }

    function recordCount(uint256 taskId, uint256 cycle) external view returns (uint256) {
        return _batched[taskId][cycle].length;
    }

    /// @dev The nodes of `keys` sign their submissions and the batcher posts them. Like a real
    /// batcher, it leaves out entries the contract would reject (it simulates first), unless
    /// `includeIneligible` (then the batch must be refused as a whole).
    function signAndSubmit(uint256 taskId, uint256 cycle, uint256[] memory keys, bool includeIneligible)
        external
        returns (bool ok, address[] memory nodes)
    {
        ITaskManager.SignedSubmission[] memory batch = new ITaskManager.SignedSubmission[](keys.length);
        uint256 n;
        uint256 minStake = manager.getTask(taskId).params.minStake;
        for (uint256 i = 0; i < keys.length; ++i) {
            if (includeIneligible || _eligible(taskId, cycle, BatchSigner.vm.addr(keys[i]), minStake)) batch[n++] = _sign(taskId, cycle, keys[i]);
        }
        if (n == 0) return (false, nodes);
        assembly ("memory-safe") {
            mstore(batch, n)
        }
        return _submitBatch(taskId, cycle, batch);
    }

    function _eligible(uint256 taskId, uint256 cycle, address node, uint256 minStake) internal view returns (bool) {
        return manager.getNode(taskId, node).stake >= minStake && !manager.hasSubmittedInCycle(taskId, cycle, node);
    }

    function _sign(uint256 taskId, uint256 cycle, uint256 key) internal view returns (ITaskManager.SignedSubmission memory) {
        address node = BatchSigner.vm.addr(key);
        return BatchSigner.sign(manager, key, taskId, cycle, keccak256(abi.encode(node, taskId, cycle)));
    }

    function _submitBatch(uint256 taskId, uint256 cycle, ITaskManager.SignedSubmission[] memory batch)
        internal
        returns (bool ok, address[] memory nodes)
    {
        ITaskManager.BatchedEntry[] memory entries = BatchSigner.predict(manager, taskId, cycle, batch);
        try manager.submitBatch(taskId, cycle, batch) returns (uint256 batchIndex) {
            nodes = new address[](entries.length);
            for (uint256 k = 0; k < entries.length; ++k) {
                _batched[taskId][cycle].push(BatchRecord(batchIndex, entries[k]));
                isBatched[taskId][cycle][entries[k].node] = true;
                nodes[k] = entries[k].node;
            }
            ok = true;
        } catch {}
    }

    /// @dev Materializes one recorded entry of the cycle (after its window: time moves there).
    /// 0: nothing recorded, 1: materialized, 2: refused.
    function materializeAny(uint256 taskId, uint256 cycle, uint256 seed) external returns (uint256) {
        uint256 count = _batched[taskId][cycle].length;
        if (count == 0) return 0;
        uint256 closesAt = manager.roundStart(taskId, cycle + 1) + manager.getTask(taskId).params.submissionWindow;
        if (block.timestamp < closesAt) BatchSigner.vm.warp(closesAt + (seed % 20));
        return materialize(taskId, cycle, seed % count) ? 1 : 2;
    }

    /// @dev Materializes record `k` of the cycle from its batch's proof.
    function materialize(uint256 taskId, uint256 cycle, uint256 k) public returns (bool) {
        BatchRecord[] storage records = _batched[taskId][cycle];
        uint256 batchIndex = records[k].batchIndex;
        uint256 first;
        uint256 count;
        for (uint256 j = 0; j < records.length; ++j) {
            if (records[j].batchIndex != batchIndex) continue;
            if (count == 0) first = j;
            count++;
        }
        ITaskManager.BatchedEntry[] memory entries = new ITaskManager.BatchedEntry[](count);
        for (uint256 j = 0; j < count; ++j) entries[j] = records[first + j].entry;
        bytes32[] memory proof = BatchSigner.proof(BatchSigner.leaves(manager, entries), k - first);
        try manager.materializeSubmission(taskId, cycle, batchIndex, records[k].entry, proof) {
            return true;
        } catch {
            return false;
        }
    }

    /// @dev Materializes `node`'s batched entry of the cycle, if it has one.
    function materializeNode(uint256 taskId, uint256 cycle, address node) external returns (bool) {
        BatchRecord[] storage records = _batched[taskId][cycle];
        for (uint256 k = 0; k < records.length; ++k) {
            if (records[k].entry.node == node) return materialize(taskId, cycle, k);
        }
        return false;
    }

    /// @dev Direct submitters, then batched entries (the cycle's selection order).
    function allSubmitters(uint256 taskId, uint256 cycle) external view returns (address[] memory all) {
        address[] memory direct = manager.getCycle(taskId, cycle).submitters;
        BatchRecord[] storage records = _batched[taskId][cycle];
        all = new address[](direct.length + records.length);
        for (uint256 i = 0; i < direct.length; ++i) all[i] = direct[i];
        for (uint256 k = 0; k < records.length; ++k) all[direct.length + k] = records[k].entry.node;
    }

    /// @dev The lens answers for the direct line; a draw on the batched line is resolved from the
    /// recorded entries and the selected entry is materialized (what a batched poster does).
    function selectedPoster(uint256 taskId, uint256 cycle, uint256 attempt)
        external
        returns (address poster, uint256 index, bool batched)
    {
        (poster, index) = lens.selectedDistributor(taskId, cycle, attempt);
        if (index != lens.BATCHED_SELECTION()) return (poster, index, false);
        (uint256 point, uint256 directTotal,) = lens.selectionPoint(taskId, cycle, attempt);
        BatchRecord[] storage records = _batched[taskId][cycle];
        for (uint256 k = 0; k < records.length; ++k) {
            ITaskManager.BatchedEntry storage e = records[k].entry;
            if (e.weightStart <= point - directTotal && point - directTotal < e.weightEnd) {
                materialize(taskId, cycle, k);
                return (e.node, manager.getCycle(taskId, cycle).submitters.length + e.position, true);
            }
        }
    }
}
