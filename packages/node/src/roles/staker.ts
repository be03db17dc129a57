// Staker: keeps this node's active stake on a task at its target (config `stake`, default the
// task's minStake) — at start and whenever a slash takes it below the minimum — approving the
// stake token first when needed. Both steps are intents keyed by the stake they start from.
import { withRetry, type TaskParams } from '@coop/chain'
import { erc20Abi } from 'viem'
import { readContract } from 'viem/actions'

import type { TaskConfig } from '../config.ts'
import { NodeError } from '../errors.ts'
import type { NodeServices, TaskEnv } from './env.ts'

// One stake operation at a time per node: two tasks approving concurrently would each set the
// allowance to their own amount (approve is not additive) and one stake would then fail.
const locks = new WeakMap<NodeServices, Promise<void>>()

export async function ensureStake(services: NodeServices, taskId: bigint, params: TaskParams, taskConfig: TaskConfig): Promise<void> {
  const previous = locks.get(services) ?? Promise.resolve()
  let release!: () => void
  const current = new Promise<void>((resolve) => (release = resolve))
  locks.set(services, previous.then(() => current))
  await previous
  try {
    await ensureStakeNow(services, taskId, params, taskConfig)
  } finally {
    release()
  }
}

async function ensureStakeNow(services: NodeServices, taskId: bigint, params: TaskParams, taskConfig: TaskConfig): Promise<void> {
  const { chain, sender, address } = services
  const id = taskId.toString()
  const target = taskConfig.stake ? BigInt(taskConfig.stake) : params.minStake
  const state = await chain.coop.getNode({ taskId, node: address })
  if (state.stake >= target && state.stake > 0n) return
  const amount = target - state.stake
  // Each top-up is its own action: numbered by the top-ups already done (the stake before it
  // alone could repeat, e.g. 100 → slashed to 80 twice).
  const done = services.store.listIntents({ taskId: id, kind: 'stake', status: ['confirmed', 'skipped'] }).length
  const token = params.stakeToken
  const allowance = await withRetry(() => readContract(chain.client, { abi: erc20Abi, address: token, functionName: 'allowance', args: [address, chain.addresses.taskManager] }))
  if (allowance < amount) {
    const approved = await sender.execute(
      { kind: 'approve', taskId: id, cycle: -1, key: `${done}:${token.toLowerCase()}:${amount}:${state.stake}` },
      { token, amount: amount.toString() },
      { address: token, abi: erc20Abi, functionName: 'approve', args: [chain.addresses.taskManager, amount] },
    )
    if (approved.intent.status !== 'confirmed' && approved.intent.status !== 'skipped') {
      throw new NodeError('STAKE_FAILED', `approving ${amount} of the stake token failed`, { details: approved.intent.error ?? '' })
    }
  }
  const staked = await sender.execute(
    { kind: 'stake', taskId: id, cycle: -1, key: `${done}:${target}:${state.stake}` },
    { target: target.toString(), amount: amount.toString() },
    { functionName: 'stake', args: [taskId, amount] },
  )
  if (staked.intent.status !== 'confirmed' && staked.intent.status !== 'skipped') {
    throw new NodeError('STAKE_FAILED', `staking ${amount} on task ${id} failed`, { details: staked.intent.error ?? '' })
  }
  services.logger.info({ taskId: id, amount, target }, 'staked')
}


/** The scheduler found the stake below the minimum (e.g. after a slash): top it up. */
export async function topUpStake(env: TaskEnv): Promise<void> {
  const taskConfig = env.node.config.tasks.find((task) => task.taskId === env.id) ?? { taskId: env.id }
  await ensureStake(env.node, env.taskId, env.params, taskConfig)
}
