// coop claim: claims an account's rewards for every final cycle it has not claimed yet, in one
// transaction. Claims need the cycle's distribution list (to build the Merkle proof): it comes from
// a node's API (--node-url, GET /api/tasks/:id/distributions/:cycle) or from list files (--list).
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

import { getCycle, taskManagerAbi, type ClaimRequest } from '@coop/chain'
import { buildDistribution, proofOf, type DistributionEntry } from '@coop/protocol'
import { getAddress, type Address, type Hex } from 'viem'

import { listValue, stringValue, type Command } from '../args.ts'
import { formatAmount } from '../amounts.ts'
import { chainOptions, jsonOption, loadTask, signerContext, signerOptions, type SignerContext } from '../context.ts'
import { CliError, toCliError } from '../errors.ts'
import { currentRoundAt } from '../phase.ts'
import { toJson, tokenInfo } from '../tx.ts'
import { chainNow, taskIdOption, taskIdValue } from './task.ts'

/** What claim needs of a node's state (@coop/node NodeStore). */
export type ListStore = { getList(taskId: string, cycle: number, by?: { merkleRoot?: string }): { listJson: string } | undefined; close?(): void }

/** Opens a node's state read-only-ish (its distribution lists) from its data dir. */
async function openNodeLists(dataDir: string): Promise<ListStore> {
  const file = join(dataDir, 'state.sqlite')
  if (!existsSync(file)) {
    throw new CliError(`no node state at ${file}`, { code: 'CONFIG', hint: 'pass the --data-dir of a node of this task (it holds the distribution lists it saw)' })
  }
  const { openState } = await import('@coop/node')
  return openState(file) as unknown as ListStore
}

export type DistributionList = { taskId?: string | number; cycle: string | number; entries: { node: string; reward: string | number; bonus?: string | number }[] }

function normalizeList(raw: unknown, source: string): DistributionList {
  const list = (raw as { list?: unknown })?.list ?? raw
  const candidate = list as Partial<DistributionList>
  if (!candidate || candidate.cycle === undefined || !Array.isArray(candidate.entries)) {
    throw new CliError(`${source} is not a distribution list ({ cycle, entries: [{ node, reward, bonus }] })`, {
      code: 'CONFIG',
      hint: 'pass a list file saved from a node (GET /api/tasks/<id>/distributions/<cycle>)',
    })
  }
  return candidate as DistributionList
}

async function listFromNode(url: string, taskId: bigint, cycle: bigint): Promise<DistributionList | undefined> {
  const endpoint = `${url.replace(/\/$/, '')}/api/tasks/${taskId}/distributions/${cycle}`
  let response: Response
  try {
    response = await fetch(endpoint, { signal: AbortSignal.timeout(10_000) })
  } catch (error) {
    throw new CliError(`cannot reach the node at ${url}: ${(error as Error).message}`, { code: 'CONFIG', hint: 'check --node-url (a node prints its API URL; the devnet writes <data-dir>/nodes/<name>/http.port)' })
  }
  if (response.status === 404) return undefined
  if (!response.ok) throw new CliError(`${endpoint} answered ${response.status}`, { code: 'CONFIG', hint: 'try another node with --node-url' })
  return normalizeList(await response.json(), endpoint)
}

/** Claim requests for `account` over `cycles`, verified against the on-chain roots. */
export async function buildClaims(
  chain: SignerContext,
  taskId: bigint,
  account: Address,
  cycles: bigint[],
  source: { nodeUrl?: string; lists: DistributionList[]; store?: ListStore },
) {
  const claims: ClaimRequest[] = []
  const skipped: { cycle: bigint; reason: string }[] = []
  for (const cycle of cycles) {
    const state = await getCycle(chain.publicClient, { address: chain.taskManager, taskId, cycle })
    let list = source.lists.find((entry) => BigInt(entry.cycle) === cycle && (entry.taskId === undefined || BigInt(entry.taskId) === taskId))
    if (!list && source.store) {
      const stored = source.store.getList(taskId.toString(), Number(cycle), { merkleRoot: state.merkleRoot })
      if (stored) list = normalizeList(JSON.parse(stored.listJson), `the node state's list of cycle ${cycle}`)
    }
    if (!list && source.nodeUrl) list = await listFromNode(source.nodeUrl, taskId, cycle)
    if (!list) {
      skipped.push({ cycle, reason: 'no distribution list (pass --node-url or --list)' })
      continue
    }
    const entries: DistributionEntry[] = list.entries.map((entry) => ({ node: getAddress(entry.node), reward: BigInt(entry.reward), bonus: BigInt(entry.bonus ?? 0) }))
    const distribution = buildDistribution({ taskId, cycle, entries })
    if (distribution.root.toLowerCase() !== (state.merkleRoot as Hex).toLowerCase()) {
      skipped.push({ cycle, reason: `the list's root ${distribution.root} is not the posted root ${state.merkleRoot}` })
      continue
    }
    const mine = entries.find((entry) => entry.node.toLowerCase() === account.toLowerCase())
    if (!mine) {
      skipped.push({ cycle, reason: 'not in the list (convicted or no submission)' })
      continue
    }
    claims.push({ cycle, reward: mine.reward, bonus: mine.bonus, proof: proofOf(distribution, account) ?? [] })
  }
  return { claims, skipped }
}

export const claimCommand: Command = {
  path: ['claim'],
  summary: 'claim rewards of every final cycle not claimed yet, in one transaction',
  description:
    'Finds the task\'s final (or finalizable) cycles the account has not claimed, takes each cycle\'s distribution list from a node ' +
    '(--node-data-dir, or --node-url) or from files (--list), checks it against the posted Merkle root, and claims them all at once. A running node claims by itself; ' +
    'this is for accounts whose node is gone.',
  options: {
    ...chainOptions,
    ...signerOptions,
    ...taskIdOption,
    'node-url': { type: 'string', placeholder: 'url', description: 'API of any node of the task (http://127.0.0.1:<port>)' },
    'node-data-dir': { type: 'string', placeholder: 'dir', description: 'data dir of a node of the task (reads the lists from its state)' },
    list: { type: 'string', placeholder: 'file', description: 'distribution list JSON ({ cycle, entries }) (repeatable)', multiple: true },
    cycle: { type: 'string', placeholder: 'n', description: 'only these cycles (repeatable)', multiple: true },
    ...jsonOption,
  },
  examples: ['coop claim --deployment deployment.json --as node-2 --task 1 --node-url http://127.0.0.1:40211'],
  async run(context) {
    const name = 'coop claim'
    const taskId = taskIdValue(context, name)
    const nodeUrl = stringValue(context.values, 'node-url')
    const lists = listValue(context.values, 'list').map((file) => {
      const path = resolve(context.io.cwd, file)
      let raw: unknown
      try {
        raw = JSON.parse(readFileSync(path, 'utf8'))
      } catch (error) {
        throw new CliError(`cannot read the list ${path}: ${(error as Error).message}`, { code: 'CONFIG', hint: 'pass a JSON file { cycle, entries: [{ node, reward, bonus }] }' })
      }
      return normalizeList(raw, path)
    })
    const nodeDataDir = stringValue(context.values, 'node-data-dir')
    if (!nodeUrl && !nodeDataDir && lists.length === 0) {
      throw new CliError(`${name}: no source of distribution lists`, {
        code: 'MISSING_OPTION',
        hint: 'pass --node-url http://127.0.0.1:<port> or --node-data-dir <dir> (any node of the task), or --list <file>',
      })
    }
    const chain = signerContext(context.values, context.io, name)
    const task = await loadTask(chain, taskId, name)
    try {
      const now = await chainNow(chain.publicClient)
      const round = currentRoundAt(task, now)
      const wanted = listValue(context.values, 'cycle').map((raw) => {
        if (!/^\d+$/.test(raw)) throw new CliError(`${name}: --cycle must be a number, got '${raw}'`, { code: 'INVALID_OPTION', hint: 'for example --cycle 3' })
        return BigInt(raw)
      })
      const candidates = wanted.length ? wanted : Array.from({ length: Number(round >= 2n ? round - 1n : 0n) }, (_, index) => BigInt(index))
      const open: bigint[] = []
      for (const cycle of candidates) {
        const state = await getCycle(chain.publicClient, { address: chain.taskManager, taskId, cycle })
        const finalizable = state.status === 1 && state.openChallenges === 0 && now >= state.postedAt + task.params.distributionAuditWindow
        if (state.status !== 2 && !finalizable) continue
        const claimed = await chain.publicClient.readContract({ address: chain.taskManager, abi: taskManagerAbi, functionName: 'claimed', args: [taskId, cycle, chain.account] })
        if (!claimed) open.push(cycle)
      }
      if (open.length === 0) {
        if (context.values.json) context.io.stdout.write(`${toJson({ taskId, node: chain.account, claimed: [], reward: 0n, bonus: 0n })}\n`)
        else context.io.stdout.write(`nothing to claim for ${chain.account} in task ${taskId}\n`)
        return
      }
      const store = nodeDataDir ? await openNodeLists(resolve(context.io.cwd, nodeDataDir)) : undefined
      let built: Awaited<ReturnType<typeof buildClaims>>
      try {
        built = await buildClaims(chain, taskId, chain.account, open, { ...(nodeUrl ? { nodeUrl } : {}), lists, ...(store ? { store } : {}) })
      } finally {
        store?.close?.()
      }
      const { claims, skipped } = built
      if (claims.length === 0) {
        throw new CliError(`${name}: nothing claimable for ${chain.account}: ${skipped.map((entry) => `cycle ${entry.cycle}: ${entry.reason}`).join('; ')}`, {
          code: 'CHAIN',
          exitCode: 1,
          hint: 'check that the account submitted in those cycles and that the lists come from a node of this task',
        })
      }
      const result = await chain.signer.claimRewards({ taskId, claims })
      if (context.values.json) {
        context.io.stdout.write(`${toJson({ taskId, node: chain.account, claimed: result.perCycle, reward: result.reward, bonus: result.bonus, skipped, transaction: result.hash })}\n`)
      } else {
        const reward = await tokenInfo(chain.client, task.params.rewardToken)
        context.io.stdout.write(
          `${chain.account} claimed cycles ${result.perCycle.map((entry) => entry.cycle).join(', ')} of task ${taskId}: ${formatAmount(result.reward)} ${reward.symbol}` +
            `${result.bonus > 0n ? ` + ${formatAmount(result.bonus)} COOP bonus` : ''}\n` +
            skipped.map((entry) => `  skipped cycle ${entry.cycle}: ${entry.reason}\n`).join(''),
        )
      }
    } catch (error) {
      throw toCliError(error, { rpcUrl: chain.rpcUrl })
    }
  },
}
