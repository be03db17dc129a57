// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {ITaskManager} from "./interfaces/ITaskManager.sol";
import {DistributorSelection} from "./libraries/DistributorSelection.sol";
import {Reputation} from "./libraries/Reputation.sol";
import {SlashSplit} from "./libraries/SlashSplit.sol";

/// @title TaskManagerBase
/// @notice The storage and the internal rules shared by TaskManager and TaskManagerExtension.
/// @dev Both contracts inherit exactly this base and declare no state of their own, so their storage
/// layouts are identical and TaskManager can run the extension's code by delegatecall on its own
/// storage (see TaskManager's fallback). Add state only here, and only at the end.
abstract contract TaskManagerBase is ITaskManager, ReentrancyGuard {
    using SafeERC20 for IERC20;

    uint256 internal constant MIN_UNBONDING_ROUNDS_ = 3;

    uint256 internal _taskCount;
    uint256 internal _auditCount;

    mapping(uint256 taskId => Task) internal _tasks;
    mapping(uint256 taskId => mapping(address node => NodeState)) internal _nodes;
    mapping(uint256 taskId => mapping(uint256 cycle => Cycle)) internal _cycles;
    mapping(uint256 taskId => mapping(uint256 cycle => mapping(address node => Submission))) internal _submissions;
    mapping(uint256 auditId => Audit) internal _audits;
    mapping(uint256 auditId => mapping(address voter => Vote)) internal _votes;
    mapping(uint256 auditId => uint256) internal _votersPaid;
    mapping(uint256 taskId => mapping(uint256 cycle => mapping(address node => bool))) internal _claimed;
    mapping(address node => string) internal _p2pAddressOf;
    /// @dev Per cycle, bit `memberIndex` set once the node submitted (directly or batched): one
    /// word per 256 nodes, so a batch of N costs N/256 fresh slots instead of N.
    mapping(uint256 taskId => mapping(uint256 cycle => mapping(uint256 word => uint256))) internal _submittedBits;
    mapping(uint256 taskId => mapping(uint256 cycle => mapping(uint256 batchIndex => Batch))) internal _batches;

    // ───────────────────────────── internals ─────────────────────────────

    function _validateParams(TaskParams calldata p) internal pure {
        if (address(p.stakeToken) == address(0) || address(p.rewardToken) == address(0)) revert ZeroAddress();
        if (p.bountyPerRound == 0) revert ZeroAmount();
        // Audits open when submissions close (the seed is fixed then), so the audit window must be
        // longer than the submission window; they must also resolve within the round.
        if (
            p.roundLength == 0 || p.submissionWindow == 0 || p.voteWindow == 0 || p.submissionWindow >= p.auditWindow
                || uint256(p.auditWindow) + p.voteWindow > p.roundLength
        ) revert InvalidWindows(p.roundLength, p.submissionWindow, p.auditWindow, p.voteWindow);
        if (
            p.slashBps > 10_000 || p.falseAccusationBps > 10_000 || uint256(p.winnerBps) + p.votersBps > 10_000
                || p.auditFloorBps > 10_000
        ) revert InvalidShares(p.slashBps, p.falseAccusationBps, p.winnerBps, p.votersBps, p.auditFloorBps);
        if (p.unbondingRounds < MIN_UNBONDING_ROUNDS_) revert UnbondingTooShort(p.unbondingRounds, MIN_UNBONDING_ROUNDS_);
        if (p.maxDistributionAttempts == 0 || p.distributionWindow == 0 || p.distributionAuditWindow == 0) {
            revert InvalidDistributionParams();
        }
    }

    function _task(uint256 taskId) internal view returns (Task storage task) {
        task = _tasks[taskId];
        if (task.creator == address(0)) revert TaskNotFound(taskId);
    }

    function _audit(uint256 auditId) internal view returns (Audit storage audit) {
        audit = _audits[auditId];
        if (audit.accuser == address(0)) revert AuditNotFound(auditId);
    }

    function _roundStart(Task storage task, uint256 round) internal view returns (uint256) {
        return uint256(task.startTime) + round * task.params.roundLength;
    }

    function _currentRound(Task storage task) internal view returns (uint256) {
        return (block.timestamp - task.startTime) / task.params.roundLength;
    }

    /// @dev Pulls tokens and returns what actually arrived (fee-on-transfer tokens credit less).
    function _pull(IERC20 token, uint256 amount) internal returns (uint256 received) {
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        received = token.balanceOf(address(this)) - before;
    }

    function _fund(uint256 taskId, Task storage task, uint256 amount) internal {
        uint256 received = _pull(task.params.rewardToken, amount);
        task.escrow += received;
        emit BountyFunded(taskId, msg.sender, received);
    }

    function _openCycle(uint256 taskId, Task storage task, uint256 cycle, Cycle storage c) internal {
        if (task.stopped) revert TaskIsStopped(taskId);
        // Every cycle carries a full round's bounty; a remainder below that returns to the creator.
        uint256 budget = task.params.bountyPerRound;
        if (task.escrow < budget) revert BountyExhausted(taskId);
        task.escrow -= budget;
        c.budget = budget;
        c.bonus = task.slashPool;
        task.slashPool = 0;
        task.cyclesInFlight += 1;
        emit CycleOpened(taskId, cycle, budget, c.bonus);
    }

    function _seed(uint256 taskId, Task storage task, uint256 cycle) internal returns (bytes32 seed) {
        Cycle storage c = _cycles[taskId][cycle];
        seed = c.seed;
        if (seed != bytes32(0)) return seed;
        uint256 availableAt = _roundStart(task, cycle + 1) + task.params.submissionWindow;
        if (block.timestamp < availableAt) revert SeedNotYetAvailable(taskId, cycle, availableAt);
        // prevrandao of the first block that touches the cycle after submissions closed, mixed
        // with the previous block hash so a chain without beacon randomness still varies.
        seed = keccak256(abi.encode(block.prevrandao, blockhash(block.number - 1), taskId, cycle));
        c.seed = seed;
        emit SeedRecorded(taskId, cycle, seed);
    }

    function _settle(uint256 taskId, uint256 cycle, address account) internal {
        Submission storage s = _submissions[taskId][cycle][account];
        if (s.root == bytes32(0) || s.settled || s.convicted || s.openAudits != 0) return;
        s.settled = true;
        NodeState storage node = _nodes[taskId][account];
        node.passed += 1;
        node.score += 1;
        emit ReputationUpdated(taskId, account, node.passed, node.failed, node.score);
    }

    function _reopened(Task storage task, NodeState storage node, uint256 cycle) internal view returns (bool) {
        return block.timestamp < node.reopenedUntil && cycle + task.params.unbondingRounds >= _currentRound(task);
    }

    function _openCase(uint256 taskId, Task storage task, uint256 cycle, address accused, bytes32 evidenceCid, AuditKind kind)
        internal
        returns (uint256 auditId)
    {
        if (accused == msg.sender) revert SelfAccusation();
        NodeState storage accuser = _nodes[taskId][msg.sender];
        if (accuser.stake < task.params.minStake || accuser.stake == 0) {
            revert InsufficientStake(accuser.stake, task.params.minStake);
        }
        auditId = ++_auditCount;
        Audit storage audit = _audits[auditId];
        audit.taskId = taskId;
        audit.cycle = cycle;
        audit.accused = accused;
        audit.accuser = msg.sender;
        audit.evidenceCid = evidenceCid;
        audit.kind = kind;
        audit.deadline = uint64(block.timestamp + task.params.voteWindow);
        accuser.openCases += 1;
        _nodes[taskId][accused].openCases += 1;
        emit AuditRaised(auditId, taskId, cycle, kind, accused, msg.sender, evidenceCid, audit.deadline);
        // The accuser's own vote upholds.
        _recordVote(auditId, audit, msg.sender, accuser, VoteSide.Uphold);
    }

    function _recordVote(uint256 auditId, Audit storage audit, address voterAddress, NodeState storage voter, VoteSide side)
        internal
    {
        uint256 weight = Reputation.weight(voter.stake + voter.unbonding, voter.score);
        if (weight > type(uint128).max) revert WeightOverflow(weight);
        _votes[auditId][voterAddress] = Vote({side: side, rewardClaimed: false, weight: uint128(weight)});
        if (side == VoteSide.Uphold) {
            audit.upholdWeight += weight;
            audit.upholdReputation += voter.score;
        } else {
            audit.rejectWeight += weight;
            audit.rejectReputation += voter.score;
        }
        emit VoteCast(auditId, voterAddress, side, weight);
    }

    function _afterSubmissionAudit(uint256 taskId, Task storage task, Audit storage audit, bool upheld) internal {
        uint256 cycle = audit.cycle;
        Submission storage s = _submissions[taskId][cycle][audit.accused];
        s.openAudits -= 1;
        _cycles[taskId][cycle].openAudits -= 1;
        if (upheld) _convict(taskId, task, cycle, audit.accused);
        else _settle(taskId, cycle, audit.accused);
    }

    /// @dev Penalty scaling: a caught cheater's submission is convicted (no reward, cannot be drawn
    /// to distribute), its reputation drops to zero, and its past rounds within the unbonding
    /// horizon are re-opened to audit for one round.
    function _convict(uint256 taskId, Task storage task, uint256 cycle, address account) internal {
        _submissions[taskId][cycle][account].convicted = true;
        NodeState storage node = _nodes[taskId][account];
        node.failed += 1;
        node.score = 0;
        node.reopenedUntil = uint64(block.timestamp + task.params.roundLength);
        emit ReputationUpdated(taskId, account, node.passed, node.failed, 0);
        emit PastRoundsReopened(taskId, account, node.reopenedUntil);
    }

    function _afterDistributionChallenge(uint256 taskId, Audit storage audit, bool upheld) internal {
        Cycle storage c = _cycles[taskId][audit.cycle];
        c.openChallenges -= 1;
        if (upheld && c.status == DistributionStatus.Posted && c.poster == audit.accused) {
            // The list is void; the next selected node gets a fresh posting window from now. The
            // poster is a cheater like any other (see _convict).
            emit DistributionRejected(taskId, audit.cycle, c.poster, c.attempt);
            _convict(taskId, _tasks[taskId], audit.cycle, audit.accused);
            c.status = DistributionStatus.Pending;
            c.attempt += 1;
            c.turnStart = uint64(block.timestamp);
            c.poster = address(0);
            c.postedAt = 0;
            c.merkleRoot = bytes32(0);
            c.listCid = bytes32(0);
            c.scaleHead = bytes32(0);
            c.rewardTotal = 0;
            c.bonusTotal = 0;
        }
    }

    function _slashAndShare(
        uint256 auditId,
        uint256 taskId,
        Task storage task,
        Audit storage audit,
        address loser,
        address winner,
        uint256 bps
    ) internal {
        NodeState storage node = _nodes[taskId][loser];
        uint256 slashed = SlashSplit.slashAmount(node.stake + node.unbonding, bps);
        if (slashed == 0) return;
        // Active stake first, then unbonding.
        if (slashed <= node.stake) {
            node.stake -= uint128(slashed);
        } else {
            node.unbonding -= slashed - node.stake;
            node.stake = 0;
        }
        emit Slashed(taskId, loser, slashed, auditId);

        uint256 winningVotersWeight =
            (audit.upheld ? audit.upholdWeight : audit.rejectWeight) - (audit.upheld ? _votes[auditId][audit.accuser].weight : 0);
        (uint256 toWinner, uint256 toVoters, uint256 toPool) =
            SlashSplit.split(slashed, task.params.winnerBps, task.params.votersBps, winningVotersWeight > 0);
        audit.votersPool = toVoters;
        audit.winningVotersWeight = winningVotersWeight;

        Cycle storage c = _cycles[taskId][audit.cycle];
        if (c.status == DistributionStatus.Pending) c.bonus += toPool;
        else task.slashPool += toPool;
        emit SlashShared(auditId, winner, toWinner, toVoters, toPool);
        if (toWinner > 0) task.params.stakeToken.safeTransfer(winner, toWinner);
    }

    function _turnStart(Task storage task, Cycle storage c, uint256 cycle) internal view returns (uint256) {
        return c.turnStart != 0 ? c.turnStart : _roundStart(task, cycle + 2);
    }

    function _currentAttempt(Task storage task, Cycle storage c, uint256 cycle) internal view returns (uint256) {
        if (c.status != DistributionStatus.Pending) return c.attempt;
        uint256 start = _turnStart(task, c, cycle);
        if (block.timestamp < start) return c.attempt;
        return c.attempt + (block.timestamp - start) / task.params.distributionWindow;
    }

    /// @dev Whether `caller`, at `index` of the cycle's selection order, holds the attempt's draw.
    /// The weight line is the direct submitters' (cumulativeWeight of the last one) followed by the
    /// batched entries' [0, batchedWeight); a batched node must be materialized first.
    function _isSelected(uint256 taskId, uint256 cycle, Cycle storage c, uint256 attempt, uint256 index, address caller)
        internal
        returns (bool)
    {
        mapping(address => Submission) storage subs = _submissions[taskId][cycle];
        Submission storage s = subs[caller];
        if (s.root == bytes32(0) || s.index != index || s.convicted) return false;
        uint256 count = c.submitters.length;
        uint256 directTotal = count == 0 ? 0 : subs[c.submitters[count - 1]].cumulativeWeight;
        bytes32 seed = _seed(taskId, _tasks[taskId], cycle);
        uint256 point = DistributorSelection.drawPoint(seed, taskId, cycle, attempt, directTotal + c.batchedWeight);
        if (s.batched) {
            return DistributorSelection.covers(point, directTotal + s.weightStart, directTotal + s.cumulativeWeight);
        }
        uint256 lower = index == 0 ? 0 : subs[c.submitters[index - 1]].cumulativeWeight;
        return DistributorSelection.covers(point, lower, s.cumulativeWeight);
    }

    /// @dev A cycle opens (reserves its bounty) with its first submission, direct or batched.
    function _opened(Cycle storage c) internal view returns (bool) {
        return c.submitters.length != 0 || c.batchedCount != 0;
    }

    /// @dev The node's per-task member index, assigning the next one on its first submission.
    function _memberIndex(Task storage task, NodeState storage node) internal returns (uint256 member) {
        member = node.memberIndex;
        if (member == 0) {
            member = ++task.memberCount;
            node.memberIndex = uint32(member);
        }
    }

    function _submittedBit(uint256 taskId, uint256 cycle, uint256 member) internal view returns (bool) {
        return member != 0 && (_submittedBits[taskId][cycle][member >> 8] >> (member & 255)) & 1 == 1;
    }

    function _finalizable(Task storage task, Cycle storage c) internal view returns (bool) {
        return c.status == DistributionStatus.Posted && c.openChallenges == 0
            && block.timestamp >= c.postedAt + task.params.distributionAuditWindow;
    }

    /// @dev OpenZeppelin's standard double-hashed leaf of abi.encode(taskId, cycle, node, reward, bonus).
    function _distributionLeaf(uint256 taskId, uint256 cycle, address node, uint256 reward, uint256 bonus)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(bytes.concat(keccak256(abi.encode(taskId, cycle, node, reward, bonus))));
    }

    function _unbondedAtRound(uint256 taskId, address node) internal view returns (uint256) {
        NodeState storage n = _nodes[taskId][node];
        Task storage task = _tasks[taskId];
        uint256 unbondingRounds = task.params.unbondingRounds;
        uint256 fromRequest = n.unbondingRound + unbondingRounds;
        // Cycle c stays auditable (penalty scaling) while currentRound <= c + unbondingRounds.
        uint256 fromLastCycle = n.hasSubmitted ? n.lastCycle + unbondingRounds + 1 : 0;
        // Batched submissions write nothing to the node's state (that is their saving): the latest
        // cycle that can still lock the stake is found in the submitted bitmaps of the cycles
        // within the horizon (at most unbondingRounds + 1 reads, only when withdrawing).
        uint256 member = n.memberIndex;
        if (member != 0 && task.creator != address(0)) {
            uint256 current = _currentRound(task);
            uint256 lowest = current > unbondingRounds + 1 ? current - unbondingRounds - 1 : 0;
            for (uint256 cycle = current; cycle > lowest;) {
                --cycle;
                if (_submittedBit(taskId, cycle, member)) {
                    uint256 fromBitmap = cycle + unbondingRounds + 1;
                    if (fromBitmap > fromLastCycle) fromLastCycle = fromBitmap;
                    break;
                }
            }
        }
        return fromRequest > fromLastCycle ? fromRequest : fromLastCycle;
    }
}
