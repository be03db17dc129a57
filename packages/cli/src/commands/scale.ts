// coop scale verify: checks a node's history of SCALE heads against the chain alone (docs/scale.md).
// The node serves its heads (GET /api/tasks/:id/heads); the chain says, per finalized cycle, which
// head digest was anchored, which submissions were accepted and which list became final. Every
// head is decoded (bounded), re-hashed and compared; gaps, reordering and broken prev links are
// failures too. Exit code 1 when any cycle fails.
import { readHeadChainFacts } from '@coop/node'
import { type ChainCycleFacts, type HeadChainReport, verifyHeadChain } from '@coop/protocol'
import { createPublicClient, getAddress, hexToBytes, http, isAddress, isHex, type Address, type PublicClient } from 'viem'

import { stringValue, type Command, type ParsedValues } from '../args.ts'
import { checkRpc, jsonOption, resolveRpcUrl } from '../context.ts'
import { readDeployment } from '../deployment.ts'
import { CliError, ExitCode, toCliError } from '../errors.ts'
import { toJson } from '../tx.ts'
import { taskIdOption, taskIdValue } from './task.ts'

const NAME = 'coop scale verify'
/** Heads asked for per request (the API's page size). */
const PAGE = 1_000

function taskManagerOf(values: ParsedValues, fallback: Address | undefined): Address {
  const raw = stringValue(values, 'task-manager')
  if (raw !== undefined) {
    if (!isAddress(raw)) throw new CliError(`${NAME}: --task-manager is not an address: '${raw}'`, { code: 'INVALID_OPTION', hint: 'pass a 0x-prefixed 20-byte hex address' })
    return getAddress(raw)
  }
  if (fallback) return fallback
  throw new CliError(`${NAME}: missing --task-manager`, { code: 'MISSING_OPTION', hint: 'pass --task-manager 0x…, or --deployment <file> (a running `coop devnet` prints its path)' })
}

function cycleOption(values: ParsedValues, name: string): number | undefined {
  const raw = stringValue(values, name)
  if (raw === undefined) return undefined
  if (!/^\d{1,15}$/.test(raw)) throw new CliError(`${NAME}: --${name} must be a cycle number, got '${raw}'`, { code: 'INVALID_OPTION', hint: `for example --${name} 3` })
  return Number(raw)
}

/** Every head block the node serves for the task, in the order it serves them. */
export async function fetchNodeHeads(nodeUrl: string, taskId: bigint): Promise<Uint8Array[]> {
  const heads: Uint8Array[] = []
  for (let from = 0; ; ) {
    const endpoint = `${nodeUrl.replace(/\/$/, '')}/api/tasks/${taskId}/heads?from=${from}&limit=${PAGE}`
    let response: Response
    try {
      response = await fetch(endpoint, { signal: AbortSignal.timeout(15_000) })
    } catch (error) {
      throw new CliError(`${NAME}: cannot reach the node at ${nodeUrl}: ${(error as Error).message}`, { code: 'NODE', hint: 'check --node-url (a node prints its API URL; the devnet writes <data-dir>/nodes/<name>/http.port)' })
    }
    if (!response.ok) {
      throw new CliError(`${NAME}: ${endpoint} answered ${response.status}`, { code: 'NODE', hint: response.status === 404 ? 'is the task id right, and does this node run it?' : 'try another node with --node-url' })
    }
    const page = (await response.json()) as unknown
    if (!Array.isArray(page)) throw new CliError(`${NAME}: ${endpoint} did not answer a list of heads`, { code: 'NODE' })
    for (const entry of page) {
      const bytes = (entry as { bytes?: unknown } | null)?.bytes
      // A malformed entry still goes to the verifier as (empty) bytes: it is reported, not skipped.
      heads.push(typeof bytes === 'string' && isHex(bytes) ? hexToBytes(bytes) : new Uint8Array())
    }
    if (page.length < PAGE) return heads
    const last = (page[page.length - 1] as { cycle?: unknown } | null)?.cycle
    if (typeof last !== 'number' || last + 1 <= from) return heads
    from = last + 1
  }
}

function printReport(write: (text: string) => void, report: HeadChainReport, taskId: bigint, facts: readonly ChainCycleFacts[]): void {
  const anchored = facts.filter((fact) => fact.final && BigInt(fact.scaleHead) !== 0n).length
  for (const check of report.cycles) {
    // An undecodable head has no cycle of its own: it is listed after the last good one.
    const label = check.failures.some((f) => f.code === 'MALFORMED') ? `after cycle ${check.cycle}` : `cycle ${check.cycle}`
    if (check.ok) write(`${label}  OK    ${check.cid}\n`)
    else for (const failure of check.failures) write(`${label}  FAIL  ${failure.code}: ${failure.message}\n`)
  }
  const failed = report.cycles.filter((check) => !check.ok).length
  write(`task ${taskId}: ${report.cycles.length - failed} of ${report.cycles.length} cycles verified against the chain (${anchored} anchored heads on-chain)${failed ? `; ${failed} FAILED` : ''}\n`)
}

export const scaleVerifyCommand: Command = {
  path: ['scale', 'verify'],
  summary: "check a node's history of SCALE heads against the chain alone",
  description:
    'Fetches the SCALE heads a node keeps for a task (GET /api/tasks/<id>/heads) and checks every one against what the chain says: the anchored digest, the accepted submissions, the final distribution list, the prev link, and that no anchored cycle is missing or out of order. Prints OK or the failure per cycle; exits 1 if any cycle fails.',
  options: {
    'node-url': { type: 'string', placeholder: 'url', description: "the node's API, e.g. http://127.0.0.1:8701", required: true },
    ...taskIdOption,
    rpc: { type: 'string', placeholder: 'url', description: 'JSON-RPC URL of the chain', env: 'COOP_RPC_URL' },
    deployment: { type: 'string', placeholder: 'file', description: 'deployment.json written by `coop devnet` (the chain and contracts)', env: 'COOP_DEPLOYMENT' },
    'task-manager': { type: 'string', placeholder: '0x…', description: 'TaskManager address (default: from --deployment)' },
    'from-block': { type: 'string', placeholder: 'n', description: 'first block to read events from (default 0)' },
    from: { type: 'string', placeholder: 'cycle', description: 'anchored cycles from here must be in the history (default: all)' },
    through: { type: 'string', placeholder: 'cycle', description: 'anchored cycles up to here must be in the history (default: the last one)' },
    ...jsonOption,
  },
  examples: [
    'coop scale verify --node-url http://127.0.0.1:8701 --task 1 --deployment /tmp/coop-devnet-…/deployment.json',
    'coop scale verify --node-url http://127.0.0.1:8701 --task 1 --rpc http://127.0.0.1:8545 --task-manager 0x…',
  ],
  async run(context) {
    const { values, io } = context
    const nodeUrl = stringValue(values, 'node-url')
    if (!nodeUrl || !/^https?:\/\//.test(nodeUrl)) throw new CliError(`${NAME}: --node-url must be an http(s) URL`, { code: nodeUrl ? 'INVALID_OPTION' : 'MISSING_OPTION', hint: 'for example --node-url http://127.0.0.1:8701' })
    const taskId = taskIdValue(context, NAME)
    const deploymentFile = stringValue(values, 'deployment') ?? io.env.COOP_DEPLOYMENT
    const deployment = deploymentFile ? readDeployment(deploymentFile) : undefined
    const rpcUrl = resolveRpcUrl(values, io, deployment, NAME)
    const taskManager = taskManagerOf(values, deployment?.addresses.taskManager)
    const fromBlockRaw = stringValue(values, 'from-block')
    if (fromBlockRaw !== undefined && !/^\d{1,20}$/.test(fromBlockRaw)) throw new CliError(`${NAME}: --from-block must be a block number`, { code: 'INVALID_OPTION' })
    const from = cycleOption(values, 'from')
    const through = cycleOption(values, 'through')
    await checkRpc(rpcUrl, NAME)
    const client = createPublicClient({ transport: http(rpcUrl, { retryCount: 2 }) }) as PublicClient
    let facts: ChainCycleFacts[]
    try {
      facts = await readHeadChainFacts(client, taskManager, taskId, fromBlockRaw ? { fromBlock: BigInt(fromBlockRaw) } : {})
    } catch (error) {
      throw toCliError(error, { rpcUrl })
    }
    const heads = await fetchNodeHeads(nodeUrl, taskId)
    const report = verifyHeadChain(heads, facts, { task: taskId, ...(from !== undefined ? { from } : {}), ...(through !== undefined ? { through } : {}) })
    const ok = report.ok && report.cycles.length > 0
    if (values.json) io.stdout.write(`${toJson({ taskId, nodeUrl, ok, heads: heads.length, anchored: facts.filter((f) => f.final && BigInt(f.scaleHead) !== 0n).length, cycles: report.cycles })}\n`)
    else {
      printReport((text) => io.stdout.write(text), report, taskId, facts)
      if (report.cycles.length === 0) io.stdout.write(`task ${taskId}: no anchored SCALE heads on-chain and none served: nothing verified\n`)
    }
    return ok ? ExitCode.Ok : ExitCode.Failure
  },
}
