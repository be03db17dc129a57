// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title ITaskManager
/// @notice Types, events and errors of Coop's task-network settlement (CARP + gradual consensus).
///
/// Timeline of cycle c (rounds are `roundLength` seconds from the task's start):
///   round c      work
///   round c+1    submit in [start(c+1), start(c+1)+submissionWindow); audits raised until
///                start(c+1)+auditWindow, each voted for `voteWindow` (ends inside round c+1)
///   round c+2…   the selected node posts the distribution; it can be challenged for
///                `distributionAuditWindow`; once final, nodes claim with Merkle proofs.
interface ITaskManager {
    struct TaskParams {
        bytes32 programCid; // sha2-256 digest of the task program's CIDv1
        IERC20 stakeToken;
        IERC20 rewardToken;
        uint256 minStake;
        uint256 bountyPerRound;
        uint64 roundLength;
        uint64 submissionWindow;
        uint64 auditWindow;
        uint64 voteWindow;
        uint64 distributionWindow; // time each selected node has to post
        uint64 distributionAuditWindow; // challenge period after a post
        uint16 slashBps; // share of the offender's stake slashed on an upheld audit
        uint16 falseAccusationBps; // share of the accuser's stake slashed on a rejected audit
        uint16 winnerBps; // share of a slash paid to the winner of the case
        uint16 votersBps; // share of a slash shared by the winning voters
        uint16 duesRounds; // rounds at 100% audit probability for a new node
        uint16 auditFloorBps; // pMin
        uint16 auditDecay; // K in p = K / (K + score - dues)
        uint8 auditorsPerSample;
        uint8 maxDistributionAttempts;
        uint8 unbondingRounds; // >= 3
    }

    struct Task {
        TaskParams params;
        address creator;
        uint64 startTime;
        bool stopped;
        uint32 cyclesInFlight; // cycles with reserved bounty whose distribution is not final/failed
        uint32 memberCount; // nodes given a per-task member index (their bit in the submitted bitmaps)
        uint256 escrow; // reward token not yet reserved by a cycle
        uint256 slashPool; // stake token returned by slashes, added to the next cycle's bonus
    }

    struct NodeState {
        // First slot: everything a batched submission reads (one cold SLOAD per node).
        uint128 stake; // active, counts for submission eligibility and weight
        uint32 score; // rounds passed since the last conviction
        uint32 memberIndex; // 1-based per-task index, set at the first submission: its bit in each cycle's submitted bitmap
        uint256 unbonding; // requested for withdrawal; still slashable
        uint64 unbondingRound; // round of the last unstake request
        uint64 lastCycle; // last cycle submitted directly (valid when hasSubmitted); batched ones are in the bitmaps
        uint64 reopenedUntil; // penalty scaling: past cycles auditable until this time
        bool hasSubmitted;
        uint32 passed;
        uint32 failed;
        uint32 openCases; // unresolved audits where this node is accused or accuser
    }

    struct Submission {
        bytes32 root;
        uint32 index; // position in the cycle's submitter list
        uint32 scoreAtSubmission;
        uint16 openAudits;
        bool convicted;
        bool settled; // reputation already updated for this submission
        // Direct: sum of the weights of direct submitters 0..index; the selection interval is
        // [previous direct submitter's cumulativeWeight, cumulativeWeight). Batched (materialized):
        // the end of its interval [weightStart, cumulativeWeight) on the batched weight line, which
        // follows the direct line (see Cycle.batchedWeight). Packed in the same slot.
        uint128 cumulativeWeight;
        bool batched; // recorded from a batch by materializeSubmission
        uint128 weightStart; // batched only
    }

    /// @notice One entry of submitBatch: the node's EIP-712 Submission(taskId, cycle, root)
    /// signature in EIP-2098 compact form (r, vs).
    struct SignedSubmission {
        address node;
        bytes32 root;
        bytes32 r;
        bytes32 vs;
    }

    /// @notice A batched submission as committed in its batch's entries root (leaf =
    /// keccak256(keccak256(abi.encode(node, root, position, weightStart, weightEnd, score)))).
    /// `position` counts the cycle's batched entries from 0; weights are on the batched line.
    struct BatchedEntry {
        address node;
        bytes32 root;
        uint256 position;
        uint256 weightStart;
        uint256 weightEnd;
        uint256 score;
    }

    struct Batch {
        bytes32 entriesRoot; // Merkle root (sorted-pair keccak, odd node promoted) over the entries' leaves
        uint128 weightStart;
        uint128 weightEnd;
        uint32 firstPosition;
        uint32 count;
    }

    enum DistributionStatus {
        Pending,
        Posted,
        Final,
        Failed
    }

    struct Cycle {
        bytes32 seed; // fixed when the submission window closes
        uint256 budget; // reward token reserved for this cycle
        uint256 bonus; // stake token returned by slashes, distributed with the list
        uint32 openAudits;
        DistributionStatus status;
        uint8 attempt; // index of the current distribution attempt
        uint16 openChallenges;
        bool challengeUpheld;
        uint64 turnStart; // when the current attempt's posting window opened (0 = start(c+2))
        uint64 postedAt;
        address poster;
        // Batched submissions (submitBatch): their own weight line [0, batchedWeight) placed after
        // the direct submitters' line, so a cycle's selection order is direct submitters (in
        // `submitters` order) then batched entries (by position), and an index ≥ submitters.length
        // is a batched entry's position + submitters.length.
        uint128 batchedWeight;
        uint32 batchedCount;
        uint32 batchCount;
        bytes32 merkleRoot;
        bytes32 listCid;
        // sha2-256 digest of the cycle's SCALE head (dag-cbor CIDv1: submissions, list, previous
        // head), anchored by the poster with the list; zero for a task without SCALE rounds.
        bytes32 scaleHead;
        uint256 rewardTotal;
        uint256 bonusTotal;
        uint256 rewardClaimed;
        uint256 bonusClaimed;
        address[] submitters;
    }

    enum AuditKind {
        Submission,
        Distribution
    }

    enum VoteSide {
        None,
        Uphold,
        Reject
    }

    struct Audit {
        uint256 taskId;
        uint256 cycle;
        address accused; // packed with kind, deadline, resolved, upheld
        AuditKind kind;
        uint64 deadline;
        bool resolved;
        bool upheld;
        address accuser;
        bytes32 evidenceCid;
        uint256 upholdWeight;
        uint256 rejectWeight;
        uint256 upholdReputation;
        uint256 rejectReputation;
        uint256 votersPool; // stake token owed to winning voters, not yet claimed
        uint256 winningVotersWeight; // weight of winning voters other than the accuser
    }

    struct Vote {
        VoteSide side;
        bool rewardClaimed;
        uint128 weight; // one slot per vote
    }

    struct ClaimRequest {
        uint256 cycle;
        uint256 reward;
        uint256 bonus;
        bytes32[] proof;
    }

    // ─── events ───
    event TaskCreated(uint256 indexed taskId, address indexed creator, bytes32 programCid, address stakeToken, address rewardToken, uint256 bountyPerRound, uint64 startTime);
    event BountyFunded(uint256 indexed taskId, address indexed funder, uint256 amount);
    event TaskStopped(uint256 indexed taskId);
    event BountyReturned(uint256 indexed taskId, address indexed creator, uint256 rewardAmount, uint256 stakeTokenAmount);
    event NodeRegistered(address indexed node, string p2pAddress);
    event Staked(uint256 indexed taskId, address indexed node, uint256 amount, uint256 totalStake);
    event UnstakeRequested(uint256 indexed taskId, address indexed node, uint256 amount, uint64 round);
    event StakeWithdrawn(uint256 indexed taskId, address indexed node, uint256 amount);
    event CycleOpened(uint256 indexed taskId, uint256 indexed cycle, uint256 budget, uint256 bonus);
    event Submitted(uint256 indexed taskId, uint256 indexed cycle, address indexed node, bytes32 root, uint256 weight);
    /// @notice One per submitBatch. `weights` packs, per entry in order, its weight (uint128) and
    /// its score at submission (uint32): 20 bytes each. Nodes and roots are in the calldata.
    event SubmissionsBatched(
        uint256 indexed taskId,
        uint256 indexed cycle,
        uint256 batchIndex,
        bytes32 entriesRoot,
        uint256 count,
        uint256 weightStart,
        uint256 weightEnd,
        bytes weights
    );
    event SubmissionMaterialized(uint256 indexed taskId, uint256 indexed cycle, address indexed node, uint256 batchIndex, uint256 index);
    event SeedRecorded(uint256 indexed taskId, uint256 indexed cycle, bytes32 seed);
    event ReputationUpdated(uint256 indexed taskId, address indexed node, uint32 passed, uint32 failed, uint32 score);
    event AuditRaised(uint256 indexed auditId, uint256 indexed taskId, uint256 indexed cycle, AuditKind kind, address accused, address accuser, bytes32 evidenceCid, uint64 deadline);
    event VoteCast(uint256 indexed auditId, address indexed voter, VoteSide side, uint256 weight);
    event AuditResolved(uint256 indexed auditId, bool upheld, uint256 upholdWeight, uint256 rejectWeight);
    event Slashed(uint256 indexed taskId, address indexed node, uint256 amount, uint256 indexed auditId);
    event SlashShared(uint256 indexed auditId, address indexed winner, uint256 toWinner, uint256 toVoters, uint256 toPool);
    event VoteRewardClaimed(uint256 indexed auditId, address indexed voter, uint256 amount);
    event PastRoundsReopened(uint256 indexed taskId, address indexed node, uint64 until);
    event DistributionPosted(uint256 indexed taskId, uint256 indexed cycle, address indexed poster, uint8 attempt, bytes32 merkleRoot, bytes32 listCid, uint256 rewardTotal, uint256 bonusTotal, bytes32 scaleHead);
    event DistributionRejected(uint256 indexed taskId, uint256 indexed cycle, address indexed poster, uint8 attempt);
    event DistributionFinalized(uint256 indexed taskId, uint256 indexed cycle, bytes32 merkleRoot, uint256 returnedReward, uint256 returnedBonus);
    event DistributionFailed(uint256 indexed taskId, uint256 indexed cycle, uint256 returnedReward, uint256 returnedBonus);
    event RewardClaimed(uint256 indexed taskId, uint256 indexed cycle, address indexed node, uint256 reward, uint256 bonus);

    // ─── errors ───
    error ZeroAddress();
    error ZeroAmount();
    error InvalidWindows(uint64 roundLength, uint64 submissionWindow, uint64 auditWindow, uint64 voteWindow);
    error InvalidShares(uint256 slashBps, uint256 falseAccusationBps, uint256 winnerBps, uint256 votersBps, uint256 auditFloorBps);
    error UnbondingTooShort(uint256 given, uint256 minimum);
    error InvalidDistributionParams();
    error TaskNotFound(uint256 taskId);
    error NotTaskCreator(uint256 taskId, address caller);
    error TaskIsStopped(uint256 taskId);
    error BountyExhausted(uint256 taskId);
    error TaskStillRunning(uint256 taskId, uint256 escrow, uint32 cyclesInFlight);
    error InsufficientStake(uint256 have, uint256 need);
    error StakeLocked(uint256 taskId, address node, uint256 unlockRound);
    error StakeHasOpenCases(uint256 taskId, address node, uint32 openCases);
    error NothingToWithdraw();
    error NotRegistered(address node);
    error EmptyP2pAddress();
    error EmptyRoot();
    error OutsideSubmissionWindow(uint256 cycle, uint256 nowTime, uint256 opensAt, uint256 closesAt);
    error AlreadySubmitted(uint256 taskId, uint256 cycle, address node);
    error NoSubmission(uint256 taskId, uint256 cycle, address node);
    error SeedNotYetAvailable(uint256 taskId, uint256 cycle, uint256 availableAt);
    error OutsideAuditWindow(uint256 cycle, uint256 nowTime, uint256 closesAt);
    error SelfAccusation();
    error AlreadyConvicted(uint256 taskId, uint256 cycle, address node);
    error AuditNotFound(uint256 auditId);
    error AlreadyVoted(uint256 auditId, address voter);
    error AccusedCannotVote(uint256 auditId);
    error InvalidVoteSide();
    error VotingClosed(uint256 auditId, uint64 deadline);
    error VotingStillOpen(uint256 auditId, uint64 deadline);
    error AuditAlreadyResolved(uint256 auditId);
    error NoRewardOwed(uint256 auditId, address voter);
    error DistributionNotOpen(uint256 taskId, uint256 cycle, uint256 opensAt);
    error AuditsPending(uint256 taskId, uint256 cycle, uint32 openAudits);
    error NotSelectedDistributor(uint256 taskId, uint256 cycle, uint8 attempt, address caller);
    error DistributionAlreadyPosted(uint256 taskId, uint256 cycle);
    error DistributionOverBudget(uint256 rewardTotal, uint256 budget, uint256 bonusTotal, uint256 bonus);
    error DistributionAttemptsExhausted(uint256 taskId, uint256 cycle);
    error DistributionAttemptsRemain(uint256 taskId, uint256 cycle);
    error NoDistributionPosted(uint256 taskId, uint256 cycle);
    error ChallengeWindowClosed(uint256 taskId, uint256 cycle, uint256 closedAt);
    error DistributionNotFinal(uint256 taskId, uint256 cycle);
    error AlreadyClaimed(uint256 taskId, uint256 cycle, address node);
    error InvalidProof(uint256 taskId, uint256 cycle, address node);
    error ClaimExceedsTotal(uint256 taskId, uint256 cycle);
    error WeightOverflow(uint256 weight);
    error StakeOverflow(uint256 total);
    error EmptyBatch();
    /// @dev Entry `entryIndex` of a batch is not signed by its node for this task, cycle, root,
    /// chain and TaskManager (or is a malleable high-s signature).
    error InvalidBatchSignature(uint256 entryIndex, address node);
    /// @dev Entry `entryIndex` fails a rule of direct submission; `reason` is that rule's error
    /// selector (EmptyRoot, InsufficientStake, NotRegistered, AlreadySubmitted).
    error BatchEntryRejected(uint256 entryIndex, address node, bytes4 reason);
    error BatchNotFound(uint256 taskId, uint256 cycle, uint256 batchIndex);
    error InvalidBatchProof(uint256 taskId, uint256 cycle, uint256 batchIndex, address node);
    error SubmissionsStillOpen(uint256 taskId, uint256 cycle, uint256 closesAt);
}
