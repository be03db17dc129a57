// Errors the CLI shows to people: what went wrong, and what to do about it.
import { CoopChainError, ContractRevertedError } from '@coop/chain'

export type CliErrorCode =
  | 'USAGE'
  | 'UNKNOWN_COMMAND'
  | 'MISSING_OPTION'
  | 'INVALID_OPTION'
  | 'CONFIG'
  | 'CHAIN'
  | 'RPC_UNAVAILABLE'
  | 'CONTRACT_REVERTED'
  | 'DEVNET'
  | 'NODE'
  | 'INTERRUPTED'
  | 'GRAPH' // coop graph: a graph peer refused, or could not be reached

/** Exit codes: 0 ok, 1 failure, 2 bad usage, 130 interrupted. */
export const ExitCode = { Ok: 0, Failure: 1, Usage: 2, Interrupted: 130 } as const

export class CliError extends Error {
  override name = 'CliError'
  readonly code: CliErrorCode
  /** What to do about it (one or two sentences, shown after the message). */
  readonly hint: string | undefined
  readonly exitCode: number
  constructor(message: string, options: { code?: CliErrorCode; hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = options.code ?? 'USAGE'
    this.hint = options.hint
    this.exitCode = options.exitCode ?? (this.code === 'USAGE' || this.code === 'UNKNOWN_COMMAND' || this.code === 'MISSING_OPTION' || this.code === 'INVALID_OPTION' ? ExitCode.Usage : ExitCode.Failure)
  }
}

/** Hints for the contract errors a CLI user can run into. */
const revertHints: Record<string, string> = {
  TaskNotFound: 'check the task id: `coop status` lists the deployment\'s tasks',
  NotTaskCreator: 'only the account that created the task can do this; pass its key with --key',
  TaskIsStopped: 'the task was stopped by its creator; it accepts no more stake or funding',
  InsufficientStake: 'stake more with `coop stake --task <id> --amount <tokens>` (at least the task\'s minStake)',
  StakeLocked: 'the stake is still unbonding; run `coop unstake --withdraw` again after the unlock round (`coop status` shows it)',
  StakeHasOpenCases: 'wait until the audits involving this node are resolved, then withdraw',
  NothingToWithdraw: 'request an unstake first: `coop unstake --task <id> --amount <tokens>`',
  NotRegistered: 'register the node first (a running `coop node start` does it)',
  ZeroAmount: 'pass a positive --amount',
  AlreadyClaimed: 'that cycle is already claimed; `coop status` shows what is left',
  InvalidProof: 'the distribution list does not contain this account with that amount; check --node-url or --list',
  DistributionNotFinal: 'the cycle\'s distribution is not final yet; try again after its challenge window',
  TaskStillRunning: 'stop the task first (`coop task stop`) and wait until no cycle is in flight',
  InvalidWindows: 'windows must satisfy submissionWindow < auditWindow and auditWindow + voteWindow <= roundLength',
  UnbondingTooShort: 'unbondingRounds must be at least 3',
  BountyExhausted: 'fund the task: `coop task fund --task <id> --amount <tokens>`',
}

/** ERC-20 reverts (OpenZeppelin 5 custom errors) that mean "not enough tokens / allowance". */
const erc20Hints: Record<string, string> = {
  ERC20InsufficientBalance: 'the account does not hold enough tokens; `coop status` shows its balances',
  ERC20InsufficientAllowance: 'the token allowance is too small (the CLI approves automatically; retry)',
}

/** Turns anything thrown into a CliError with a hint (keeps CliErrors as they are). */
export function toCliError(error: unknown, context: { rpcUrl?: string } = {}): CliError {
  if (error instanceof CliError) return error
  if (error instanceof ContractRevertedError) {
    const name = error.errorName
    const hint = revertHints[name] ?? erc20Hints[name] ?? 'see contracts/src/interfaces/ITaskManager.sol for what this error means'
    return new CliError(`the contract refused: ${error.shortMessage}`, { code: 'CONTRACT_REVERTED', hint, cause: error, exitCode: ExitCode.Failure })
  }
  if (error instanceof CoopChainError) {
    if (error.code === 'RPC_UNAVAILABLE') {
      return new CliError(`cannot reach the chain${context.rpcUrl ? ` at ${context.rpcUrl}` : ''}: ${error.shortMessage}`, {
        code: 'RPC_UNAVAILABLE',
        hint: 'start a local chain with `npx coop devnet`, or pass the right --rpc URL (or set COOP_RPC_URL)',
        cause: error,
        exitCode: ExitCode.Failure,
      })
    }
    const hint =
      error.code === 'ANVIL_BINARY_NOT_FOUND'
        ? 'run `npm install` at the repository root'
        : error.code === 'ACCOUNT_MISSING'
          ? 'pass a private key with --key or set COOP_PRIVATE_KEY'
          : undefined
    return new CliError(error.shortMessage, { code: 'CHAIN', ...(hint ? { hint } : {}), cause: error, exitCode: ExitCode.Failure })
  }
  const message = error instanceof Error ? error.message : String(error)
  if (/ECONNREFUSED|fetch failed/i.test(message)) {
    return new CliError(`cannot reach ${context.rpcUrl ?? 'the chain'}: ${message}`, {
      code: 'RPC_UNAVAILABLE',
      hint: 'start a local chain with `npx coop devnet`, or pass the right --rpc URL (or set COOP_RPC_URL)',
      cause: error,
      exitCode: ExitCode.Failure,
    })
  }
  return new CliError(message, { code: 'CHAIN', cause: error, exitCode: ExitCode.Failure })
}

/** The text shown for an error: `error: …` plus `→ hint`. */
export function formatError(error: CliError, verbose = false): string {
  const lines = [`coop: error: ${error.message}`]
  if (error.hint) lines.push(`  → ${error.hint}`)
  if (verbose && error.cause instanceof Error) lines.push('', String(error.cause.stack ?? error.cause.message))
  return lines.join('\n')
}
