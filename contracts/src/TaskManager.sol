// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {Reputation} from "./libraries/Reputation.sol";
import {SlashSplit} from "./libraries/SlashSplit.sol";
import {TaskManagerBase} from "./TaskManagerBase.sol";

/// @title TaskManager
/// @notice Settlement of Coop task networks: tasks with escrowed bounties, stake with unbonding,
/// per-cycle submissions, stake-weighted audits with slashing, reputation (CARP), selected
/// distributors posting Merkle distribution lists, and claims. The rules themselves live in the
/// libraries (each with a TS twin); this contract keeps state and moves tokens.
/// @dev One address, two code halves. EIP-170 caps a contract's code at 24,576 bytes; this contract
/// keeps the protocol's state-changing core and forwards every other selector (the views and the
/// batched-submission entry points) from its fallback by delegatecall to `EXTENSION`, a
/// TaskManagerExtension deployed first. Both inherit TaskManagerBase (all storage, no other state),
/// so the extension's code runs on this contract's storage and `address(this)` is this contract.
/// Chosen over external libraries because a library cannot hold the views' ABI (callers would
/// need two addresses) and linking complicates every deploy path; here callers see one address
/// and one ABI (ICoopTaskManager = this ABI ∪ the extension's, checked by the ABI generator).
/// @dev Accounting invariant, per token T:
///   T.balanceOf(this) >= Σ stake + Σ unbonding (stake token T) + Σ escrow + Σ (budget − rewardClaimed)
///   (reward token T) + Σ slashPool + Σ (bonus − bonusClaimed) + Σ unclaimed votersPool (stake token T).
contract TaskManager is TaskManagerBase {
    using SafeERC20 for IERC20;

    /// @notice The TaskManagerExtension whose code serves every selector not defined here.
    address public immutable EXTENSION;

    constructor(address extension) {
        if (extension.code.length == 0) revert ZeroAddress();
        EXTENSION = extension;
    }

    /// @dev Runs the extension's code on this contract's storage; returns or reverts with its data.
    fallback() external {
        address extension = EXTENSION;
        assembly ("memory-safe") {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), extension, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }

    // ───────────────────────────── tasks ─────────────────────────────

    /// @notice Creates a task and escrows `bounty` reward tokens from the caller.
    function createTask(TaskParams calldata params, uint256 bounty) external nonReentrant returns (uint256 taskId) {
        _validateParams(params);
        taskId = ++_taskCount;
        Task storage task = _tasks[taskId];
        task.params = params;
        task.creator = msg.sender;
        task.startTime = uint64(block.timestamp);
        emit TaskCreated(
            taskId, msg.sender, params.programCid, address(params.stakeToken), address(params.rewardToken), params.bountyPerRound, task.startTime
        );
        if (bounty > 0) _fund(taskId, task, bounty);
    }

    /// @notice Tops up a task's bounty. Anyone may fund; leftovers return to the creator.
    function fundTask(uint256 taskId, uint256 amount) external nonReentrant {
        Task storage task = _task(taskId);
        if (task.stopped) revert TaskIsStopped(taskId);
        if (amount == 0) revert ZeroAmount();
        _fund(taskId, task, amount);
    }

    /// @notice The creator stops the task: no new cycle opens; cycles in flight still settle.
    function stopTask(uint256 taskId) external {
        Task storage task = _task(taskId);
        if (msg.sender != task.creator) revert NotTaskCreator(taskId, msg.sender);
        if (task.stopped) revert TaskIsStopped(taskId);
        task.stopped = true;
        emit TaskStopped(taskId);
    }

    /// @notice The creator takes back what is left once the task has ended (stopped, or its
    /// escrow below one round's bounty) and no cycle is still in flight. The task stays stopped.
    function withdrawRemainingBounty(uint256 taskId) external nonReentrant {
        Task storage task = _task(taskId);
        if (msg.sender != task.creator) revert NotTaskCreator(taskId, msg.sender);
        bool ended = task.stopped || task.escrow < task.params.bountyPerRound;
        if (!ended || task.cyclesInFlight != 0) revert TaskStillRunning(taskId, task.escrow, task.cyclesInFlight);
        uint256 rewardAmount = task.escrow;
        uint256 stakeTokenAmount = task.slashPool;
        if (rewardAmount == 0 && stakeTokenAmount == 0) revert NothingToWithdraw();
        task.escrow = 0;
        task.slashPool = 0;
        task.stopped = true;
        emit BountyReturned(taskId, task.creator, rewardAmount, stakeTokenAmount);
        if (rewardAmount > 0) task.params.rewardToken.safeTransfer(task.creator, rewardAmount);
        if (stakeTokenAmount > 0) task.params.stakeToken.safeTransfer(task.creator, stakeTokenAmount);
    }

    // ───────────────────────────── nodes & stake ─────────────────────────────

    /// @notice Publishes the caller's p2p address (a libp2p multiaddr with peer id).
    function registerNode(string calldata p2pAddress) external {
        if (bytes(p2pAddress).length == 0) revert EmptyP2pAddress();
        _p2pAddressOf[msg.sender] = p2pAddress;
        emit NodeRegistered(msg.sender, p2pAddress);
    }

    function stake(uint256 taskId, uint256 amount) external nonReentrant {
        Task storage task = _task(taskId);
        if (amount == 0) revert ZeroAmount();
        uint256 received = _pull(task.params.stakeToken, amount);
        NodeState storage node = _nodes[taskId][msg.sender];
        uint256 total = node.stake + received;
        if (total > type(uint128).max) revert StakeOverflow(total);
        node.stake = uint128(total);
        emit Staked(taskId, msg.sender, received, node.stake);
    }

    /// @notice Moves `amount` of active stake to unbonding. It stays slashable until withdrawn.
    function requestUnstake(uint256 taskId, uint256 amount) external {
        Task storage task = _task(taskId);
        NodeState storage node = _nodes[taskId][msg.sender];
        if (amount == 0) revert ZeroAmount();
        if (amount > node.stake) revert InsufficientStake(node.stake, amount);
        node.stake -= uint128(amount);
        node.unbonding += amount;
        node.unbondingRound = uint64(_currentRound(task));
        emit UnstakeRequested(taskId, msg.sender, amount, node.unbondingRound);
    }

    /// @notice Withdraws unbonded stake once no round the node took part in can still be audited.
    function withdrawStake(uint256 taskId) external nonReentrant {
        Task storage task = _task(taskId);
        NodeState storage node = _nodes[taskId][msg.sender];
        uint256 amount = node.unbonding;
        if (amount == 0) revert NothingToWithdraw();
        if (node.openCases != 0) revert StakeHasOpenCases(taskId, msg.sender, node.openCases);
        uint256 unlockRound = _unbondedAtRound(taskId, msg.sender);
        if (_currentRound(task) < unlockRound || block.timestamp < node.reopenedUntil) {
            revert StakeLocked(taskId, msg.sender, unlockRound);
        }
        node.unbonding = 0;
        emit StakeWithdrawn(taskId, msg.sender, amount);
        task.params.stakeToken.safeTransfer(msg.sender, amount);
    }

    // ───────────────────────────── submissions ─────────────────────────────

    /// @notice Submits the caller's proof (its round DAG root) for `cycle`, during round cycle+1's
    /// submission window. The first submission of a cycle reserves its bounty.
    function submit(uint256 taskId, uint256 cycle, bytes32 root) external {
        Task storage task = _task(taskId);
        if (root == bytes32(0)) revert EmptyRoot();
        uint256 opensAt = _roundStart(task, cycle + 1);
        uint256 closesAt = opensAt + task.params.submissionWindow;
        if (block.timestamp < opensAt || block.timestamp >= closesAt) {
            revert OutsideSubmissionWindow(cycle, block.timestamp, opensAt, closesAt);
        }
        NodeState storage node = _nodes[taskId][msg.sender];
        if (node.stake < task.params.minStake || node.stake == 0) {
            revert InsufficientStake(node.stake, task.params.minStake);
        }
        Submission storage submission = _submissions[taskId][cycle][msg.sender];
        if (submission.root != bytes32(0)) revert AlreadySubmitted(taskId, cycle, msg.sender);
        if (bytes(_p2pAddressOf[msg.sender]).length == 0) revert NotRegistered(msg.sender);
        // One submission per node and cycle across both paths: the submitted bitmap is shared
        // with submitBatch, which cannot afford to read each node's Submission record.
        _markSubmitted(taskId, cycle, _memberIndex(task, node));

        Cycle storage c = _cycles[taskId][cycle];
        if (!_opened(c)) _openCycle(taskId, task, cycle, c);

        // Settle the node's previous submission: its audit window has closed by now.
        if (node.hasSubmitted) _settle(taskId, node.lastCycle, msg.sender);

        uint256 weight = Reputation.weight(node.stake, node.score);
        uint256 count = c.submitters.length;
        uint256 cumulative = weight + (count == 0 ? 0 : _submissions[taskId][cycle][c.submitters[count - 1]].cumulativeWeight);
        if (cumulative > type(uint128).max) revert WeightOverflow(cumulative);
        submission.root = root;
        submission.index = uint32(count);
        submission.scoreAtSubmission = node.score;
        submission.cumulativeWeight = uint128(cumulative);
        c.submitters.push(msg.sender);
        node.lastCycle = uint64(cycle);
        node.hasSubmitted = true;
        emit Submitted(taskId, cycle, msg.sender, root, weight);
    }

    /// @dev Sets the caller's bit in the cycle's submitted bitmap; AlreadySubmitted if it was set.
    function _markSubmitted(uint256 taskId, uint256 cycle, uint256 member) private {
        mapping(uint256 => uint256) storage bits = _submittedBits[taskId][cycle];
        uint256 word = bits[member >> 8];
        uint256 mask = 1 << (member & 255);
        if (word & mask != 0) revert AlreadySubmitted(taskId, cycle, msg.sender);
        bits[member >> 8] = word | mask;
    }

    /// @notice Fixes the cycle's randomness once its submission window has closed. Anyone may call;
    /// audits and distribution call it implicitly.
    function recordSeed(uint256 taskId, uint256 cycle) external returns (bytes32) {
        return _seed(taskId, _task(taskId), cycle);
    }

    /// @notice Counts a settled submission as passed (anyone may call once its audits are done).
    function settleReputation(uint256 taskId, uint256 cycle, address node) external {
        Task storage task = _task(taskId);
        if (block.timestamp < _roundStart(task, cycle + 1) + task.params.auditWindow) {
            revert OutsideAuditWindow(cycle, block.timestamp, _roundStart(task, cycle + 1) + task.params.auditWindow);
        }
        _settle(taskId, cycle, node);
    }

    // ───────────────────────────── audits ─────────────────────────────

    /// @notice Raises an audit on `accused`'s submission for `cycle` with evidence (a CID digest).
    /// Allowed during the cycle's audit window, or while the accused's past rounds are re-opened
    /// after a conviction (penalty scaling) and the cycle is within the unbonding horizon.
    function raiseAudit(uint256 taskId, uint256 cycle, address accused, bytes32 evidenceCid)
        external
        returns (uint256 auditId)
    {
        Task storage task = _task(taskId);
        Submission storage submission = _submissions[taskId][cycle][accused];
        if (submission.root == bytes32(0)) revert NoSubmission(taskId, cycle, accused);
        if (submission.convicted) revert AlreadyConvicted(taskId, cycle, accused);
        uint256 closesAt = _roundStart(task, cycle + 1) + task.params.auditWindow;
        if (block.timestamp >= closesAt && !_reopened(task, _nodes[taskId][accused], cycle)) {
            revert OutsideAuditWindow(cycle, block.timestamp, closesAt);
        }
        _seed(taskId, task, cycle);
        auditId = _openCase(taskId, task, cycle, accused, evidenceCid, AuditKind.Submission);
        submission.openAudits += 1;
        _cycles[taskId][cycle].openAudits += 1;
    }

    /// @notice Challenges the posted distribution list of `cycle` during its challenge window.
    function challengeDistribution(uint256 taskId, uint256 cycle, bytes32 evidenceCid) external returns (uint256 auditId) {
        Task storage task = _task(taskId);
        Cycle storage c = _cycles[taskId][cycle];
        if (c.status != DistributionStatus.Posted) revert NoDistributionPosted(taskId, cycle);
        uint256 closesAt = c.postedAt + task.params.distributionAuditWindow;
        if (block.timestamp >= closesAt) revert ChallengeWindowClosed(taskId, cycle, closesAt);
        auditId = _openCase(taskId, task, cycle, c.poster, evidenceCid, AuditKind.Distribution);
        c.openChallenges += 1;
    }

    /// @notice One vote per staked node per audit, weight = total stake × reputation factor.
    function vote(uint256 auditId, VoteSide side) external {
        Audit storage audit = _audit(auditId);
        if (side == VoteSide.None) revert InvalidVoteSide();
        if (block.timestamp >= audit.deadline) revert VotingClosed(auditId, audit.deadline);
        if (msg.sender == audit.accused) revert AccusedCannotVote(auditId);
        if (_votes[auditId][msg.sender].side != VoteSide.None) revert AlreadyVoted(auditId, msg.sender);
        Task storage task = _tasks[audit.taskId];
        NodeState storage voter = _nodes[audit.taskId][msg.sender];
        if (voter.stake < task.params.minStake || voter.stake == 0) {
            revert InsufficientStake(voter.stake, task.params.minStake);
        }
        _recordVote(auditId, audit, msg.sender, voter, side);
    }

    /// @notice Resolves an audit after its vote. Upheld: the accused is slashed, convicted and its
    /// past rounds re-opened. Rejected: the accuser pays the false-accusation penalty.
    /// Ties in weight are broken by summed reputation; a full tie rejects (presumed honest).
    function resolveAudit(uint256 auditId) external nonReentrant {
        Audit storage audit = _audit(auditId);
        if (audit.resolved) revert AuditAlreadyResolved(auditId);
        if (block.timestamp < audit.deadline) revert VotingStillOpen(auditId, audit.deadline);
        uint256 taskId = audit.taskId;
        Task storage task = _tasks[taskId];
        bool upheld = audit.upholdWeight != audit.rejectWeight
            ? audit.upholdWeight > audit.rejectWeight
            : audit.upholdReputation > audit.rejectReputation;
        audit.resolved = true;
        audit.upheld = upheld;
        _nodes[taskId][audit.accused].openCases -= 1;
        _nodes[taskId][audit.accuser].openCases -= 1;
        emit AuditResolved(auditId, upheld, audit.upholdWeight, audit.rejectWeight);

        if (audit.kind == AuditKind.Submission) _afterSubmissionAudit(taskId, task, audit, upheld);
        else _afterDistributionChallenge(taskId, audit, upheld);

        address loser = upheld ? audit.accused : audit.accuser;
        address winner = upheld ? audit.accuser : audit.accused;
        uint256 bps = upheld ? task.params.slashBps : task.params.falseAccusationBps;
        _slashAndShare(auditId, taskId, task, audit, loser, winner, bps);
    }

    /// @notice A winning voter (other than the accuser) takes its share of the voters' pool.
    function claimVoteReward(uint256 auditId) external nonReentrant {
        Audit storage audit = _audit(auditId);
        Vote storage v = _votes[auditId][msg.sender];
        VoteSide winning = audit.upheld ? VoteSide.Uphold : VoteSide.Reject;
        if (!audit.resolved || v.side != winning || v.rewardClaimed || msg.sender == audit.accuser) {
            revert NoRewardOwed(auditId, msg.sender);
        }
        v.rewardClaimed = true;
        uint256 amount = SlashSplit.voterShare(audit.votersPool, v.weight, audit.winningVotersWeight);
        _votersPaid[auditId] += amount;
        emit VoteRewardClaimed(auditId, msg.sender, amount);
        if (amount > 0) _tasks[audit.taskId].params.stakeToken.safeTransfer(msg.sender, amount);
    }

    // ───────────────────────────── distribution ─────────────────────────────

    /// @notice The selected node posts the Merkle root of (taskId, cycle, node, reward, bonus) leaves
    /// and the CID of the full list. `submitterIndex` is the poster's index in the cycle's
    /// submitter list; the contract checks that the attempt's draw falls in its weight interval.
    /// `scaleHead` anchors the digest of the cycle's SCALE head with the list (zero when the task
    /// has no SCALE rounds); it is final with the list and cleared if the list is voided.
    function postDistribution(
        uint256 taskId,
        uint256 cycle,
        uint256 submitterIndex,
        bytes32 merkleRoot,
        bytes32 listCid,
        uint256 rewardTotal,
        uint256 bonusTotal,
        bytes32 scaleHead
    ) external {
        Task storage task = _task(taskId);
        Cycle storage c = _cycles[taskId][cycle];
        if (c.status == DistributionStatus.Posted || c.status == DistributionStatus.Final) {
            revert DistributionAlreadyPosted(taskId, cycle);
        }
        uint256 opensAt = _roundStart(task, cycle + 2);
        if (!_opened(c) || block.timestamp < opensAt) revert DistributionNotOpen(taskId, cycle, opensAt);
        if (c.status == DistributionStatus.Failed) revert DistributionAttemptsExhausted(taskId, cycle);
        // Submission audits and challenges of a voided list must be resolved before a (new) post.
        if (c.openAudits != 0 || c.openChallenges != 0) revert AuditsPending(taskId, cycle, c.openAudits + c.openChallenges);
        uint256 attempt = _currentAttempt(task, c, cycle);
        if (attempt >= task.params.maxDistributionAttempts) revert DistributionAttemptsExhausted(taskId, cycle);
        if (!_isSelected(taskId, cycle, c, attempt, submitterIndex, msg.sender)) {
            revert NotSelectedDistributor(taskId, cycle, uint8(attempt), msg.sender);
        }
        if (rewardTotal > c.budget || bonusTotal > c.bonus) {
            revert DistributionOverBudget(rewardTotal, c.budget, bonusTotal, c.bonus);
        }
        if (c.attempt != attempt) {
            c.turnStart = uint64(_turnStart(task, c, cycle) + (attempt - c.attempt) * task.params.distributionWindow);
            c.attempt = uint8(attempt);
        }
        c.status = DistributionStatus.Posted;
        c.poster = msg.sender;
        c.postedAt = uint64(block.timestamp);
        c.merkleRoot = merkleRoot;
        c.listCid = listCid;
        c.scaleHead = scaleHead;
        c.rewardTotal = rewardTotal;
        c.bonusTotal = bonusTotal;
        emit DistributionPosted(taskId, cycle, msg.sender, uint8(attempt), merkleRoot, listCid, rewardTotal, bonusTotal, scaleHead);
    }

    /// @notice Makes a posted, unchallenged list final after its challenge window; returns the
    /// unallocated part of the cycle's budget to the task. Claims call this implicitly.
    function finalizeDistribution(uint256 taskId, uint256 cycle) public {
        Task storage task = _task(taskId);
        Cycle storage c = _cycles[taskId][cycle];
        if (!_finalizable(task, c)) revert DistributionNotFinal(taskId, cycle);
        c.status = DistributionStatus.Final;
        uint256 returnedReward = c.budget - c.rewardTotal;
        uint256 returnedBonus = c.bonus - c.bonusTotal;
        c.budget = c.rewardTotal;
        c.bonus = c.bonusTotal;
        task.escrow += returnedReward;
        task.slashPool += returnedBonus;
        task.cyclesInFlight -= 1;
        emit DistributionFinalized(taskId, cycle, c.merkleRoot, returnedReward, returnedBonus);
    }

    /// @notice Once every distribution attempt has failed, returns the cycle's funds to the task.
    function failDistribution(uint256 taskId, uint256 cycle) external {
        Task storage task = _task(taskId);
        Cycle storage c = _cycles[taskId][cycle];
        bool exhausted = _opened(c) && c.status == DistributionStatus.Pending
            && block.timestamp >= _roundStart(task, cycle + 2)
            && _currentAttempt(task, c, cycle) >= task.params.maxDistributionAttempts;
        if (!exhausted) revert DistributionAttemptsRemain(taskId, cycle);
        c.status = DistributionStatus.Failed;
        uint256 returnedReward = c.budget;
        uint256 returnedBonus = c.bonus;
        c.budget = 0;
        c.bonus = 0;
        task.escrow += returnedReward;
        task.slashPool += returnedBonus;
        task.cyclesInFlight -= 1;
        emit DistributionFailed(taskId, cycle, returnedReward, returnedBonus);
    }

    /// @notice Claims `account`'s rewards for several cycles in one call (tokens go to `account`).
    function claimRewards(uint256 taskId, address account, ClaimRequest[] calldata claims) external nonReentrant {
        Task storage task = _task(taskId);
        uint256 rewardSum;
        uint256 bonusSum;
        for (uint256 i = 0; i < claims.length; ++i) {
            ClaimRequest calldata request = claims[i];
            Cycle storage c = _cycles[taskId][request.cycle];
            if (c.status != DistributionStatus.Final) finalizeDistribution(taskId, request.cycle);
            if (_claimed[taskId][request.cycle][account]) revert AlreadyClaimed(taskId, request.cycle, account);
            bytes32 leaf = _distributionLeaf(taskId, request.cycle, account, request.reward, request.bonus);
            if (!MerkleProof.verifyCalldata(request.proof, c.merkleRoot, leaf)) {
                revert InvalidProof(taskId, request.cycle, account);
            }
            _claimed[taskId][request.cycle][account] = true;
            c.rewardClaimed += request.reward;
            c.bonusClaimed += request.bonus;
            if (c.rewardClaimed > c.rewardTotal || c.bonusClaimed > c.bonusTotal) {
                revert ClaimExceedsTotal(taskId, request.cycle);
            }
            rewardSum += request.reward;
            bonusSum += request.bonus;
            emit RewardClaimed(taskId, request.cycle, account, request.reward, request.bonus);
        }
        if (rewardSum > 0) task.params.rewardToken.safeTransfer(account, rewardSum);
        if (bonusSum > 0) task.params.stakeToken.safeTransfer(account, bonusSum);
    }

}
