// coop status: the chain, the deployment's tasks, and one account's (or every devnet node's) stake,
// reputation and balances.
import { getNode, taskManagerAbi, unbondedAtRound } from '@coop/chain'
import { erc20Abi, getAddress, isAddress, type Address } from 'viem'

import { stringValue, type Command } from '../args.ts'
import { formatAmount } from '../amounts.ts'
import { rawCidFromDigest } from '../cid.ts'
import { chainContext, chainOptions, checkRpc, jsonOption, resolvePrivateKey, signerOptions, type ChainContext } from '../context.ts'
import { CliError, toCliError } from '../errors.ts'
import { currentRoundAt } from '../phase.ts'
import { toJson } from '../tx.ts'
import { privateKeyToAccount } from 'viem/accounts'
import { chainNow } from './task.ts'

async function accountStatus(chain: ChainContext, account: Address, name: string | undefined, taskIds: bigint[]) {
  const client = chain.publicClient
  const deployment = chain.deployment
  const balance = (token: Address) => client.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [account] })
  const [eth, coop, reward] = await Promise.all([
    client.getBalance({ address: account }),
    deployment ? balance(deployment.addresses.coopToken) : Promise.resolve(undefined),
    deployment ? balance(deployment.addresses.rewardToken) : Promise.resolve(undefined),
  ])
  const tasks = []
  for (const taskId of taskIds) {
    const state = await getNode(client, { address: chain.taskManager, taskId, node: account })
    const unlockRound = state.unbonding > 0n ? await unbondedAtRound(client, { address: chain.taskManager, taskId, node: account }) : undefined
    tasks.push({
      taskId,
      stake: state.stake,
      unbonding: state.unbonding,
      unlockRound,
      passed: state.passed,
      failed: state.failed,
      score: state.score,
      openCases: state.openCases,
      lastCycle: state.hasSubmitted ? state.lastCycle : undefined,
    })
  }
  return { name, address: account, balances: { eth, coop, reward }, tasks }
}

export const statusCommand: Command = {
  path: ['status'],
  summary: 'chain, tasks, and stake / reputation / balances of an account or of every devnet node',
  options: {
    ...chainOptions,
    ...signerOptions,
    address: { type: 'string', placeholder: '0x…', description: 'show this account (default: the --key/--as account, or every devnet node)' },
    task: { type: 'string', placeholder: 'id', description: 'only this task', multiple: true },
    ...jsonOption,
  },
  examples: ['coop status --deployment /tmp/coop-devnet-…/deployment.json', 'coop status --rpc http://127.0.0.1:8545 --task-manager 0x… --task-lens 0x… --address 0x…'],
  async run({ values, io }) {
    const name = 'coop status'
    const chain = chainContext(values, io, name)
    const chainId = await checkRpc(chain.rpcUrl, name)
    try {
      const client = chain.publicClient
      const taskCount = await client.readContract({ address: chain.taskManager, abi: taskManagerAbi, functionName: 'taskCount' })
      const wanted = (Array.isArray(values.task) ? values.task : []).map((raw) => {
        if (!/^\d+$/.test(raw)) throw new CliError(`${name}: --task must be a task id, got '${raw}'`, { code: 'INVALID_OPTION', hint: 'for example --task 1' })
        return BigInt(raw)
      })
      for (const taskId of wanted) {
        if (taskId < 1n || taskId > taskCount) {
          throw new CliError(`${name}: task ${taskId} does not exist (this deployment has ${taskCount} task${taskCount === 1n ? '' : 's'})`, { code: 'INVALID_OPTION', hint: 'omit --task to list them all' })
        }
      }
      const taskIds = wanted.length ? wanted : Array.from({ length: Number(taskCount) }, (_, index) => BigInt(index + 1))
      const now = await chainNow(client)
      const blockNumber = await client.getBlockNumber()
      const tasks = []
      for (const taskId of taskIds) {
        const task = await client.readContract({ address: chain.taskManager, abi: taskManagerAbi, functionName: 'getTask', args: [taskId] })
        tasks.push({
          taskId,
          name: chain.deployment?.tasks.find((entry) => entry.taskId === taskId.toString())?.name,
          programCid: rawCidFromDigest(task.params.programCid),
          round: currentRoundAt(task, now),
          escrow: task.escrow,
          bountyPerRound: task.params.bountyPerRound,
          roundsLeft: task.escrow / task.params.bountyPerRound,
          cyclesInFlight: task.cyclesInFlight,
          stopped: task.stopped,
        })
      }
      // Whose accounts: --address, else the signer (--key/--as/COOP_PRIVATE_KEY), else the devnet's nodes.
      const accounts: { address: Address; name: string | undefined }[] = []
      const addressRaw = stringValue(values, 'address')
      if (addressRaw) {
        if (!isAddress(addressRaw)) throw new CliError(`${name}: --address is not an address`, { code: 'INVALID_OPTION', hint: 'pass a 0x… address' })
        accounts.push({ address: getAddress(addressRaw), name: chain.deployment?.nodes.find((node) => node.address.toLowerCase() === addressRaw.toLowerCase())?.name })
      } else if (stringValue(values, 'key') || stringValue(values, 'as') || io.env.COOP_PRIVATE_KEY) {
        const address = privateKeyToAccount(resolvePrivateKey(values, io, chain.deployment, name)).address
        accounts.push({ address, name: stringValue(values, 'as') })
      } else {
        for (const node of chain.deployment?.nodes ?? []) accounts.push({ address: node.address, name: node.name })
      }
      const accountRows = []
      for (const account of accounts) accountRows.push(await accountStatus(chain, account.address, account.name, taskIds))
      const status = {
        rpcUrl: chain.rpcUrl,
        chainId,
        blockNumber,
        now,
        taskManager: chain.taskManager,
        taskLens: chain.taskLens,
        dashboardUrl: chain.deployment?.dashboardUrl,
        tasks,
        accounts: accountRows,
      }
      if (values.json) {
        io.stdout.write(`${toJson(status)}\n`)
        return
      }
      const lines = [
        `chain ${chainId} at ${chain.rpcUrl}: block ${blockNumber}, ${new Date(Number(now) * 1000).toISOString()}`,
        `TaskManager ${chain.taskManager} · TaskLens ${chain.taskLens}${status.dashboardUrl ? ` · dashboard ${status.dashboardUrl}` : ''}`,
        '',
        tasks.length ? 'tasks:' : 'no tasks yet: create one with `coop task create`',
        ...tasks.map(
          (task) =>
            `  #${task.taskId} ${(task.name ?? '').padEnd(12)} round ${String(task.round).padEnd(5)} escrow ${formatAmount(task.escrow)} (${task.roundsLeft} rounds) · ${task.cyclesInFlight} cycles in flight${task.stopped ? ' · STOPPED' : ''} · program ${task.programCid}`,
        ),
      ]
      if (accountRows.length) {
        lines.push('', 'accounts:')
        for (const row of accountRows) {
          const balances = [`${formatAmount(row.balances.eth)} ETH`]
          if (row.balances.coop !== undefined) balances.push(`${formatAmount(row.balances.coop)} COOP`)
          if (row.balances.reward !== undefined) balances.push(`${formatAmount(row.balances.reward)} reward`)
          lines.push(`  ${row.name ? `${row.name} ` : ''}${row.address}: ${balances.join(', ')}`)
          for (const task of row.tasks) {
            if (task.stake === 0n && task.unbonding === 0n && task.passed === 0 && task.failed === 0) continue
            lines.push(
              `    task ${task.taskId}: stake ${formatAmount(task.stake)}` +
                (task.unbonding > 0n ? `, unbonding ${formatAmount(task.unbonding)} (withdraw from round ${task.unlockRound})` : '') +
                ` · passed ${task.passed}, failed ${task.failed}, score ${task.score}` +
                (task.openCases ? ` · ${task.openCases} open cases` : '') +
                (task.lastCycle !== undefined ? ` · last cycle ${task.lastCycle}` : ''),
            )
          }
        }
      }
      io.stdout.write(`${lines.join('\n')}\n`)
    } catch (error) {
      throw toCliError(error, { rpcUrl: chain.rpcUrl })
    }
  },
}

