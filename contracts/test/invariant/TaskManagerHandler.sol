// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {ICoopTaskManager} from "../../src/interfaces/ICoopTaskManager.sol";
import {TaskLens} from "../../src/TaskLens.sol";
import {ITaskManager} from "../../src/interfaces/ITaskManager.sol";
import {Vm} from "../utils/Vm.sol";
import {TestERC20} from "../utils/TestERC20.sol";
import {MerkleBuilder} from "../utils/MerkleBuilder.sol";
import {DefaultTaskParams} from "../utils/DefaultTaskParams.sol";
import {BatchActor} from "./BatchActor.sol";

/// @dev Drives a TaskManager through random but well-formed protocol traffic: stakes, unstakes,
/// submissions, audits, votes, resolutions, distributions (honest and over-claiming), challenges,
/// claims, top-ups, stops and time passing. Some submissions go through signed batches
/// (submitBatch); batched entries are materialized on demand (audits, the selected poster) or by
/// the materialize action, and batched nodes are in the lists and claim like direct ones. Inputs are bounded; calls that the protocol refuses are
/// caught, so the handler itself never reverts. Ghost state records what must never happen.
contract TaskManagerHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    ICoopTaskManager public immutable manager;
    TaskLens public immutable lens;
    TestERC20 public immutable tokenA;
    TestERC20 public immutable tokenB;

    uint256[] public taskIds;
    address[] public actors;
    address public immutable creator = address(0xC0FFEE);

    struct CycleKey {
        uint256 taskId;
        uint256 cycle;
    }

    struct Payout {
        address node;
        uint256 reward;
        uint256 bonus;
    }

    BatchActor public immutable batches;

    CycleKey[] public openedCycles;
    mapping(uint256 => mapping(uint256 => bool)) internal _opened;
    mapping(uint256 => mapping(uint256 => Payout[])) internal _lists;

    // ─── ghost state ───
    mapping(uint256 => mapping(uint256 => mapping(address => uint256))) public ghostClaims; // times paid
    mapping(uint256 => mapping(uint256 => uint256)) public ghostRewardPaid;
    mapping(uint256 => mapping(uint256 => uint256)) public ghostBonusPaid;
    mapping(uint256 => mapping(uint256 => uint256)) public ghostRewardCap; // budget when the cycle opened
    mapping(uint256 => mapping(uint256 => uint256)) public ghostBonusCap; // bonus at open + returned slashes
    mapping(uint256 => mapping(address => uint256)) public ghostVotes;
    mapping(uint256 => mapping(address => uint256)) public ghostOpenCases;
    mapping(uint256 => mapping(address => uint256)) public ghostLastCyclePlusOne;
    uint256 public ghostDoubleClaims;
    uint256 public ghostWithdrawWhileSlashable;
    uint256 public ghostOverpaidCycles;
    uint256 public ghostDoubleVotes;
    mapping(bytes32 => uint256) internal _calls;
    function calls(bytes32 k) external view returns (uint256) { return _calls[k]; }

    /// @dev One shared increment (instead of one per call site) keeps the handler under EIP-170.
    function _count(bytes32 path) internal {
        _calls[path]++;
    }

    constructor(ICoopTaskManager manager_, TaskLens lens_, TestERC20 tokenA_, TestERC20 tokenB_) {
        manager = manager_;
        lens = lens_;
        tokenA = tokenA_;
        tokenB = tokenB_;
        batches = new BatchActor(manager_, lens_);
        for (uint256 i = 1; i <= 5; ++i) actors.push(vm.addr(0x1000 + i)); // keys 0x1001.. sign batched submissions
        // Task 1: stake A, reward B. Task 2: stake and reward both B (commingled accounting).
        taskIds.push(_createTask(tokenA, tokenB));
        taskIds.push(_createTask(tokenB, tokenB));
        for (uint256 i = 0; i < actors.length; ++i) {
            vm.prank(actors[i]);
            manager.registerNode(string.concat("/ip4/127.0.0.1/tcp/4001/p2p/node", vm.toString(i)));
            for (uint256 t = 0; t < taskIds.length; ++t) _stake(actors[i], taskIds[t], 1_000e18);
        }
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function taskCount() external view returns (uint256) {
        return taskIds.length;
    }

    function openedCycleCount() external view returns (uint256) {
        return openedCycles.length;
    }

    // ─────────────────────────── actions ───────────────────────────

    function warp(uint256 seconds_) external {
        _count(keccak256("warp"));
        vm.warp(block.timestamp + bound(seconds_, 1, 60));
        vm.roll(block.number + 1);
    }

    function stake(uint256 actorSeed, uint256 taskSeed, uint256 amount) external {
        _count(keccak256("stake"));
        _stake(_actor(actorSeed), _taskId(taskSeed), bound(amount, 1, 2_000e18));
    }

    function requestUnstake(uint256 actorSeed, uint256 taskSeed, uint256 amount) external {
        address actor = _actor(actorSeed);
        uint256 taskId = _taskId(taskSeed);
        uint256 active = manager.getNode(taskId, actor).stake;
        if (active == 0) return;
        _count(keccak256("requestUnstake"));
        vm.prank(actor);
        manager.requestUnstake(taskId, bound(amount, 1, active));
    }

    function withdrawStake(uint256 actorSeed, uint256 taskSeed) external {
        address actor = _actor(actorSeed);
        uint256 taskId = _taskId(taskSeed);
        bool slashable = _slashable(taskId, actor);
        vm.prank(actor);
        try manager.withdrawStake(taskId) {
            _count(keccak256("withdrawStake.ok"));
            if (slashable) ghostWithdrawWhileSlashable++;
        } catch {
            _count(keccak256("withdrawStake.refused"));
        }
    }

    /// @dev Moves to the next open submission window of the task if needed, then lets the
    /// actors picked by `mask` submit for the cycle being reviewed.
    function submit(uint256 mask, uint256 taskSeed) external {
        uint256 taskId = _taskId(taskSeed);
        uint256 round = manager.currentRound(taskId);
        uint256 windowEnd = manager.roundStart(taskId, round) + manager.getTask(taskId).params.submissionWindow;
        if (round == 0 || block.timestamp >= windowEnd) {
            round += 1;
            vm.warp(manager.roundStart(taskId, round) + bound(mask >> 8, 0, 29));
        }
        uint256 cycle = round - 1;
        uint256[] memory viaBatcher = new uint256[](actors.length);
        uint256 batched;
        for (uint256 i = 0; i < actors.length; ++i) {
            if ((mask >> i) & 1 == 0 && i != mask % actors.length) continue;
            address actor = actors[i];
            bytes32 root = keccak256(abi.encode(actor, taskId, cycle));
            if ((mask >> (16 + i)) & 1 == 1) {
                viaBatcher[batched++] = 0x1001 + i; // signed and posted by the batcher after the loop
                continue;
            }
            vm.prank(actor);
            try manager.submit(taskId, cycle, root) {
                _count(keccak256("submit.ok"));
                ghostLastCyclePlusOne[taskId][actor] = cycle + 1;
                _markOpened(taskId, cycle);
            } catch {
                _count(keccak256("submit.refused"));
            }
        }
        if (batched > 0) _submitBatch(taskId, cycle, viaBatcher, batched, (mask >> 40) % 8 == 0);
    }

    function _submitBatch(uint256 taskId, uint256 cycle, uint256[] memory keys, uint256 count, bool includeIneligible) internal {
        assembly ("memory-safe") {
            mstore(keys, count)
        }
        (bool ok, address[] memory nodes) = batches.signAndSubmit(taskId, cycle, keys, includeIneligible);
        if (!ok) {
            _count(keccak256("submitBatch.refused"));
            return;
        }
        _count(keccak256("submitBatch.ok"));
        for (uint256 k = 0; k < nodes.length; ++k) ghostLastCyclePlusOne[taskId][nodes[k]] = cycle + 1;
        _markOpened(taskId, cycle);
    }

    function _markOpened(uint256 taskId, uint256 cycle) internal {
        if (_opened[taskId][cycle]) return;
        _opened[taskId][cycle] = true;
        openedCycles.push(CycleKey(taskId, cycle));
        ITaskManager.Cycle memory c = manager.getCycle(taskId, cycle);
        ghostRewardCap[taskId][cycle] = c.budget;
        ghostBonusCap[taskId][cycle] = c.bonus;
    }

    /// @dev Anyone materializes one batched entry of a recent cycle from its Merkle proof.
    function materialize(uint256 cycleSeed, uint256 entrySeed) external {
        if (openedCycles.length == 0) return;
        CycleKey memory key = _recentCycle(cycleSeed);
        uint256 outcome = batches.materializeAny(key.taskId, key.cycle, entrySeed);
        if (outcome == 1) _count(keccak256("materialize.ok"));
        else if (outcome == 2) _count(keccak256("materialize.refused"));
    }

    function raiseAudit(uint256 accuserSeed, uint256 accusedSeed, uint256 cycleSeed) external {
        if (openedCycles.length == 0) return;
        CycleKey memory key = _recentCycle(cycleSeed);
        address accuser = _actor(accuserSeed);
        address accused = _actor(accusedSeed);
        uint256 auditOpens = manager.roundStart(key.taskId, key.cycle + 1) + manager.getTask(key.taskId).params.submissionWindow;
        if (block.timestamp < auditOpens) vm.warp(auditOpens + (accusedSeed % 20));
        bool batched = batches.isBatched(key.taskId, key.cycle, accused);
        if (batched) batches.materializeNode(key.taskId, key.cycle, accused);
        vm.prank(accuser);
        try manager.raiseAudit(key.taskId, key.cycle, accused, keccak256("evidence")) returns (uint256 auditId) {
            _count(keccak256("raiseAudit.ok"));
            if (batched) _count(keccak256("raiseAudit.batched.ok"));
            ghostVotes[auditId][accuser]++;
            ghostOpenCases[key.taskId][accuser]++;
            ghostOpenCases[key.taskId][accused]++;
        } catch {
            _count(keccak256("raiseAudit.refused"));
        }
    }

    function challengeDistribution(uint256 accuserSeed, uint256 cycleSeed) external {
        if (openedCycles.length == 0) return;
        CycleKey memory key = _recentCycle(cycleSeed);
        address accuser = _actor(accuserSeed);
        address poster = manager.getCycle(key.taskId, key.cycle).poster;
        vm.prank(accuser);
        try manager.challengeDistribution(key.taskId, key.cycle, keccak256("list differs")) returns (uint256 auditId) {
            _count(keccak256("challenge.ok"));
            ghostVotes[auditId][accuser]++;
            ghostOpenCases[key.taskId][accuser]++;
            ghostOpenCases[key.taskId][poster]++;
        } catch {
            _count(keccak256("challenge.refused"));
        }
    }

    function vote(uint256 actorSeed, uint256 auditSeed, bool uphold) external {
        uint256 count = manager.auditCount();
        if (count == 0) return;
        uint256 auditId = bound(auditSeed, 1, count);
        address actor = _actor(actorSeed);
        vm.prank(actor);
        try manager.vote(auditId, uphold ? ITaskManager.VoteSide.Uphold : ITaskManager.VoteSide.Reject) {
            _count(keccak256("vote.ok"));
            if (++ghostVotes[auditId][actor] > 1) ghostDoubleVotes++;
        } catch {
            _count(keccak256("vote.refused"));
        }
    }

    function resolveAudit(uint256 auditSeed) external {
        uint256 count = manager.auditCount();
        if (count == 0) return;
        uint256 auditId = bound(auditSeed, 1, count);
        ITaskManager.Audit memory a = manager.getAudit(auditId);
        if (block.timestamp < a.deadline && auditSeed % 2 == 0) vm.warp(a.deadline);
        uint256 bonusBefore = manager.getCycle(a.taskId, a.cycle).bonus;
        try manager.resolveAudit(auditId) {
            _count(keccak256("resolve.ok"));
            if (manager.getAudit(auditId).upheld) _count(keccak256("resolve.upheld"));
            ghostOpenCases[a.taskId][a.accused]--;
            ghostOpenCases[a.taskId][a.accuser]--;
            // Slash remainders returned to this cycle raise what it may pay out.
            uint256 bonusAfter = manager.getCycle(a.taskId, a.cycle).bonus;
            if (bonusAfter > bonusBefore) ghostBonusCap[a.taskId][a.cycle] += bonusAfter - bonusBefore;
        } catch {
            _count(keccak256("resolve.refused"));
        }
    }

    /// @dev Every actor tries to take its voter reward for one audit (most are refused).
    function claimVoteReward(uint256 auditSeed) external {
        uint256 count = manager.auditCount();
        if (count == 0) return;
        uint256 auditId = bound(auditSeed, 1, count);
        for (uint256 k = 0; k < actors.length; ++k) {
            vm.prank(actors[k]);
            try manager.claimVoteReward(auditId) {
                _count(keccak256("voteReward.ok"));
            } catch {
                _count(keccak256("voteReward.refused"));
            }
        }
    }

    /// @dev The selected node posts an equal split among non-convicted submitters. With
    /// `greedy`, it tries to post more than the budget (must be refused) or a list whose leaves
    /// over-claim its declared total (claims must stop at the total).
    function postDistribution(uint256 cycleSeed, uint256 mode) external {
        if (openedCycles.length == 0) return;
        CycleKey memory key = _recentCycle(cycleSeed);
        uint256 opensAt = manager.roundStart(key.taskId, key.cycle + 2);
        if (block.timestamp < opensAt) vm.warp(opensAt);
        ITaskManager.Cycle memory c = manager.getCycle(key.taskId, key.cycle);
        if (c.status != ITaskManager.DistributionStatus.Pending || c.seed == bytes32(0)) {
            try manager.recordSeed(key.taskId, key.cycle) {} catch {}
            c = manager.getCycle(key.taskId, key.cycle);
            if (c.seed == bytes32(0) || c.status != ITaskManager.DistributionStatus.Pending) return;
        }
        uint256 attempt = manager.currentDistributionAttempt(key.taskId, key.cycle);
        (address poster, uint256 index, bool batchedPoster) = batches.selectedPoster(key.taskId, key.cycle, attempt);
        if (batchedPoster) _count(keccak256("post.batchedPoster"));
        Payout[] storage list = _lists[key.taskId][key.cycle];
        while (list.length > 0) list.pop();
        address[] memory all = batches.allSubmitters(key.taskId, key.cycle);
        uint256 passed;
        for (uint256 i = 0; i < all.length; ++i) {
            if (!manager.getSubmission(key.taskId, key.cycle, all[i]).convicted) passed++;
        }
        if (passed == 0) return;
        mode = bound(mode, 0, 2);
        for (uint256 i = 0; i < all.length; ++i) {
            if (manager.getSubmission(key.taskId, key.cycle, all[i]).convicted) continue;
            uint256 reward = c.budget / passed;
            if (mode == 2) reward = c.budget; // leaves sum far above the declared total
            list.push(Payout(all[i], reward, c.bonus / passed));
        }
        uint256 rewardTotal = mode == 1 ? c.budget + 1 : (c.budget / passed) * passed;
        uint256 bonusTotal = (c.bonus / passed) * passed;
        bytes32 root = MerkleBuilder.root(_leaves(key.taskId, key.cycle, list));
        vm.prank(poster);
        try manager.postDistribution(key.taskId, key.cycle, index, root, keccak256("list"), rewardTotal, bonusTotal, bytes32(0)) {
            _count(keccak256("post.ok"));
        } catch {
            _count(keccak256("post.refused"));
        }
    }

    function finalizeDistribution(uint256 cycleSeed) external {
        if (openedCycles.length == 0) return;
        CycleKey memory key = _recentCycle(cycleSeed);
        ITaskManager.Cycle memory c = manager.getCycle(key.taskId, key.cycle);
        uint256 finalAt = uint256(c.postedAt) + manager.getTask(key.taskId).params.distributionAuditWindow;
        if (c.status == ITaskManager.DistributionStatus.Posted && block.timestamp < finalAt) vm.warp(finalAt);
        try manager.finalizeDistribution(key.taskId, key.cycle) {
            _count(keccak256("finalize.ok"));
        } catch {
            _count(keccak256("finalize.refused"));
        }
    }

    function failDistribution(uint256 cycleSeed) external {
        if (openedCycles.length == 0) return;
        CycleKey memory key = openedCycles[bound(cycleSeed, 0, openedCycles.length - 1)];
        try manager.failDistribution(key.taskId, key.cycle) {
            _count(keccak256("fail.ok"));
        } catch {
            _count(keccak256("fail.refused"));
        }
    }

    function claim(uint256 cycleSeed, uint256 leafSeed) external {
        if (openedCycles.length == 0) return;
        CycleKey memory key = openedCycles[bound(cycleSeed, 0, openedCycles.length - 1)];
        Payout[] storage list = _lists[key.taskId][key.cycle];
        if (list.length == 0) return;
        uint256 i = bound(leafSeed, 0, list.length - 1);
        Payout memory payout = list[i];
        ITaskManager.ClaimRequest[] memory requests = new ITaskManager.ClaimRequest[](1);
        requests[0] = ITaskManager.ClaimRequest({
            cycle: key.cycle,
            reward: payout.reward,
            bonus: payout.bonus,
            proof: MerkleBuilder.proof(_leaves(key.taskId, key.cycle, list), i)
        });
        try manager.claimRewards(key.taskId, payout.node, requests) {
            _count(keccak256("claim.ok"));
            if (batches.isBatched(key.taskId, key.cycle, payout.node)) _count(keccak256("claim.batched.ok"));
            if (payout.bonus > 0) _count(keccak256("claim.bonus"));
            if (++ghostClaims[key.taskId][key.cycle][payout.node] > 1) ghostDoubleClaims++;
            ghostRewardPaid[key.taskId][key.cycle] += payout.reward;
            ghostBonusPaid[key.taskId][key.cycle] += payout.bonus;
            if (
                ghostRewardPaid[key.taskId][key.cycle] > ghostRewardCap[key.taskId][key.cycle]
                    || ghostBonusPaid[key.taskId][key.cycle] > ghostBonusCap[key.taskId][key.cycle]
            ) ghostOverpaidCycles++;
        } catch {
            _count(keccak256("claim.refused"));
        }
    }

    function fundTask(uint256 taskSeed, uint256 amount) external {
        uint256 taskId = _taskId(taskSeed);
        amount = bound(amount, 1, 5_000e18);
        ITaskManager.Task memory task = manager.getTask(taskId);
        TestERC20 token = TestERC20(address(task.params.rewardToken));
        token.mint(creator, amount);
        vm.startPrank(creator);
        token.approve(address(manager), amount);
        try manager.fundTask(taskId, amount) {
            _count(keccak256("fund.ok"));
        } catch {
            _count(keccak256("fund.refused"));
        }
        vm.stopPrank();
    }

    /// @dev Rare, and only for the second task, so the first keeps running through a whole run.
    function stopAndWithdraw(uint256 seed) external {
        if (seed % 16 != 0) return;
        uint256 taskId = taskIds[1];
        vm.startPrank(creator);
        try manager.stopTask(taskId) {
            _count(keccak256("stop.ok"));
        } catch {}
        try manager.withdrawRemainingBounty(taskId) {
            _count(keccak256("withdrawRemaining.ok"));
        } catch {
            _count(keccak256("withdrawRemaining.refused"));
        }
        vm.stopPrank();
    }

    // ─────────────────────────── helpers ───────────────────────────

    function _createTask(TestERC20 stakeToken, TestERC20 rewardToken) internal returns (uint256 taskId) {
        ITaskManager.TaskParams memory p =
            DefaultTaskParams.build(IERC20(address(stakeToken)), IERC20(address(rewardToken)));
        uint256 bounty = 20_000e18;
        rewardToken.mint(creator, bounty);
        vm.startPrank(creator);
        rewardToken.approve(address(manager), bounty);
        taskId = manager.createTask(p, bounty);
        vm.stopPrank();
    }

    function _stake(address actor, uint256 taskId, uint256 amount) internal {
        TestERC20 token = TestERC20(address(manager.getTask(taskId).params.stakeToken));
        token.mint(actor, amount);
        vm.startPrank(actor);
        token.approve(address(manager), amount);
        manager.stake(taskId, amount);
        vm.stopPrank();
    }

    /// @dev Slashable by the rules: an open case, a re-opening in force, or a submitted cycle
    /// still inside the unbonding horizon.
    function _slashable(uint256 taskId, address actor) internal view returns (bool) {
        if (ghostOpenCases[taskId][actor] != 0) return true;
        if (block.timestamp < manager.getNode(taskId, actor).reopenedUntil) return true;
        uint256 lastPlusOne = ghostLastCyclePlusOne[taskId][actor];
        if (lastPlusOne == 0) return false;
        uint256 unbondingRounds = manager.getTask(taskId).params.unbondingRounds;
        return manager.currentRound(taskId) <= lastPlusOne - 1 + unbondingRounds;
    }

    function _leaves(uint256 taskId, uint256 cycle, Payout[] storage list) internal view returns (bytes32[] memory leaves) {
        leaves = new bytes32[](list.length);
        for (uint256 i = 0; i < list.length; ++i) {
            leaves[i] = manager.distributionLeaf(taskId, cycle, list[i].node, list[i].reward, list[i].bonus);
        }
    }

    /// @dev One of the three most recently opened cycles: where the live protocol traffic is.
    function _recentCycle(uint256 seed) internal view returns (CycleKey memory) {
        uint256 n = openedCycles.length;
        uint256 window = n < 3 ? n : 3;
        return openedCycles[n - 1 - (seed % window)];
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }

    function _taskId(uint256 seed) internal view returns (uint256) {
        return taskIds[seed % taskIds.length];
    }

    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        if (x >= min && x <= max) return x;
        return min + (x % (max - min + 1));
    }
}
