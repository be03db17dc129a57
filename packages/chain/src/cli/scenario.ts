// The devnet demo's script: a 3-cycle task run through the real contracts on a local anvil, with
// chain time moved from one protocol deadline to the next (a small discrete-event loop). Four
// nodes stake and submit; node-3 cheats in cycle 1, an assigned auditor raises an audit, the others
// vote, it is upheld and node-3 slashed; the selected distributors post equal-split Merkle lists,
// they finalize after their challenge windows, and every node claims all its cycles in one call.
import { buildDistribution, cyclePhases, equalSplit, type Distribution } from '@coop/protocol'
import {
  encodeAbiParameters,
  formatUnits,
  getAddress,
  keccak256,
  maxUint256,
  parseUnits,
  sha256,
  stringToHex,
  toBytes,
  zeroHash,
  type Address,
  type Hex,
} from 'viem'

import { approveErc20 } from '../actions/approveErc20.ts'
import { getErc20Balance } from '../actions/getErc20Balance.ts'
import { mintTestErc20 } from '../actions/mintTestErc20.ts'
import { transferErc20 } from '../actions/transferErc20.ts'
import { createCoopClient, createCoopTestClient } from '../clients.ts'
import { coopActions, type CoopActions } from '../decorators.ts'
import { deployCoop } from '../deploy.ts'
import { startAnvil, type Anvil } from '../devnet/anvil.ts'
import { setChainTime } from '../devnet/time.ts'
import { taskParams } from '../params.ts'
import { distributionStatusName, type ClaimRequest, type CoopAddresses, type TaskParams } from '../types.ts'

export type DemoOptions = {
  /** Human-readable progress lines. */
  log?: (line: string) => void
  /** Cycles to run (default 3). */
  cycles?: number
  /** Node (1-based) that forges its work in `cheatCycle` (default 3). */
  cheater?: number
  /** Cycle in which the cheater forges (default 1). */
  cheatCycle?: number
}

export type DemoNodeSummary = {
  name: string
  address: Address
  p2pAddress: string
  stake: string
  passed: number
  failed: number
  score: number
  /** Reward token claimed with the distribution lists. */
  rewards: string
  /** Stake token claimed as distribution bonus (slashes returned to the cycle). */
  bonus: string
  /** Stake token earned from audits (winner's share and voters' rewards). */
  auditIncome: string
  slashed: string
  claimedCycles: number[]
  claimGasUsed: string
}

export type DemoCycleSummary = {
  cycle: number
  seed: Hex | undefined
  submissions: { node: string; root: Hex; honest: boolean; sampled: boolean; probabilityBps: number; auditors: string[] }[]
  audits: {
    auditId: string
    accused: string
    accuser: string
    votes: { voter: string; side: 'uphold' | 'reject'; weight: string }[]
    upheld: boolean | undefined
    slashed: string
    toWinner: string
    toVoters: string
    toPool: string
  }[]
  distribution:
    | {
        status: string
        attempt: number
        distributor: string | undefined
        skippedAttempts: { attempt: number; selected: string; reason: string }[]
        merkleRoot: Hex | undefined
        listCid: Hex | undefined
        rewardTotal: string
        bonusTotal: string
        entries: { node: string; reward: string; bonus: string }[]
      }
    | undefined
}

export type DemoSummary = {
  rpcUrl: string
  chainId: number
  addresses: CoopAddresses
  taskId: string
  tokens: { stake: string; reward: string }
  params: Record<string, string | number>
  cycles: DemoCycleSummary[]
  nodes: DemoNodeSummary[]
  creator: { address: Address; bountyEscrowed: string; returnedReward: string; returnedStakeToken: string }
  checks: { rewardConserved: boolean; everyNodeClaimed: boolean; cheaterConvicted: boolean }
  transactions: number
  gasUsed: string
}

const STAKE = parseUnits('1000', 18)
const NODE_FUNDS = parseUnits('10000', 18)

/** Formats an 18-decimals amount with at most 4 decimals. */
export function formatAmount(amount: bigint): string {
  const [whole, fraction = ''] = formatUnits(amount, 18).split('.')
  const trimmed = fraction.slice(0, 4).replace(/0+$/, '')
  return `${whole}${trimmed ? `.${trimmed}` : ''}`
}

const short = (hex: string) => `${hex.slice(0, 10)}…${hex.slice(-4)}`

const base58Alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
function base58(bytes: Uint8Array): string {
  let value = 0n
  for (const byte of bytes) value = value * 256n + BigInt(byte)
  let out = ''
  while (value > 0n) {
    out = base58Alphabet[Number(value % 58n)] + out
    value /= 58n
  }
  for (const byte of bytes) {
    if (byte !== 0) break
    out = `1${out}`
  }
  return out
}

/**
 * A well-formed libp2p Ed25519 peer id (identity multihash of the protobuf public key, base58btc:
 * "12D3KooW…"). The key is derived from the address: the format is real, the key is a stand-in
 * until nodes run a libp2p host.
 */
export function demoPeerId(address: Address): string {
  const publicKey = toBytes(keccak256(address))
  return base58(new Uint8Array([0x00, 0x24, 0x08, 0x01, 0x12, 0x20, ...publicKey]))
}

/** The work of `node` in `cycle`: deterministic, so any auditor can recompute it. */
function honestWork(taskId: bigint, cycle: bigint, node: Address): Hex[] {
  return Array.from({ length: 4 }, (_, item) =>
    keccak256(encodeAbiParameters([{ type: 'uint256' }, { type: 'uint256' }, { type: 'address' }, { type: 'uint256' }], [taskId, cycle, node, BigInt(item)])),
  )
}

/** The submitted root: keccak of the work items. */
function workRoot(items: readonly Hex[]): Hex {
  return keccak256(encodeAbiParameters([{ type: 'bytes32[]' }], [items]))
}

type Timed = { at: bigint; seq: number; label: string; run: () => Promise<void> }

export async function runDevnetDemo(options: DemoOptions = {}): Promise<DemoSummary> {
  const log = options.log ?? (() => {})
  const cycleCount = options.cycles ?? 3
  const cheaterNumber = options.cheater ?? 3
  const cheatCycle = BigInt(options.cheatCycle ?? 1)
  let transactions = 0
  let gasUsed = 0n
  const track = <T extends { gasUsed: bigint }>(result: T): T => {
    transactions += 1
    gasUsed += result.gasUsed
    return result
  }

  const anvil: Anvil = await startAnvil({ accounts: 6 })
  try {
    log(`Coop devnet demo: anvil on ${anvil.rpcUrl} (chain ${anvil.chainId}, pid ${anvil.pid})`)
    const time = createCoopTestClient({ rpcUrl: anvil.rpcUrl })
    const [creatorKey, ...nodeKeys] = anvil.accounts
    if (!creatorKey) throw new Error('anvil returned no accounts')
    const creator = createCoopClient({ rpcUrl: anvil.rpcUrl, account: creatorKey.privateKey })

    // ── deploy ──
    const deployed = await deployCoop(creator)
    transactions += deployed.contracts.length
    gasUsed += deployed.gasUsed
    const { addresses } = deployed
    log(
      `Deployed ${deployed.contracts.map((c) => `${c.name} ${c.address}`).join(', ')} (gas ${deployed.gasUsed})`,
    )
    const coop = creator.extend(coopActions(addresses))

    // ── task ──
    const params: TaskParams = taskParams({
      stakeToken: addresses.coopToken,
      rewardToken: addresses.rewardToken,
      programCid: sha256(stringToHex('coop devnet demo task v1')),
    })
    const bountyTotal = params.bountyPerRound * BigInt(cycleCount)
    track(await mintTestErc20(creator, { address: addresses.rewardToken, to: creator.account.address, amount: bountyTotal }))
    track(await approveErc20(creator, { address: addresses.rewardToken, spender: addresses.taskManager, amount: bountyTotal }))
    const created = track(await coop.createTask({ params, bounty: params.bountyPerRound * BigInt(cycleCount - 1) }))
    const funded = track(await coop.fundTask({ taskId: created.taskId, amount: params.bountyPerRound }))
    const taskId = created.taskId
    const startTime = created.startTime
    log(
      `Task #${taskId}: stake token COOP (CoopToken), reward token cRWD (TestERC20); bounty ${formatAmount(params.bountyPerRound)} cRWD per round, ` +
        `${formatAmount(created.funded + funded.funded)} cRWD escrowed (createTask + fundTask)`,
    )
    log(
      `  rounds of ${params.roundLength} s: submit ${params.submissionWindow} s, audits until ${params.auditWindow} s, votes ${params.voteWindow} s, ` +
        `distribution turns ${params.distributionWindow} s, challenge ${params.distributionAuditWindow} s; min stake ${formatAmount(params.minStake)} COOP, ` +
        `slash ${params.slashBps / 100}%, dues ${params.duesRounds} rounds`,
    )

    // ── nodes ──
    type DemoNode = {
      name: string
      address: Address
      p2pAddress: string
      client: ReturnType<typeof createCoopClient>
      coop: CoopActions
      rewards: bigint
      bonus: bigint
      auditIncome: bigint
      slashed: bigint
      claimedCycles: number[]
      claimGasUsed: bigint
    }
    const nodes: DemoNode[] = []
    for (const [index, key] of nodeKeys.slice(0, 4).entries()) {
      const client = createCoopClient({ rpcUrl: anvil.rpcUrl, account: key.privateKey })
      const p2pAddress = `/ip4/127.0.0.1/tcp/${4001 + index}/p2p/${demoPeerId(key.address)}`
      nodes.push({
        name: `node-${index + 1}`,
        address: key.address,
        p2pAddress,
        client,
        coop: client.extend(coopActions(addresses)),
        rewards: 0n,
        bonus: 0n,
        auditIncome: 0n,
        slashed: 0n,
        claimedCycles: [],
        claimGasUsed: 0n,
      })
    }
    const byAddress = new Map(nodes.map((node) => [node.address.toLowerCase(), node]))
    const nameOf = (address: Address | undefined) => (address ? (byAddress.get(address.toLowerCase())?.name ?? short(address)) : '—')
    const nodeOf = (address: Address) => {
      const node = byAddress.get(address.toLowerCase())
      if (!node) throw new Error(`unknown node ${address}`)
      return node
    }
    const cheater = nodes[cheaterNumber - 1]
    for (const node of nodes) {
      track(await transferErc20(creator, { address: addresses.coopToken, to: node.address, amount: NODE_FUNDS }))
      track(await approveErc20(node.client, { address: addresses.coopToken, spender: addresses.taskManager, amount: maxUint256 }))
      const staked = track(await node.coop.stake({ taskId, amount: STAKE }))
      track(await node.coop.registerNode({ p2pAddress: node.p2pAddress }))
      log(`  ${node.name} ${node.address} staked ${formatAmount(staked.totalStake)} COOP, p2p ${node.p2pAddress}`)
    }

    // ── the event loop: run each step at its protocol time ──
    const agenda: Timed[] = []
    let seq = 0
    const at = (time: bigint, label: string, run: () => Promise<void>) => agenda.push({ at: time, seq: seq++, label, run })
    const phases = (cycle: bigint) => cyclePhases(params, startTime, cycle)
    const roundOf = (t: bigint) => (t - startTime) / params.roundLength
    const cycles: DemoCycleSummary[] = Array.from({ length: cycleCount }, (_, cycle) => ({
      cycle,
      seed: undefined,
      submissions: [],
      audits: [],
      distribution: undefined,
    }))
    const distributions = new Map<bigint, Distribution>()
    const cycleSummary = (cycle: bigint) => cycles[Number(cycle)] as DemoCycleSummary

    const submitCycle = (cycle: bigint) => async () => {
      for (const node of nodes) {
        const honest = !(node === cheater && cycle === cheatCycle)
        const items = honest ? honestWork(taskId, cycle, node.address) : [keccak256(stringToHex(`forged ${cycle}`))]
        const root = workRoot(items)
        const result = track(await node.coop.submit({ taskId, cycle, root }))
        cycleSummary(cycle).submissions.push({ node: node.name, root, honest, sampled: false, probabilityBps: 0, auditors: [] })
        log(
          `  cycle ${cycle}: ${node.name} submitted ${short(root)} (weight ${formatAmount(result.weight)})` +
            (result.cycleOpened ? `; cycle opened with budget ${formatAmount(result.cycleOpened.budget)} cRWD, bonus ${formatAmount(result.cycleOpened.bonus)} COOP` : '') +
            (honest ? '' : '   ← forged work'),
        )
      }
    }

    const auditCycle = (cycle: bigint) => async () => {
      const seed = track(await coop.recordSeed({ taskId, cycle }))
      cycleSummary(cycle).seed = seed.seed
      log(`  cycle ${cycle}: submissions closed; seed ${short(seed.seed)} recorded`)
      for (const submission of cycleSummary(cycle).submissions) {
        const accused = nodes.find((node) => node.name === submission.node) as DemoNode
        submission.sampled = await coop.isSampled({ taskId, cycle, node: accused.address })
        submission.probabilityBps = Number(await coop.auditProbabilityBps({ taskId, cycle, node: accused.address }))
        const auditors = await coop.auditorsOf({ taskId, cycle, node: accused.address })
        submission.auditors = auditors.map((auditor) => nameOf(auditor))
        if (!submission.sampled) {
          log(`  cycle ${cycle}: ${accused.name} not sampled (p = ${submission.probabilityBps / 100}%)`)
          continue
        }
        // Each assigned auditor recomputes the work and compares roots.
        const expected = workRoot(honestWork(taskId, cycle, accused.address))
        const mismatch = expected !== submission.root
        log(
          `  cycle ${cycle}: ${accused.name} sampled (p = ${submission.probabilityBps / 100}%), auditors ${submission.auditors.join(', ')}: ` +
            (mismatch ? 'root does not match the recomputed work' : 'ok'),
        )
        if (!mismatch) continue
        const accuser = nodeOf(auditors[0] as Address)
        const evidence = keccak256(stringToHex(JSON.stringify({ taskId: `${taskId}`, cycle: `${cycle}`, expected, got: submission.root })))
        const raised = track(await accuser.coop.raiseAudit({ taskId, cycle, accused: accused.address, evidenceCid: evidence }))
        const audit: DemoCycleSummary['audits'][number] = {
          auditId: `${raised.auditId}`,
          accused: accused.name,
          accuser: accuser.name,
          votes: [{ voter: accuser.name, side: 'uphold', weight: formatAmount(raised.accuserWeight) }],
          upheld: undefined,
          slashed: '0',
          toWinner: '0',
          toVoters: '0',
          toPool: '0',
        }
        cycleSummary(cycle).audits.push(audit)
        log(`  cycle ${cycle}: AUDIT #${raised.auditId} raised by ${accuser.name} on ${accused.name}; votes until t+${raised.deadline - startTime} s`)
        const voters: DemoNode[] = []
        for (const voter of nodes) {
          if (voter === accused || voter === accuser) continue
          // Voters recompute too; they agree with the auditor.
          const cast = track(await voter.coop.vote({ auditId: raised.auditId, side: 'uphold' }))
          voters.push(voter)
          audit.votes.push({ voter: voter.name, side: 'uphold', weight: formatAmount(cast.weight) })
          log(`  cycle ${cycle}: ${voter.name} votes uphold on #${raised.auditId} (weight ${formatAmount(cast.weight)})`)
        }
        at(raised.deadline, `resolve audit #${raised.auditId}`, async () => {
          const resolved = track(await coop.resolveAudit({ auditId: raised.auditId }))
          audit.upheld = resolved.upheld
          if (resolved.slashed) {
            nodeOf(resolved.slashed.node).slashed += resolved.slashed.amount
            audit.slashed = formatAmount(resolved.slashed.amount)
          }
          if (resolved.shared) {
            nodeOf(resolved.shared.winner).auditIncome += resolved.shared.toWinner
            audit.toWinner = formatAmount(resolved.shared.toWinner)
            audit.toVoters = formatAmount(resolved.shared.toVoters)
            audit.toPool = formatAmount(resolved.shared.toPool)
          }
          log(
            `  cycle ${cycle}: AUDIT #${raised.auditId} ${resolved.upheld ? 'UPHELD' : 'REJECTED'} ` +
              `(uphold ${formatAmount(resolved.upholdWeight)} vs reject ${formatAmount(resolved.rejectWeight)}); ` +
              (resolved.slashed ? `SLASHED ${nameOf(resolved.slashed.node)} ${formatAmount(resolved.slashed.amount)} COOP` : 'nothing slashed') +
              (resolved.shared
                ? ` → ${nameOf(resolved.shared.winner)} ${formatAmount(resolved.shared.toWinner)}, voters ${formatAmount(resolved.shared.toVoters)}, cycle bonus pool ${formatAmount(resolved.shared.toPool)}`
                : ''),
          )
          if (resolved.reopenedUntil) {
            // Penalty scaling: the convict's past rounds are auditable again; re-check them.
            const rechecked: string[] = []
            for (let past = 0n; past < cycle; past++) {
              const s = await coop.getSubmission({ taskId, cycle: past, node: accused.address })
              const ok = s.root === workRoot(honestWork(taskId, past, accused.address))
              rechecked.push(`cycle ${past} ${ok ? 'ok' : 'FORGED'}`)
            }
            log(
              `  cycle ${cycle}: ${accused.name}'s past rounds re-opened until t+${resolved.reopenedUntil - startTime} s; re-checked: ${rechecked.join(', ') || 'none'}`,
            )
          }
          for (const voter of voters) {
            const reward = track(await voter.coop.claimVoteReward({ auditId: raised.auditId }))
            voter.auditIncome += reward.amount
            log(`  cycle ${cycle}: ${voter.name} claimed ${formatAmount(reward.amount)} COOP for voting with the majority`)
          }
        })
      }
    }

    const distribute = (cycle: bigint, skipped: { attempt: number; selected: string; reason: string }[] = []) => async () => {
      const attempt = await coop.currentDistributionAttempt({ taskId, cycle })
      if (attempt >= BigInt(params.maxDistributionAttempts)) {
        const failed = track(await coop.failDistribution({ taskId, cycle }))
        log(`  cycle ${cycle}: every distribution attempt timed out; ${formatAmount(failed.returnedReward)} cRWD back to escrow`)
        cycleSummary(cycle).distribution = {
          status: 'Failed',
          attempt: Number(attempt),
          distributor: undefined,
          skippedAttempts: skipped,
          merkleRoot: undefined,
          listCid: undefined,
          rewardTotal: '0',
          bonusTotal: '0',
          entries: [],
        }
        return
      }
      const selected = await coop.selectedDistributor({ taskId, cycle, attempt })
      const state = await coop.getCycle({ taskId, cycle })
      const submissionOfSelected = selected.node ? await coop.getSubmission({ taskId, cycle, node: selected.node }) : undefined
      if (!selected.node || submissionOfSelected?.convicted) {
        const reason = selected.node ? 'convicted this cycle, so the manager refuses its post' : 'no seed'
        skipped.push({ attempt: Number(attempt), selected: nameOf(selected.node), reason })
        const nextTurn = phases(cycle).distributionOpens + (attempt + 1n) * params.distributionWindow
        log(`  cycle ${cycle}: distribution attempt ${attempt}: selected ${nameOf(selected.node)} is ${reason}; its turn times out at t+${nextTurn - startTime} s`)
        at(nextTurn, `distribute cycle ${cycle} (attempt ${attempt + 1n})`, distribute(cycle, skipped))
        return
      }
      // The selected node computes the list: an equal split of budget and bonus among the
      // submitters that were not convicted.
      const passed: Address[] = []
      for (const submitter of state.submitters) {
        const s = await coop.getSubmission({ taskId, cycle, node: submitter })
        if (!s.convicted) passed.push(getAddress(submitter))
      }
      const distribution = buildDistribution({ taskId, cycle, entries: equalSplit(state.budget, state.bonus, passed) })
      distributions.set(cycle, distribution)
      const listJson = JSON.stringify(
        distribution.leaves.map((leaf) => ({ node: leaf.node, reward: `${leaf.reward}`, bonus: `${leaf.bonus}` })),
      )
      const listCid = sha256(stringToHex(listJson)) // sha2-256 digest, as a CIDv1 raw of the list would carry
      const distributor = nodeOf(selected.node)
      const posted = track(
        await distributor.coop.postDistribution({
          taskId,
          cycle,
          submitterIndex: selected.index,
          merkleRoot: distribution.root,
          listCid,
          rewardTotal: distribution.totalReward,
          bonusTotal: distribution.totalBonus,
          scaleHead: zeroHash, // a task without SCALE rounds anchors no head
        }),
      )
      cycleSummary(cycle).distribution = {
        status: 'Posted',
        attempt: posted.attempt,
        distributor: distributor.name,
        skippedAttempts: skipped,
        merkleRoot: distribution.root,
        listCid,
        rewardTotal: formatAmount(distribution.totalReward),
        bonusTotal: formatAmount(distribution.totalBonus),
        entries: distribution.leaves.map((leaf) => ({ node: nameOf(leaf.node), reward: formatAmount(leaf.reward), bonus: formatAmount(leaf.bonus) })),
      }
      log(
        `  cycle ${cycle}: distributor ${distributor.name} (attempt ${posted.attempt}) posted root ${short(distribution.root)}: ` +
          distribution.leaves.map((leaf) => `${nameOf(leaf.node)} ${formatAmount(leaf.reward)} cRWD + ${formatAmount(leaf.bonus)} COOP`).join(', '),
      )
      const postedAt = (await coop.getCycle({ taskId, cycle })).postedAt
      at(postedAt + params.distributionAuditWindow, `finalize cycle ${cycle}`, async () => {
        const final = track(await coop.finalizeDistribution({ taskId, cycle }))
        const summary = cycleSummary(cycle).distribution
        if (summary) summary.status = 'Final'
        log(
          `  cycle ${cycle}: distribution final (no challenge); unallocated ${formatAmount(final.returnedReward)} cRWD / ${formatAmount(final.returnedBonus)} COOP returned to the task`,
        )
      })
    }

    for (let cycle = 0n; cycle < BigInt(cycleCount); cycle++) {
      const p = phases(cycle)
      at(p.submissionOpens + 1n, `submit cycle ${cycle}`, submitCycle(cycle))
      at(p.submissionCloses + 1n, `audit cycle ${cycle}`, auditCycle(cycle))
      at(p.distributionOpens + 2n, `distribute cycle ${cycle}`, distribute(cycle))
    }
    // The last cycle's reputation settles without a next submission: anyone may settle it.
    const last = BigInt(cycleCount - 1)
    at(phases(last).submissionOpens + params.auditWindow + params.voteWindow + 1n, `settle cycle ${last}`, async () => {
      for (const node of nodes) {
        const settled = track(await coop.settleReputation({ taskId, cycle: last, node: node.address }))
        if (settled.reputation) {
          log(`  cycle ${last}: ${node.name} reputation settled: passed ${settled.reputation.passed}, failed ${settled.reputation.failed}, score ${settled.reputation.score}`)
        }
      }
    })

    let currentRound = -1n
    while (agenda.length > 0) {
      agenda.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.seq - b.seq))
      const next = agenda.shift() as Timed
      const now = await setChainTime(time, next.at)
      const round = roundOf(now)
      if (round !== currentRound) {
        currentRound = round
        const exists = (cycle: bigint) => cycle >= 0n && cycle < BigInt(cycleCount)
        const roles: string[] = []
        if (exists(round)) roles.push(`work of cycle ${round}`)
        if (exists(round - 1n)) roles.push(`submit/audit cycle ${round - 1n}`)
        if (exists(round - 2n)) roles.push(`distribute cycle ${round - 2n}`)
        log(`── round ${round} (t+${round * params.roundLength} s): ${roles.join(', ')} ──`)
      }
      await next.run()
    }

    // ── claims: every node, all its cycles, one transaction ──
    log('── claims ──')
    for (const node of nodes) {
      const claims: ClaimRequest[] = []
      for (const [cycle, distribution] of distributions) {
        const leaf = distribution.leaves.find((entry) => entry.node.toLowerCase() === node.address.toLowerCase())
        if (!leaf) continue
        const state = await coop.getCycle({ taskId, cycle })
        if (distributionStatusName[state.status] !== 'Final') continue
        claims.push({ cycle, reward: leaf.reward, bonus: leaf.bonus, proof: leaf.proof })
      }
      if (claims.length === 0) continue
      const claimed = track(await node.coop.claimRewards({ taskId, claims }))
      node.rewards += claimed.reward
      node.bonus += claimed.bonus
      node.claimedCycles = claimed.perCycle.map((entry) => Number(entry.cycle))
      node.claimGasUsed = claimed.gasUsed
      log(
        `  ${node.name} claimed cycles ${node.claimedCycles.join(', ')} in one transaction: ${formatAmount(claimed.reward)} cRWD + ${formatAmount(claimed.bonus)} COOP (gas ${claimed.gasUsed})`,
      )
    }

    // ── leftovers back to the creator (the escrow is below one round's bounty: the task ended) ──
    let returnedReward = 0n
    let returnedStakeToken = 0n
    const task = await coop.getTask({ taskId })
    if (task.cyclesInFlight === 0 && (task.escrow > 0n || task.slashPool > 0n)) {
      const returned = track(await coop.withdrawRemainingBounty({ taskId }))
      returnedReward = returned.rewardAmount
      returnedStakeToken = returned.stakeTokenAmount
      log(
        `  task ended: ${formatAmount(returnedReward)} cRWD (${returnedReward} wei) and ${formatAmount(returnedStakeToken)} COOP (${returnedStakeToken} wei) rounding dust returned to the creator`,
      )
    }

    // ── summary ──
    const nodeSummaries: DemoNodeSummary[] = []
    for (const node of nodes) {
      const state = await coop.getNode({ taskId, node: node.address })
      nodeSummaries.push({
        name: node.name,
        address: node.address,
        p2pAddress: node.p2pAddress,
        stake: formatAmount(state.stake + state.unbonding),
        passed: state.passed,
        failed: state.failed,
        score: state.score,
        rewards: formatAmount(node.rewards),
        bonus: formatAmount(node.bonus),
        auditIncome: formatAmount(node.auditIncome),
        slashed: formatAmount(node.slashed),
        claimedCycles: node.claimedCycles,
        claimGasUsed: `${node.claimGasUsed}`,
      })
    }
    const paid = nodes.reduce((sum, node) => sum + node.rewards, 0n)
    const managerRewardBalance = await getErc20Balance(creator, { address: addresses.rewardToken, owner: addresses.taskManager })
    const summary: DemoSummary = {
      rpcUrl: anvil.rpcUrl,
      chainId: anvil.chainId,
      addresses,
      taskId: `${taskId}`,
      tokens: { stake: 'COOP (CoopToken)', reward: 'cRWD (TestERC20)' },
      params: Object.fromEntries(
        Object.entries(params).map(([key, value]) => [key, typeof value === 'bigint' ? `${value}` : (value as string | number)]),
      ),
      cycles,
      nodes: nodeSummaries,
      creator: {
        address: creator.account.address,
        bountyEscrowed: formatAmount(bountyTotal),
        returnedReward: `${returnedReward}`,
        returnedStakeToken: `${returnedStakeToken}`,
      },
      checks: {
        rewardConserved: paid + returnedReward === bountyTotal && managerRewardBalance === 0n,
        everyNodeClaimed: nodes.every((node) => node.claimedCycles.length > 0),
        cheaterConvicted: cheater ? cycles.some((c) => c.audits.some((a) => a.accused === cheater.name && a.upheld)) : true,
      },
      transactions,
      gasUsed: `${gasUsed}`,
    }
    log(`  checks: reward conserved ${summary.checks.rewardConserved} (paid ${formatAmount(paid)} + returned ${returnedReward} wei = ${formatAmount(bountyTotal)} cRWD), ${transactions} transactions, ${gasUsed} gas`)
    return summary
  } finally {
    await anvil.stop()
  }
}

/** The final table, as text. */
export function formatNodeTable(nodes: readonly DemoNodeSummary[]): string {
  const header = ['node', 'stake COOP', 'passed', 'failed', 'score', 'rewards cRWD', 'bonus COOP', 'audit COOP', 'slashed COOP', 'claimed cycles']
  const rows = nodes.map((node) => [
    node.name,
    node.stake,
    `${node.passed}`,
    `${node.failed}`,
    `${node.score}`,
    node.rewards,
    node.bonus,
    node.auditIncome,
    node.slashed,
    node.claimedCycles.join(','),
  ])
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)))
  const line = (cells: string[]) =>
    cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  ')
  return [line(header), widths.map((width) => '─'.repeat(width)).join('  '), ...rows.map(line)].join('\n')
}
