// TS shapes of the contracts' structs and enums, derived from the generated ABIs (never hand-typed).
import type { Address, ContractFunctionArgs, ContractFunctionReturnType } from 'viem'

import type { taskManagerAbi } from './generated/contracts.ts'

export type Task = ContractFunctionReturnType<typeof taskManagerAbi, 'view', 'getTask'>
export type TaskParams = ContractFunctionArgs<typeof taskManagerAbi, 'nonpayable', 'createTask'>[0]
export type NodeState = ContractFunctionReturnType<typeof taskManagerAbi, 'view', 'getNode'>
export type Submission = ContractFunctionReturnType<typeof taskManagerAbi, 'view', 'getSubmission'>
export type Cycle = ContractFunctionReturnType<typeof taskManagerAbi, 'view', 'getCycle'>
export type Audit = ContractFunctionReturnType<typeof taskManagerAbi, 'view', 'getAudit'>
export type Vote = ContractFunctionReturnType<typeof taskManagerAbi, 'view', 'getVote'>
export type ClaimRequest = ContractFunctionArgs<typeof taskManagerAbi, 'nonpayable', 'claimRewards'>[2][number]

/** ITaskManager.VoteSide */
export const VoteSide = { None: 0, Uphold: 1, Reject: 2 } as const
export type VoteSide = (typeof VoteSide)[keyof typeof VoteSide]

/** ITaskManager.AuditKind */
export const AuditKind = { Submission: 0, Distribution: 1 } as const
export type AuditKind = (typeof AuditKind)[keyof typeof AuditKind]

/** ITaskManager.DistributionStatus */
export const DistributionStatus = { Pending: 0, Posted: 1, Final: 2, Failed: 3 } as const
export type DistributionStatus = (typeof DistributionStatus)[keyof typeof DistributionStatus]

export const distributionStatusName = ['Pending', 'Posted', 'Final', 'Failed'] as const

/** Addresses of a Coop deployment. */
export type CoopAddresses = {
  taskManager: Address
  taskLens: Address
  coopToken: Address
  rewardToken: Address
}
