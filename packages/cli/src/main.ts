// `coop …`: finds the command, parses its options, runs it, and turns every failure into a message
// with a hint and an exit code (0 ok, 1 failure, 2 bad usage, 130 interrupted).
import { readFileSync } from 'node:fs'

import { findCommand, formatCommandHelp, formatGroupHelp, formatMainHelp, parseCommandArgs, suggest, type CliIo } from './args.ts'
import { commands, groups } from './commands/index.ts'
import { CliError, ExitCode, formatError, toCliError } from './errors.ts'

export const version: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const verbose = argv.includes('--verbose') || io.env.COOP_DEBUG === '1'
  const args = argv.filter((arg) => arg !== '--verbose')
  try {
    if (args.length === 0 || args[0] === '--help' || args[0] === '-h' || args[0] === 'help') {
      const topic = args[0] === 'help' ? args.slice(1) : []
      if (topic.length) return await main([...topic, '--help'], io)
      io.stdout.write(formatMainHelp(commands, version))
      return ExitCode.Ok
    }
    if (args[0] === '--version' || args[0] === '-v' || args[0] === 'version') {
      io.stdout.write(`coop ${version}\n`)
      return ExitCode.Ok
    }
    const { command, rest } = findCommand(commands, args)
    if (!command) {
      const group = groups.find((candidate) => candidate.name === args[0])
      if (group) {
        const sub = args[1]
        if (sub === undefined || sub === '--help' || sub === '-h') {
          io.stdout.write(formatGroupHelp(group, commands))
          return sub === undefined ? ExitCode.Usage : ExitCode.Ok
        }
        const names = commands.filter((c) => c.path[0] === group.name).map((c) => c.path[1]!)
        const guess = suggest(sub, names)
        throw new CliError(`unknown command 'coop ${group.name} ${sub}'`, {
          code: 'UNKNOWN_COMMAND',
          hint: `${guess ? `did you mean \`coop ${group.name} ${guess}\`? ` : ''}commands: ${names.join(', ')}`,
        })
      }
      const first = args[0]!
      if (first.startsWith('-')) {
        throw new CliError(`expected a command before ${first}`, { code: 'USAGE', hint: 'run `coop --help` for the list of commands' })
      }
      const names = [...new Set(commands.map((c) => c.path[0]!))]
      const guess = suggest(first, names)
      throw new CliError(`unknown command '${first}'`, {
        code: 'UNKNOWN_COMMAND',
        hint: `${guess ? `did you mean \`coop ${guess}\`? ` : ''}run \`coop --help\` for the list of commands`,
      })
    }
    const { values, positionals } = parseCommandArgs(command, rest)
    if (values.help) {
      io.stdout.write(formatCommandHelp(command))
      return ExitCode.Ok
    }
    const result = await command.run({ values, positionals, io })
    return typeof result === 'number' ? result : ExitCode.Ok
  } catch (error) {
    const cliError = toCliError(error)
    io.stderr.write(`${formatError(cliError, verbose)}\n`)
    return cliError.exitCode
  }
}

/** The bin's entry: real stdio and env; SIGINT/SIGTERM abort the running command (twice: exit now). */
export async function runFromProcess(): Promise<void> {
  const controller = new AbortController()
  let signals = 0
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1
    if (signals === 1) {
      process.stderr.write(`\ncoop: ${signal} received, shutting down (press Ctrl-C again to force)\n`)
      controller.abort(new CliError(`interrupted by ${signal}`, { code: 'INTERRUPTED', exitCode: ExitCode.Interrupted }))
    } else {
      process.exit(ExitCode.Interrupted)
    }
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const code = await main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.env.INIT_CWD ?? process.cwd(),
    signal: controller.signal,
  })
  // Long-running commands (devnet, node) have stopped what they started; leftover handles of
  // libraries must not keep the process alive.
  process.exit(code)
}
