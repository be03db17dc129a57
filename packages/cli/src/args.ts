// The CLI's argument handling: a command table, node:util parseArgs per command, generated --help.
import { parseArgs } from 'node:util'

import { CliError } from './errors.ts'

export type OptionSpec = {
  type: 'string' | 'boolean'
  short?: string
  multiple?: boolean
  description: string
  /** Shown in help as `--name <placeholder>`. */
  placeholder?: string
  /** Shown in help; applied by the command itself (so env fallbacks stay explicit). */
  defaultText?: string
  /** Environment variable read when the option is absent (documented in help). */
  env?: string
  required?: boolean
}

export type ParsedValues = Record<string, string | boolean | string[] | undefined>

export type CliIo = {
  stdout: { write(chunk: string): unknown; isTTY?: boolean }
  stderr: { write(chunk: string): unknown; isTTY?: boolean }
  env: Record<string, string | undefined>
  cwd: string
  /** Aborted on SIGINT/SIGTERM (long-running commands stop cleanly). */
  signal?: AbortSignal
}

export type CommandContext = {
  values: ParsedValues
  positionals: string[]
  io: CliIo
}

export type Command = {
  /** e.g. ['task', 'create']. */
  path: string[]
  summary: string
  /** Longer text shown under the usage line. */
  description?: string
  /** Positional arguments as shown in usage, e.g. '[file]'. */
  positionals?: { name: string; description: string; required?: boolean }[]
  options: Record<string, OptionSpec>
  examples?: string[]
  run(context: CommandContext): Promise<number | void>
}

export const helpOption: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help' }

/** A group of commands (`coop task …`): help lists its subcommands. */
export type CommandGroup = { name: string; summary: string }

export function findCommand(
  commands: readonly Command[],
  argv: readonly string[],
): { command: Command | undefined; rest: string[]; matched: string[] } {
  let best: Command | undefined
  let bestLength = 0
  for (const command of commands) {
    const length = command.path.length
    if (length > argv.length || length <= bestLength) continue
    if (command.path.every((part, index) => argv[index] === part)) {
      best = command
      bestLength = length
    }
  }
  return { command: best, rest: argv.slice(bestLength), matched: argv.slice(0, bestLength) as string[] }
}

/** Parses a command's arguments; unknown options and bad values become usage errors with hints. */
export function parseCommandArgs(command: Command, argv: readonly string[]): { values: ParsedValues; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = { help: { type: 'boolean', short: 'h' } }
  for (const [name, spec] of Object.entries(command.options)) {
    options[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}) }
  }
  const name = `coop ${command.path.join(' ')}`
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true })
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    const unknown = /Unknown option '([^']+)'/.exec(message)
    if (unknown) {
      const suggestion = suggest(unknown[1]!.replace(/^-+/, ''), Object.keys(options))
      throw new CliError(`${name}: unknown option ${unknown[1]}`, {
        code: 'USAGE',
        hint: `${suggestion ? `did you mean --${suggestion}? ` : ''}run \`${name} --help\` for its options`,
      })
    }
    const missingValue = /Option '(?:-\w, )?--([\w-]+) <value>' argument missing/.exec(message)
    if (missingValue) {
      throw new CliError(`${name}: --${missingValue[1]} needs a value`, { code: 'USAGE', hint: `run \`${name} --help\`` })
    }
    throw new CliError(`${name}: ${message.replace(/\. To specify .*$/s, '')}`, { code: 'USAGE', hint: `run \`${name} --help\`` })
  }
  const values = parsed.values as ParsedValues
  if (values.help) return { values, positionals: parsed.positionals }
  const maxPositionals = command.positionals?.length ?? 0
  if (parsed.positionals.length > maxPositionals) {
    const extra = parsed.positionals[maxPositionals]!
    throw new CliError(`${name}: unexpected argument '${extra}'`, {
      code: 'USAGE',
      hint: `run \`${name} --help\` for its usage`,
    })
  }
  for (const [index, positional] of (command.positionals ?? []).entries()) {
    if (positional.required && parsed.positionals[index] === undefined) {
      throw new CliError(`${name}: missing <${positional.name}>`, { code: 'MISSING_OPTION', hint: `run \`${name} --help\`` })
    }
  }
  return { values, positionals: parsed.positionals }
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = current
    }
  }
  return row[b.length]!
}

/** The closest candidate within edit distance 2 (or a prefix match). */
export function suggest(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of candidates) {
    const distance = candidate.startsWith(input) && input.length >= 2 ? 0.5 : levenshtein(input, candidate)
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return bestDistance <= 2 ? best : undefined
}

function optionLabel(name: string, spec: OptionSpec): string {
  const short = spec.short ? `-${spec.short}, ` : '    '
  const value = spec.type === 'string' ? ` <${spec.placeholder ?? 'value'}>` : ''
  return `${short}--${name}${value}${spec.multiple ? ' …' : ''}`
}

function wrapIndent(text: string, indent: number, width = 100): string {
  const words = text.split(/\s+/)
  const lines: string[] = []
  let line = ''
  for (const word of words) {
    if (line && line.length + word.length + 1 > width - indent) {
      lines.push(line)
      line = word
    } else line = line ? `${line} ${word}` : word
  }
  if (line) lines.push(line)
  return lines.join(`\n${' '.repeat(indent)}`)
}

export function formatCommandHelp(command: Command): string {
  const name = `coop ${command.path.join(' ')}`
  const positionals = (command.positionals ?? []).map((p) => (p.required ? `<${p.name}>` : `[${p.name}]`)).join(' ')
  const lines = [`Usage: ${name}${Object.keys(command.options).length ? ' [options]' : ''}${positionals ? ` ${positionals}` : ''}`, '', command.summary]
  if (command.description) lines.push('', command.description.trim())
  if (command.positionals?.length) {
    lines.push('', 'Arguments:')
    for (const p of command.positionals) lines.push(`  ${p.name.padEnd(30)}${p.description}`)
  }
  const entries = Object.entries(command.options).map(([optionName, spec]) => [optionLabel(optionName, spec), spec] as const)
  entries.push([optionLabel('help', helpOption), helpOption])
  const width = Math.max(...entries.map(([label]) => label.length)) + 2
  lines.push('', 'Options:')
  for (const [label, spec] of entries) {
    const notes = [
      spec.required ? 'required' : undefined,
      spec.defaultText ? `default: ${spec.defaultText}` : undefined,
      spec.env ? `env: ${spec.env}` : undefined,
    ].filter(Boolean)
    const text = `${spec.description}${notes.length ? ` (${notes.join('; ')})` : ''}`
    lines.push(`  ${label.padEnd(width)}${wrapIndent(text, width + 2)}`)
  }
  if (command.examples?.length) {
    lines.push('', 'Examples:')
    for (const example of command.examples) lines.push(`  ${example}`)
  }
  return `${lines.join('\n')}\n`
}

export function formatGroupHelp(group: CommandGroup, commands: readonly Command[]): string {
  const children = commands.filter((command) => command.path[0] === group.name && command.path.length > 1)
  const width = Math.max(...children.map((command) => command.path.join(' ').length)) + 4
  const lines = [`Usage: coop ${group.name} <command> [options]`, '', group.summary, '', 'Commands:']
  for (const command of children) lines.push(`  ${command.path.join(' ').padEnd(width)}${command.summary}`)
  lines.push('', `Run \`coop ${group.name} <command> --help\` for a command's options.`)
  return `${lines.join('\n')}\n`
}

export function formatMainHelp(commands: readonly Command[], version: string): string {
  const width = Math.max(...commands.map((command) => command.path.join(' ').length)) + 4
  const lines = [
    `coop ${version}: run and join Coop cooperative compute networks`,
    '',
    'Usage: coop <command> [options]',
    '',
    'Commands:',
    ...commands.map((command) => `  ${command.path.join(' ').padEnd(width)}${command.summary}`),
    '',
    'Common options: --rpc <url> (env COOP_RPC_URL), --key <0x…> (env COOP_PRIVATE_KEY),',
    '  --deployment <file> (env COOP_DEPLOYMENT; `coop devnet` writes <data-dir>/deployment.json).',
    '',
    'Run `coop <command> --help` for a command\'s options. Start with `npx coop devnet`.',
  ]
  return `${lines.join('\n')}\n`
}

// ─── value helpers ───

export function stringValue(values: ParsedValues, name: string): string | undefined {
  const value = values[name]
  if (Array.isArray(value)) return value.at(-1)
  return typeof value === 'string' ? value : undefined
}

export function listValue(values: ParsedValues, name: string): string[] {
  const value = values[name]
  if (Array.isArray(value)) return value.flatMap((item) => item.split(',')).map((item) => item.trim()).filter(Boolean)
  if (typeof value === 'string') return value.split(',').map((item) => item.trim()).filter(Boolean)
  return []
}

export function requireString(values: ParsedValues, name: string, command: string, hint?: string): string {
  const value = stringValue(values, name)
  if (value === undefined || value === '') {
    throw new CliError(`${command}: missing --${name}`, { code: 'MISSING_OPTION', hint: hint ?? `run \`${command} --help\`` })
  }
  return value
}

/** A non-negative integer option (ports, counts, ids). */
export function intValue(
  values: ParsedValues,
  name: string,
  command: string,
  options: { min?: number; max?: number; fallback?: number } = {},
): number | undefined {
  const raw = stringValue(values, name)
  if (raw === undefined) return options.fallback
  const value = Number(raw)
  const min = options.min ?? 0
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || (options.max !== undefined && value > options.max)) {
    throw new CliError(`${command}: --${name} must be an integer${options.max !== undefined ? ` from ${min} to ${options.max}` : ` ≥ ${min}`}, got '${raw}'`, {
      code: 'INVALID_OPTION',
      hint: `for example --${name} ${Math.max(min, options.fallback ?? min)}`,
    })
  }
  return value
}

export function bigintValue(values: ParsedValues, name: string, command: string): bigint | undefined {
  const raw = stringValue(values, name)
  if (raw === undefined) return undefined
  if (!/^\d+$/.test(raw.trim())) {
    throw new CliError(`${command}: --${name} must be a non-negative integer, got '${raw}'`, { code: 'INVALID_OPTION', hint: `for example --${name} 1` })
  }
  return BigInt(raw.trim())
}
