// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {ITaskManager} from "./interfaces/ITaskManager.sol";
import {DistributorSelection} from "./libraries/DistributorSelection.sol";
import {Reputation} from "./libraries/Reputation.sol";
import {SlashSplit} from "./libraries/SlashSplit.sol";

/// @title TaskManager
/// @notice Settlement of Coop task networks: tasks with escrowed bounties, stake with unbonding,
/// per-cycle submissions, stake-weighted audits with slashing, reputation (CARP), selected
/// distributors posting Merkle distribution lists, and claims. The rules themselves live in the
/// libraries (each with a TS twin); this contract keeps state and moves tokens.
/// @dev Accounting invariant, per token T:
///   T.balanceOf(this) >= Σ stake + Σ unbonding (stake token T) + Σ escrow + Σ (budget − rewardClaimed)
///   (reward token T) + Σ slashPool + Σ (bonus − bonusClaimed) + Σ unclaimed votersPool (stake token T).
contract TaskManager is ITaskManager, ReentrancyGuard {
    using SafeERC20 for IERC20;

    uint256 public constant MIN_UNBONDING_ROUNDS = 3;

    uint256 public taskCount;
    uint256 public auditCount;

    mapping(uint256 taskId => Task) internal _tasks;
    mapping(uint256 taskId => mapping(address node => NodeState)) internal _nodes;
    mapping(uint256 taskId => mapping(uint256 cycle => Cycle)) internal _cycles;
    mapping(uint256 taskId => mapping(uint256 cycle => mapping(address node => Submission))) internal _submissions;
    mapping(uint256 auditId => Audit) internal _audits;
    mapping(uint256 auditId => mapping(address voter => Vote)) internal _votes;
    mapping(uint256 auditId => uint256) internal _votersPaid;
    mapping(uint256 taskId => mapping(uint256 cycle => mapping(address node => bool))) public claimed;
    mapping(address node => string) public p2pAddressOf;

    // ───────────────────────────── tasks ─────────────────────────────

    /// @notice Creates a task and escrows `bounty` reward tokens from the caller.
    function createTask(TaskParams calldata params, uint256 bounty) external nonReentrant returns (uint256 taskId) {
        _validateParams(params);
        taskId = ++taskCount;
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
        p2pAddressOf[msg.sender] = p2pAddress;
        emit NodeRegistered(msg.sender, p2pAddress);
    }

    function stake(uint256 taskId, uint256 amount) external nonReentrant {
        Task storage task = _task(taskId);
        if (amount == 0) revert ZeroAmount();
        uint256 received = _pull(task.params.stakeToken, amount);
        NodeState storage node = _nodes[taskId][msg.sender];
        node.stake += received;
        emit Staked(taskId, msg.sender, received, node.stake);
    }

    /// @notice Moves `amount` of active stake to unbonding. It stays slashable until withdrawn.
    function requestUnstake(uint256 taskId, uint256 amount) external {
        Task storage task = _task(taskId);
        NodeState storage node = _nodes[taskId][msg.sender];
        if (amount == 0) revert ZeroAmount();
        if (amount > node.stake) revert InsufficientStake(node.stake, amount);
        node.stake -= amount;
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
        uint256 unlockRound = unbondedAtRound(taskId, msg.sender);
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
        if (bytes(p2pAddressOf[msg.sender]).length == 0) revert NotRegistered(msg.sender);

        Cycle storage c = _cycles[taskId][cycle];
        if (c.submitters.length == 0) _openCycle(taskId, task, cycle, c);

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
    function postDistribution(
        uint256 taskId,
        uint256 cycle,
        uint256 submitterIndex,
        bytes32 merkleRoot,
        bytes32 listCid,
        uint256 rewardTotal,
        uint256 bonusTotal
    ) external {
        Task storage task = _task(taskId);
        Cycle storage c = _cycles[taskId][cycle];
        if (c.status == DistributionStatus.Posted || c.status == DistributionStatus.Final) {
            revert DistributionAlreadyPosted(taskId, cycle);
        }
        uint256 opensAt = _roundStart(task, cycle + 2);
        if (c.submitters.length == 0 || block.timestamp < opensAt) revert DistributionNotOpen(taskId, cycle, opensAt);
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
        c.rewardTotal = rewardTotal;
        c.bonusTotal = bonusTotal;
        emit DistributionPosted(taskId, cycle, msg.sender, uint8(attempt), merkleRoot, listCid, rewardTotal, bonusTotal);
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
        bool exhausted = c.submitters.length != 0 && c.status == DistributionStatus.Pending
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
            if (claimed[taskId][request.cycle][account]) revert AlreadyClaimed(taskId, request.cycle, account);
            bytes32 leaf = distributionLeaf(taskId, request.cycle, account, request.reward, request.bonus);
            if (!MerkleProof.verifyCalldata(request.proof, c.merkleRoot, leaf)) {
                revert InvalidProof(taskId, request.cycle, account);
            }
            claimed[taskId][request.cycle][account] = true;
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

    // ───────────────────────────── views ─────────────────────────────

    /// @notice Leaf of a distribution list: OpenZeppelin's standard double-hashed leaf of
    /// abi.encode(taskId, cycle, node, reward, bonus) (the leaf format of the npm merkle-tree library by OpenZeppelin).
    function distributionLeaf(uint256 taskId, uint256 cycle, address node, uint256 reward, uint256 bonus)
        public
        pure
        returns (bytes32)
    {
        return keccak256(bytes.concat(keccak256(abi.encode(taskId, cycle, node, reward, bonus))));
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
    function unbondedAtRound(uint256 taskId, address node) public view returns (uint256) {
        NodeState storage n = _nodes[taskId][node];
        uint256 unbondingRounds = _tasks[taskId].params.unbondingRounds;
        uint256 fromRequest = n.unbondingRound + unbondingRounds;
        // Cycle c stays auditable (penalty scaling) while currentRound <= c + unbondingRounds.
        uint256 fromLastCycle = n.hasSubmitted ? n.lastCycle + unbondingRounds + 1 : 0;
        return fromRequest > fromLastCycle ? fromRequest : fromLastCycle;
    }

    /// @notice The attempt whose posting window is open now (lazy: unposted turns time out).
    function currentDistributionAttempt(uint256 taskId, uint256 cycle) external view returns (uint256) {
        Task storage task = _task(taskId);
        return _currentAttempt(task, _cycles[taskId][cycle], cycle);
    }

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
        if (p.unbondingRounds < MIN_UNBONDING_ROUNDS) revert UnbondingTooShort(p.unbondingRounds, MIN_UNBONDING_ROUNDS);
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
        auditId = ++auditCount;
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
            node.stake -= slashed;
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

    function _isSelected(uint256 taskId, uint256 cycle, Cycle storage c, uint256 attempt, uint256 index, address caller)
        internal
        returns (bool)
    {
        uint256 count = c.submitters.length;
        if (index >= count || c.submitters[index] != caller) return false;
        mapping(address => Submission) storage subs = _submissions[taskId][cycle];
        if (subs[caller].convicted) return false;
        bytes32 seed = _seed(taskId, _tasks[taskId], cycle);
        uint256 total = subs[c.submitters[count - 1]].cumulativeWeight;
        uint256 point = DistributorSelection.drawPoint(seed, taskId, cycle, attempt, total);
        uint256 lower = index == 0 ? 0 : subs[c.submitters[index - 1]].cumulativeWeight;
        return DistributorSelection.covers(point, lower, subs[caller].cumulativeWeight);
    }

    function _finalizable(Task storage task, Cycle storage c) internal view returns (bool) {
        return c.status == DistributionStatus.Posted && c.openChallenges == 0
            && block.timestamp >= c.postedAt + task.params.distributionAuditWindow;
    }
}
