// client.extend(coopActions(addresses)): the actions bound to one deployment, viem-style
// (`client.submit({ taskId, cycle, root })` instead of `submit(client, { address, … })`).
import type { Address } from 'viem'

import { auditorsOf } from './actions/auditorsOf.ts'
import { buildMaterializeProof } from './actions/buildMaterializeProof.ts'
import { getBatchEntries } from './actions/getBatchEntries.ts'
import { getCycleSubmitters } from './actions/getCycleSubmitters.ts'
import { materializeSubmission } from './actions/materializeSubmission.ts'
import { signSubmission } from './actions/signSubmission.ts'
import { submitBatch } from './actions/submitBatch.ts'
import { auditProbabilityBps } from './actions/auditProbabilityBps.ts'
import { challengeDistribution } from './actions/challengeDistribution.ts'
import { claimRewards } from './actions/claimRewards.ts'
import { claimVoteReward } from './actions/claimVoteReward.ts'
import { createTask } from './actions/createTask.ts'
import { currentDistributionAttempt } from './actions/currentDistributionAttempt.ts'
import { currentRound } from './actions/currentRound.ts'
import { failDistribution } from './actions/failDistribution.ts'
import { finalizeDistribution } from './actions/finalizeDistribution.ts'
import { fundTask } from './actions/fundTask.ts'
import { getAudit } from './actions/getAudit.ts'
import { getCycle } from './actions/getCycle.ts'
import { getNode } from './actions/getNode.ts'
import { getP2pAddress } from './actions/getP2pAddress.ts'
import { getSubmission } from './actions/getSubmission.ts'
import { getTask } from './actions/getTask.ts'
import { getVote } from './actions/getVote.ts'
import { isSampled } from './actions/isSampled.ts'
import { postDistribution } from './actions/postDistribution.ts'
import { raiseAudit } from './actions/raiseAudit.ts'
import { recordSeed } from './actions/recordSeed.ts'
import { registerNode } from './actions/registerNode.ts'
import { requestUnstake } from './actions/requestUnstake.ts'
import { resolveAudit } from './actions/resolveAudit.ts'
import { roundStart } from './actions/roundStart.ts'
import { selectedDistributor } from './actions/selectedDistributor.ts'
import { settleReputation } from './actions/settleReputation.ts'
import { stake } from './actions/stake.ts'
import { stopTask } from './actions/stopTask.ts'
import { submit } from './actions/submit.ts'
import { unbondedAtRound } from './actions/unbondedAtRound.ts'
import { vote } from './actions/vote.ts'
import { withdrawRemainingBounty } from './actions/withdrawRemainingBounty.ts'
import { withdrawStake } from './actions/withdrawStake.ts'
import type { AnyClient } from './internal/contract.ts'
import type { CoopAddresses } from './types.ts'

type Bound<parameters extends { address: Address }, result> = (
  parameters: Omit<parameters, 'address'> & { address?: Address },
) => result

function bind<parameters extends { address: Address }, result>(
  client: AnyClient,
  address: Address,
  action: (client: AnyClient, parameters: parameters) => result,
): Bound<parameters, result> {
  return (parameters) => action(client, { address, ...parameters } as parameters)
}

/** Coop's actions bound to a deployment: `client.extend(coopActions(addresses))`. */
export function coopActions(addresses: Pick<CoopAddresses, 'taskManager' | 'taskLens'>) {
  return (client: AnyClient) => {
    const manager = addresses.taskManager
    const lens = addresses.taskLens
    return {
      createTask: bind(client, manager, createTask),
      fundTask: bind(client, manager, fundTask),
      stopTask: bind(client, manager, stopTask),
      withdrawRemainingBounty: bind(client, manager, withdrawRemainingBounty),
      stake: bind(client, manager, stake),
      requestUnstake: bind(client, manager, requestUnstake),
      withdrawStake: bind(client, manager, withdrawStake),
      registerNode: bind(client, manager, registerNode),
      submit: bind(client, manager, submit),
      signSubmission: bind(client, manager, signSubmission),
      submitBatch: bind(client, manager, submitBatch),
      materializeSubmission: bind(client, manager, materializeSubmission),
      getBatchEntries: bind(client, manager, getBatchEntries),
      getCycleSubmitters: bind(client, manager, getCycleSubmitters),
      buildMaterializeProof: bind(client, manager, buildMaterializeProof),
      recordSeed: bind(client, manager, recordSeed),
      settleReputation: bind(client, manager, settleReputation),
      raiseAudit: bind(client, manager, raiseAudit),
      vote: bind(client, manager, vote),
      resolveAudit: bind(client, manager, resolveAudit),
      claimVoteReward: bind(client, manager, claimVoteReward),
      postDistribution: bind(client, manager, postDistribution),
      challengeDistribution: bind(client, manager, challengeDistribution),
      finalizeDistribution: bind(client, manager, finalizeDistribution),
      failDistribution: bind(client, manager, failDistribution),
      claimRewards: bind(client, manager, claimRewards),
      getTask: bind(client, manager, getTask),
      getNode: bind(client, manager, getNode),
      getCycle: bind(client, manager, getCycle),
      getSubmission: bind(client, manager, getSubmission),
      getAudit: bind(client, manager, getAudit),
      getVote: bind(client, manager, getVote),
      getP2pAddress: bind(client, manager, getP2pAddress),
      currentRound: bind(client, manager, currentRound),
      roundStart: bind(client, manager, roundStart),
      currentDistributionAttempt: bind(client, manager, currentDistributionAttempt),
      unbondedAtRound: bind(client, manager, unbondedAtRound),
      isSampled: bind(client, lens, isSampled),
      auditorsOf: bind(client, lens, auditorsOf),
      auditProbabilityBps: bind(client, lens, auditProbabilityBps),
      selectedDistributor: bind(client, lens, selectedDistributor),
    }
  }
}

export type CoopActions = ReturnType<ReturnType<typeof coopActions>>
