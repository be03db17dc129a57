// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {ICoopTaskManager} from "../../src/interfaces/ICoopTaskManager.sol";
import {DeployTaskManager} from "../utils/DeployTaskManager.sol";
import {TaskLens} from "../../src/TaskLens.sol";
import {ITaskManager} from "../../src/interfaces/ITaskManager.sol";
import {TestBase} from "../utils/TestBase.sol";
import {TestERC20} from "../utils/TestERC20.sol";
import {TaskManagerHandler} from "./TaskManagerHandler.sol";

/// @dev Invariants of the settlement layer under random protocol traffic (see the handler).
/// Runs and depth come from foundry.toml ([invariant] runs = 256, depth = 64).
/// @dev Deployment and the checks, shared by the invariant suite and the handler coverage test.
abstract contract TaskManagerInvariantBase is TestBase {
    ICoopTaskManager internal manager;
    TaskLens internal lens;
    TestERC20 internal tokenA;
    TestERC20 internal tokenB;
    TaskManagerHandler internal handler;

    function setUp() public {
        vm.warp(1_000_000);
        tokenA = new TestERC20("A", "A");
        tokenB = new TestERC20("B", "B");
        manager = DeployTaskManager.deploy();
        lens = new TaskLens(manager);
        handler = new TaskManagerHandler(manager, lens, tokenA, tokenB);
        targetContract(address(handler));
    }

    /// Conservation: for every token, the manager holds exactly what it owes —
    /// stakes + unbonding + escrowed bounties + unclaimed cycle budgets and bonuses + slash pools
    /// + unclaimed voter pools. Nothing is created, nothing disappears.
    function check_conservationPerToken() internal view {
        assertEq(tokenA.balanceOf(address(manager)), _owed(address(tokenA)), "token A conservation");
        assertEq(tokenB.balanceOf(address(manager)), _owed(address(tokenB)), "token B conservation");
    }

    function check_noClaimPaidTwice() internal view {
        assertEq(handler.ghostDoubleClaims(), 0, "a claim was paid twice");
        uint256 n = handler.openedCycleCount();
        for (uint256 i = 0; i < n; ++i) {
            (uint256 taskId, uint256 cycle) = handler.openedCycles(i);
            ITaskManager.Cycle memory c = manager.getCycle(taskId, cycle);
            assertEq(c.rewardClaimed, handler.ghostRewardPaid(taskId, cycle), "claimed reward matches payments");
            assertEq(c.bonusClaimed, handler.ghostBonusPaid(taskId, cycle), "claimed bonus matches payments");
        }
    }

    function check_noStakeWithdrawnWhileSlashable() internal view {
        assertEq(handler.ghostWithdrawWhileSlashable(), 0, "stake left while still slashable");
    }

    /// Total paid per cycle <= that cycle's bounty + the slashes returned to it.
    function check_paidPerCycleWithinBountyPlusReturnedSlashes() internal view {
        assertEq(handler.ghostOverpaidCycles(), 0, "a cycle paid more than bounty + returned slashes");
        uint256 n = handler.openedCycleCount();
        for (uint256 i = 0; i < n; ++i) {
            (uint256 taskId, uint256 cycle) = handler.openedCycles(i);
            ITaskManager.Cycle memory c = manager.getCycle(taskId, cycle);
            assertLe(c.rewardClaimed, handler.ghostRewardCap(taskId, cycle), "reward paid <= bounty");
            assertLe(c.bonusClaimed, handler.ghostBonusCap(taskId, cycle), "bonus paid <= returned slashes");
            assertLe(c.rewardClaimed, c.rewardTotal, "reward paid <= posted total");
        }
    }

    /// One vote per node per audit: each audit's tallies are exactly the sum of its recorded votes.
    function check_oneVotePerNodePerAudit() internal view {
        assertEq(handler.ghostDoubleVotes(), 0, "a node voted twice");
        uint256 audits = manager.auditCount();
        uint256 actors = handler.actorCount();
        for (uint256 id = 1; id <= audits; ++id) {
            ITaskManager.Audit memory a = manager.getAudit(id);
            uint256 uphold;
            uint256 reject;
            for (uint256 k = 0; k < actors; ++k) {
                address actor = handler.actors(k);
                assertLe(handler.ghostVotes(id, actor), 1, "at most one vote");
                ITaskManager.Vote memory v = manager.getVote(id, actor);
                if (v.side == ITaskManager.VoteSide.Uphold) uphold += v.weight;
                if (v.side == ITaskManager.VoteSide.Reject) reject += v.weight;
            }
            assertEq(a.upholdWeight, uphold, "uphold tally");
            assertEq(a.rejectWeight, reject, "reject tally");
        }
    }

    function _owed(address token) internal view returns (uint256 owed) {
        uint256 tasks = handler.taskCount();
        uint256 actors = handler.actorCount();
        for (uint256 t = 0; t < tasks; ++t) {
            uint256 taskId = handler.taskIds(t);
            ITaskManager.Task memory task = manager.getTask(taskId);
            bool isStake = address(task.params.stakeToken) == token;
            bool isReward = address(task.params.rewardToken) == token;
            if (isReward) owed += task.escrow;
            if (isStake) {
                owed += task.slashPool;
                for (uint256 k = 0; k < actors; ++k) {
                    ITaskManager.NodeState memory n = manager.getNode(taskId, handler.actors(k));
                    owed += n.stake + n.unbonding;
                }
            }
        }
        uint256 cycles = handler.openedCycleCount();
        for (uint256 i = 0; i < cycles; ++i) {
            (uint256 taskId, uint256 cycle) = handler.openedCycles(i);
            ITaskManager.Task memory task = manager.getTask(taskId);
            ITaskManager.Cycle memory c = manager.getCycle(taskId, cycle);
            if (address(task.params.rewardToken) == token) owed += c.budget - c.rewardClaimed;
            if (address(task.params.stakeToken) == token) owed += c.bonus - c.bonusClaimed;
        }
        uint256 audits = manager.auditCount();
        for (uint256 id = 1; id <= audits; ++id) {
            ITaskManager.Audit memory a = manager.getAudit(id);
            if (address(manager.getTask(a.taskId).params.stakeToken) == token) owed += manager.votersPoolRemaining(id);
        }
    }
}

contract TaskManagerInvariantTest is TaskManagerInvariantBase {
    function invariant_conservationPerToken() public view {
        check_conservationPerToken();
    }

    function invariant_noClaimPaidTwice() public view {
        check_noClaimPaidTwice();
    }

    function invariant_noStakeWithdrawnWhileSlashable() public view {
        check_noStakeWithdrawnWhileSlashable();
    }

    function invariant_paidPerCycleWithinBountyPlusReturnedSlashes() public view {
        check_paidPerCycleWithinBountyPlusReturnedSlashes();
    }

    function invariant_oneVotePerNodePerAudit() public view {
        check_oneVotePerNodePerAudit();
    }
}
