// coop stake | unstake
import { getNode, unbondedAtRound } from '@coop/chain'

import { requireString, type Command } from '../args.ts'
import { formatAmount, parseAmount } from '../amounts.ts'
import { chainOptions, jsonOption, loadTask, signerContext, signerOptions } from '../context.ts'
import { CliError, toCliError } from '../errors.ts'
import { currentRoundAt } from '../phase.ts'
import { ensureAllowance, toJson, tokenInfo } from '../tx.ts'
import { chainNow, taskIdOption, taskIdValue } from './task.ts'

export const stakeCommand: Command = {
  path: ['stake'],
  summary: 'stake tokens in a task (approves the stake token first)',
  options: {
    ...chainOptions,
    ...signerOptions,
    ...taskIdOption,
    amount: { type: 'string', placeholder: 'tokens', description: 'stake tokens to add (e.g. 1000, 0.5, 1000wei)', required: true },
    ...jsonOption,
  },
  examples: ['coop stake --deployment deployment.json --as node-1 --task 1 --amount 500', 'coop stake --rpc http://127.0.0.1:8545 --key 0x… --task-manager 0x… --task-lens 0x… --task 1 --amount 1000'],
  async run(context) {
    const name = 'coop stake'
    const taskId = taskIdValue(context, name)
    const amount = parseAmount(requireString(context.values, 'amount', name, 'for example --amount 1000'))
    const chain = signerContext(context.values, context.io, name)
    const task = await loadTask(chain, taskId, name)
    try {
      await ensureAllowance(chain.client, task.params.stakeToken, chain.taskManager, amount)
      const result = await chain.signer.stake({ taskId, amount })
      if (context.values.json) {
        context.io.stdout.write(`${toJson({ taskId, node: chain.account, staked: result.staked, totalStake: result.totalStake, transaction: result.hash })}\n`)
        return
      }
      const token = await tokenInfo(chain.client, task.params.stakeToken)
      const below = result.totalStake < task.params.minStake
      context.io.stdout.write(
        `${chain.account} staked ${formatAmount(result.staked)} ${token.symbol} in task ${taskId}; stake now ${formatAmount(result.totalStake)} ${token.symbol}` +
          `${below ? ` (below the minimum ${formatAmount(task.params.minStake)}: stake more to submit)` : ''}\n`,
      )
    } catch (error) {
      throw toCliError(error, { rpcUrl: chain.rpcUrl })
    }
  },
}

export const unstakeCommand: Command = {
  path: ['unstake'],
  summary: 'request an unstake (--amount), or withdraw unbonded stake (--withdraw)',
  description:
    'Unstaking has two steps. `--amount` moves active stake to unbonding (still slashable while its rounds can be audited); ' +
    '`--withdraw` pays out the unbonding stake once it is unlocked (`coop status` shows the unlock round).',
  options: {
    ...chainOptions,
    ...signerOptions,
    ...taskIdOption,
    amount: { type: 'string', placeholder: 'tokens', description: 'stake to move to unbonding' },
    withdraw: { type: 'boolean', description: 'withdraw all unbonded stake' },
    ...jsonOption,
  },
  examples: ['coop unstake --deployment deployment.json --as node-2 --task 1 --amount 500', 'coop unstake --deployment deployment.json --as node-2 --task 1 --withdraw'],
  async run(context) {
    const name = 'coop unstake'
    const taskId = taskIdValue(context, name)
    const amountRaw = context.values.amount as string | undefined
    const withdraw = Boolean(context.values.withdraw)
    if (!amountRaw && !withdraw) {
      throw new CliError(`${name}: say what to do: --amount <tokens> (request) or --withdraw`, { code: 'MISSING_OPTION', hint: 'first `--amount 500`, then after the unbonding rounds `--withdraw`' })
    }
    if (amountRaw && withdraw) {
      throw new CliError(`${name}: --amount and --withdraw are separate steps`, { code: 'USAGE', hint: 'request with --amount now, withdraw with --withdraw once unlocked' })
    }
    const chain = signerContext(context.values, context.io, name)
    const task = await loadTask(chain, taskId, name)
    const token = await tokenInfo(chain.client, task.params.stakeToken)
    try {
      if (amountRaw) {
        const amount = parseAmount(amountRaw)
        const result = await chain.signer.requestUnstake({ taskId, amount })
        const unlock = await unbondedAtRound(chain.publicClient, { address: chain.taskManager, taskId, node: chain.account })
        const state = await getNode(chain.publicClient, { address: chain.taskManager, taskId, node: chain.account })
        if (context.values.json) {
          context.io.stdout.write(`${toJson({ taskId, node: chain.account, requested: amount, stake: state.stake, unbonding: state.unbonding, unlockRound: unlock, transaction: result.hash })}\n`)
        } else {
          context.io.stdout.write(
            `${chain.account} moved ${formatAmount(amount)} ${token.symbol} to unbonding in task ${taskId} (unbonding ${formatAmount(state.unbonding)}, active ${formatAmount(state.stake)})\n` +
              `  → withdraw from round ${unlock} with \`coop unstake --task ${taskId} --withdraw\`\n`,
          )
        }
        return
      }
      const state = await getNode(chain.publicClient, { address: chain.taskManager, taskId, node: chain.account })
      if (state.unbonding === 0n) {
        throw new CliError(`${name}: nothing is unbonding for ${chain.account} in task ${taskId}`, { code: 'USAGE', hint: `request first: \`coop unstake --task ${taskId} --amount <tokens>\`` })
      }
      const unlock = await unbondedAtRound(chain.publicClient, { address: chain.taskManager, taskId, node: chain.account })
      const round = currentRoundAt(task, await chainNow(chain.publicClient))
      if (round < unlock) {
        throw new CliError(`${name}: the unbonding stake unlocks at round ${unlock}; task ${taskId} is in round ${round}`, {
          code: 'CHAIN',
          exitCode: 1,
          hint: `try again in about ${(unlock - round) * task.params.roundLength} s`,
        })
      }
      const result = await chain.signer.withdrawStake({ taskId })
      if (context.values.json) context.io.stdout.write(`${toJson({ taskId, node: chain.account, withdrawn: state.unbonding, transaction: result.hash })}\n`)
      else context.io.stdout.write(`${chain.account} withdrew ${formatAmount(state.unbonding)} ${token.symbol} from task ${taskId}\n`)
    } catch (error) {
      throw toCliError(error, { rpcUrl: chain.rpcUrl })
    }
  },
}
