// Anchoring cost vs data volume (issue 4): a SCALE round of N leaves costs the same on-chain
// whatever N is, because only the 32-byte root (submit) and the 32-byte head digest
// (postDistribution) reach the chain. For N = 1k, 10k, 100k, 1M signed-payload-sized leaves
// (180 bytes each, generated cheaply, unique), the real round DAG root is built
// (@coop/protocol buildRoundDag), then the round is anchored on anvil as a node does it:
// submit(root) in the submission window, postDistribution(list, head digest) by the selected
// distributor with the real SCALE head (buildScaleHead: accepted root from the chain, the list,
// prev = the previous anchored head), and finalize. Measured: receipt gasUsed and calldata bytes
// of both transactions.
//
// Up to 100k leaves the DAG is built whole with buildRoundDag. At 1M a whole DAG (2M blocks held
// in memory) takes ~7 GB on this shared machine, so the root is composed: subtrees of at most
// 2^16 leaves built with buildRoundDag, joined by interior nodes { l, r, n } along the RFC 6962
// split the builder itself uses. The composition is checked in the same run against the whole
// build at 1k, 10k and 100k (same root, or the bench fails).
//
// Result scale.anchor.volume: ours = gas per round at 1M, baseline = gas per round at 1k
// (ratio = baseline / ours ≈ 1.0 means flat), params: the whole series with calldata bytes.
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { machineFacts, writeBenchResult } from './results-file.ts'

import { approveErc20, coopActions, createCoopClient, createCoopTestClient, setChainTime, startFundedDevnet, taskParams } from '@coop/chain'
import { buildDistribution, buildRoundDag, buildScaleHead, equalSplit } from '@coop/protocol'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { type Hex, bytesToHex, maxUint256, parseUnits } from 'viem'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const VOLUMES = [1_000, 10_000, 100_000, 1_000_000]
const LEAF_BYTES = 180
/** Largest subtree built whole when composing a root. */
const CHUNK = 1 << 16
const SEED = 0xc00b

/** Leaf i of a volume: 180 bytes, unique per (volume, i), shaped like a signed device payload's size. */
function leaf(volume: number, i: number): Uint8Array {
  const bytes = new Uint8Array(LEAF_BYTES)
  const view = new DataView(bytes.buffer)
  view.setUint32(0, SEED)
  view.setUint32(4, volume)
  view.setUint32(8, i)
  // A cheap xorshift fill so leaves are not mostly zeros.
  let x = (i + 1) * 2654435761 ^ volume
  for (let o = 12; o + 4 <= LEAF_BYTES; o += 4) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    view.setUint32(o, x >>> 0)
  }
  return bytes
}

const leaves = (volume: number, lo: number, hi: number) => Array.from({ length: hi - lo }, (_, k) => leaf(volume, lo + k))

function splitPoint(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

/** The root CID of the round DAG over leaves [lo, hi), from whole-built subtrees of ≤ CHUNK leaves. */
async function composedRoot(volume: number, lo: number, hi: number): Promise<CID> {
  const n = hi - lo
  if (n <= CHUNK) return CID.parse(buildRoundDag(leaves(volume, lo, hi)).root)
  const k = splitPoint(n)
  const node = { l: await composedRoot(volume, lo, lo + k), r: await composedRoot(volume, lo + k, hi), n }
  return CID.createV1(dagCbor.code, await sha256.digest(dagCbor.encode(node)))
}

type Row = { leaves: number; root: string; dagMs: number; built: 'whole' | 'composed'; submitGas: bigint; postGas: bigint; submitCalldata: number; postCalldata: number }

async function main() {
  const { anvil, addresses, coop, nodes: accounts } = await startFundedDevnet({ nodes: 1 })
  try {
    const time = createCoopTestClient({ rpcUrl: anvil.rpcUrl })
    const params = taskParams({ stakeToken: addresses.coopToken, rewardToken: addresses.rewardToken })
    const { taskId, startTime } = await coop.createTask({ params, bounty: params.bountyPerRound * BigInt(2 * VOLUMES.length + 4) })
    const start = (round: bigint) => startTime + round * params.roundLength
    const key = accounts[0]!
    const client = createCoopClient({ rpcUrl: anvil.rpcUrl, account: key.privateKey })
    const node = client.extend(coopActions(addresses))
    await approveErc20(client, { address: addresses.coopToken, spender: addresses.taskManager, amount: maxUint256 })
    await node.stake({ taskId, amount: parseUnits('1000', 18) })
    await node.registerNode({ p2pAddress: `/ip4/127.0.0.1/tcp/4001/p2p/bench-${key.address}` })
    const calldata = async (hash: Hex) => ((await client.getTransaction({ hash })).input.length - 2) / 2

    const rows: Row[] = []
    let prev: string | null = null
    // Run 0 is a warm-up (a 1k round at cycle 0: the node's first submission ever also initializes
    // its per-node storage); volume k is then cycle 2k+2, submitted in round 2k+3, distributed and
    // finalized in round 2k+4.
    for (const [index, volume] of [VOLUMES[0]!, ...VOLUMES].entries()) {
      const warmup = index === 0
      const cycle = BigInt(2 * index)
      const t0 = performance.now()
      let rootCid: CID
      let built: Row['built']
      if (volume <= 100_000) {
        rootCid = CID.parse(buildRoundDag(leaves(volume, 0, volume)).root)
        const composed = await composedRoot(volume, 0, volume)
        if (!composed.equals(rootCid)) throw new Error(`composed root ${composed} ≠ whole-built root ${rootCid} at ${volume} leaves`)
        built = 'whole'
      } else {
        rootCid = await composedRoot(volume, 0, volume)
        built = 'composed'
      }
      const dagMs = Math.round(performance.now() - t0)
      const rootDigest = bytesToHex(rootCid.multihash.digest)

      await setChainTime(time, start(cycle + 1n))
      const submitted = await node.submit({ taskId, cycle, root: rootDigest })
      await setChainTime(time, start(cycle + 1n) + params.submissionWindow)
      await coop.recordSeed({ taskId, cycle })
      await setChainTime(time, start(cycle + 2n))
      const state = await coop.getCycle({ taskId, cycle })
      const accepted = []
      for (const submitter of state.submitters) {
        const submission = await coop.getSubmission({ taskId, cycle, node: submitter })
        if (!submission.convicted) accepted.push({ node: submitter, root: submission.root })
      }
      const list = buildDistribution({ taskId, cycle, entries: equalSplit(state.budget, state.bonus, accepted.map((a) => a.node)) })
      const listCid = list.root // the bench anchors the list's Merkle root as its CID digest (the node anchors the list document's CID)
      const head = buildScaleHead({ task: taskId, cycle, prev, submissions: accepted, distribution: { merkleRoot: list.root, listCid } })
      const selected = await coop.selectedDistributor({ taskId, cycle, attempt: 0n })
      const posted = await node.postDistribution({
        taskId, cycle, submitterIndex: selected.index, merkleRoot: list.root, listCid,
        rewardTotal: list.totalReward, bonusTotal: list.totalBonus, scaleHead: head.digest,
      })
      await setChainTime(time, start(cycle + 2n) + params.distributionAuditWindow + 1n)
      await coop.finalizeDistribution({ taskId, cycle })
      const anchored = await coop.getCycle({ taskId, cycle })
      if (anchored.scaleHead.toLowerCase() !== head.digest) throw new Error(`cycle ${cycle}: anchored ${anchored.scaleHead} ≠ head ${head.digest}`)
      prev = head.cid
      const row: Row = {
        leaves: volume,
        root: rootCid.toString(),
        dagMs,
        built,
        submitGas: submitted.gasUsed,
        postGas: posted.gasUsed,
        submitCalldata: await calldata(submitted.hash),
        postCalldata: await calldata(posted.hash),
      }
      if (!warmup) rows.push(row)
      console.log(
        (warmup ? 'warm-up ' : '') +
        `${String(volume).padStart(9)} leaves  DAG ${String(dagMs).padStart(6)} ms (${built})  submit ${row.submitGas} gas / ${row.submitCalldata} B  postDistribution ${row.postGas} gas / ${row.postCalldata} B  per round ${row.submitGas + row.postGas} gas / ${row.submitCalldata + row.postCalldata} B`,
      )
    }

    const perRound = (row: Row) => Number(row.submitGas + row.postGas)
    const first = rows[0]!
    const last = rows[rows.length - 1]!
    const ratio = perRound(first) / perRound(last)
    const file = {
      id: 'scale.anchor.volume',
      metric: 'on-chain gas to anchor one SCALE round (submit root + postDistribution with the head digest) at 1M leaves',
      unit: 'gas',
      ours: perRound(last),
      baseline: perRound(first),
      baselineName: 'the same anchoring of a 1k-leaf round (same run, same code)',
      ratio: Math.round(ratio * 10_000) / 10_000,
      better: 'lower',
      params: {
        series: rows.map((row) => ({
          leaves: row.leaves,
          root: row.root,
          dag: row.built,
          dagBuildMs: row.dagMs,
          submitGas: Number(row.submitGas),
          postDistributionGas: Number(row.postGas),
          gasPerRound: perRound(row),
          submitCalldataBytes: row.submitCalldata,
          postDistributionCalldataBytes: row.postCalldata,
          calldataBytesPerRound: row.submitCalldata + row.postCalldata,
        })),
        leafBytes: LEAF_BYTES,
        onChainPerRound: 'a 32-byte root (submit) and a 32-byte head digest (postDistribution), whatever the volume',
        note: 'one task, one node; volume k is cycle 2k+2 (each opens its own cycle), after a 1k warm-up round at cycle 0 (a node\'s first submission ever also initializes its storage)',
        chain: 'anvil (npm @foundry-rs/anvil)',
        machine: machineFacts(),
      },
      measuredAt: new Date().toISOString(),
    }
    writeBenchResult(file)
    console.log(`scale.anchor.volume  ours ${file.ours} gas at 1M leaves   baseline ${file.baseline} gas at 1k leaves   ratio ${file.ratio} (baseline/ours; 1.0 = flat)`)
  } finally {
    await anvil.stop()
  }
}

await main()
