// Shapes of the chain view's read model. Amounts are bigints here; the HTTP API serializes them as
// decimal strings. Addresses are checksummed.
import type { Address, Hex } from 'viem'

export type TokenInfo = { address: Address; symbol: string; decimals: number }

/** Task parameters as stored on-chain (ITaskManager.TaskParams). */
export type TaskParamsView = {
  programCid: Hex
  stakeToken: Address
  rewardToken: Address
  minStake: bigint
  bountyPerRound: bigint
  roundLength: bigint
  submissionWindow: bigint
  auditWindow: bigint
  voteWindow: bigint
  distributionWindow: bigint
  distributionAuditWindow: bigint
  slashBps: number
  falseAccusationBps: number
  winnerBps: number
  votersBps: number
  duesRounds: number
  auditFloorBps: number
  auditDecay: number
  auditorsPerSample: number
  maxDistributionAttempts: number
  unbondingRounds: number
}

export type TaskSummary = {
  taskId: bigint
  creator: Address
  programCid: Hex
  params: TaskParamsView
  startTime: bigint
  /** Round at the view's chain time. */
  currentRound: bigint
  /** When the current round started / the next one starts (unix seconds). */
  roundStartsAt: bigint
  nextRoundAt: bigint
  escrow: bigint
  slashPool: bigint
  cyclesInFlight: number
  stopped: boolean
  stakeToken: TokenInfo
  rewardToken: TokenInfo
  /** Nodes that ever staked or submitted in this task. */
  nodeCount: number
  createdBlock: bigint
}

/**
 * Phase of a cycle at the view's chain time: `work` (round c), `submission` (submission window of
 * round c+1), `audit` (rest of round c+1: audits raised, voted, resolved), then from round c+2
 * `distribution` (waiting for / in the challenge window of a posted list), `final`, `failed`, or
 * `empty` (nobody submitted, nothing to distribute).
 */
export type CyclePhase = 'work' | 'submission' | 'audit' | 'distribution' | 'final' | 'failed' | 'empty'

export type DistributionStatusName = 'pending' | 'posted' | 'final' | 'failed'

export type SubmissionSummary = {
  node: Address
  root: Hex
  /** Selection weight at submission (stake × reputation factor). */
  weight: bigint
  /** Sampled for audit by the on-chain assignment (TaskLens.isSampled); null until the seed is fixed. */
  sampled: boolean | null
  /** Submitters assigned to audit it (TaskLens.auditorsOf); empty until the seed is fixed. */
  auditors: Address[]
  /** Probability it was audited with (TaskLens.auditProbabilityBps); null until known. */
  auditProbabilityBps: number | null
  convicted: boolean
  blockNumber: bigint
  /** `direct` (submit) or `batched` (an entry of a submitBatch, decoded from its calldata). */
  via: 'direct' | 'batched'
  /** For a batched submission: its batch, position among the cycle's batched entries, committed score, and whether materializeSubmission wrote its record yet. */
  batch: { batchIndex: bigint; position: bigint; score: bigint; materialized: boolean } | null
}

/** One SubmissionsBatched of a cycle. */
export type BatchSummary = {
  batchIndex: bigint
  entriesRoot: Hex
  count: number
  /** The batch's interval on the cycle's batched weight line. */
  weightStart: bigint
  weightEnd: bigint
  transactionHash: Hex
  blockNumber: bigint
  /** true: entries decoded (listed in submissions); false: not a direct submitBatch call, entries unknown; null: not read yet. */
  decoded: boolean | null
}

export type DistributionSummary = {
  status: DistributionStatusName
  poster: Address | null
  merkleRoot: Hex | null
  listCid: Hex | null
  attempt: number
  rewardTotal: bigint
  bonusTotal: bigint
  rewardClaimed: bigint
  bonusClaimed: bigint
  postedAt: bigint | null
  /** Attempts whose posted list was challenged and voided. */
  rejected: { attempt: number; poster: Address }[]
}

export type RoundSummary = {
  cycle: bigint
  phase: CyclePhase
  /** Absolute times of the cycle's phases (unix seconds). */
  times: {
    workOpens: bigint
    submissionOpens: bigint
    submissionCloses: bigint
    auditCloses: bigint
    distributionOpens: bigint
  }
  budget: bigint
  bonus: bigint
  seed: Hex | null
  openAudits: number
  /** Direct and batched submissions (direct first, in submission order; then batched by position). */
  submissions: SubmissionSummary[]
  batches: BatchSummary[]
  /** Audits raised in this cycle (ids). */
  audits: bigint[]
  distribution: DistributionSummary
}

export type NodeSummary = {
  address: Address
  name?: string
  /** Registered p2p multiaddr, or null if the node never registered. */
  p2p: string | null
  stake: bigint
  unbonding: bigint
  unbondingRound: bigint
  passed: number
  failed: number
  score: number
  openCases: number
  /** Probability that the node's next submission is sampled, from its current score. */
  auditProbabilityBps: number
  /** Submissions seen by the view, direct and batched. */
  submissions: number
  /** Of those, batched. */
  batched: number
  /** Of those, sampled for audit by the on-chain assignment. */
  audited: number
  /** Audits raised against it, and how many were upheld. */
  auditsAgainst: number
  auditsUpheld: number
  /** Claimed reward token and stake-token bonus (RewardClaimed). */
  rewards: bigint
  bonus: bigint
  /** Stake lost to slashes. */
  slashed: bigint
  /** Convicted at least once (an upheld audit or challenge against it). */
  convicted: boolean
  lastCycle: bigint | null
  reopenedUntil: bigint
}

export type AuditKindName = 'submission' | 'distribution'
export type VoteSideName = 'uphold' | 'reject'

export type AuditSummary = {
  auditId: bigint
  taskId: bigint
  kind: AuditKindName
  cycle: bigint
  accused: Address
  accuser: Address
  evidenceCid: Hex
  deadline: bigint
  upholdWeight: bigint
  rejectWeight: bigint
  resolved: boolean
  upheld: boolean
  /** voting (before the deadline), resolvable (deadline passed), upheld, rejected. */
  status: 'voting' | 'resolvable' | 'upheld' | 'rejected'
  votes: { voter: Address; side: VoteSideName; weight: bigint }[]
  slashed: { node: Address; amount: bigint } | null
  shared: { winner: Address; toWinner: bigint; toVoters: bigint; toPool: bigint } | null
  raisedBlock: bigint
}

/** Pushed to listeners (and by the API over WebSocket) after the view has applied it. */
export type ViewEvent = {
  type:
    | 'sync'
    | 'task'
    | 'stake'
    | 'node'
    | 'round'
    | 'submission'
    | 'reputation'
    | 'audit'
    | 'vote'
    | 'slash'
    | 'distribution'
    | 'claim'
  /** The contract event it comes from (absent for `sync` and clock-driven `round` events). */
  event?: string
  taskId?: bigint
  cycle?: bigint
  blockNumber: bigint
  [field: string]: unknown
}

export type ViewStatus = {
  chainId: number | null
  /** Last block fully applied: its events and the contract reads they called for. */
  blockNumber: bigint | null
  /** Timestamp of that block. */
  now: bigint | null
  /** The time phases and rounds are answered for: `now`, or the wall clock if later and `wallClock` is on. */
  clock: bigint | null
  /** The chain head when last checked. */
  headBlock: bigint | null
  running: boolean
  syncing: boolean
  rpcErrors: number
  lastError: { code: string; message: string; at: number } | null
  lastSyncAt: number | null
}

export type Logger = {
  debug?: (object: unknown, message?: string) => void
  info: (object: unknown, message?: string) => void
  warn: (object: unknown, message?: string) => void
  error: (object: unknown, message?: string) => void
}
