// Generates packages/chain/src/generated/contracts.ts from forge's build output
// (contracts/out/<File>.sol/<Contract>.json): typed `as const` ABIs and creation bytecode.
// Run through `npm run build:contracts`; the drift test regenerates in memory and compares.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
export const repoRoot = resolve(here, '..', '..', '..')
export const defaultOutDir = join(repoRoot, 'contracts', 'out')
export const generatedFile = join(repoRoot, 'packages', 'chain', 'src', 'generated', 'contracts.ts')

/** Contracts exported to TS: forge artifact path (relative to `out/`) → identifier prefix. */
export const artifacts = [
  { file: 'TaskManagerExtension.sol/TaskManagerExtension.json', name: 'taskManagerExtension', contract: 'TaskManagerExtension' },
  { file: 'TaskManager.sol/TaskManager.json', name: 'taskManager', contract: 'TaskManager' },
  { file: 'TaskLens.sol/TaskLens.json', name: 'taskLens', contract: 'TaskLens' },
  { file: 'CoopToken.sol/CoopToken.json', name: 'coopToken', contract: 'CoopToken' },
  { file: 'TestERC20.sol/TestERC20.json', name: 'testErc20', contract: 'TestERC20' },
] as const

/**
 * TaskManager is one address with two code halves: its fallback delegatecalls TaskManagerExtension.
 * Its exported ABI is the union of both (minus the extension's constructor, the fallback and the
 * extension's own NotDelegated error), and must list exactly the functions of ICoopTaskManager.
 */
const mergedInto = { taskManager: 'TaskManagerExtension.sol/TaskManagerExtension.json' } as const
const mergedInterface = { taskManager: 'ICoopTaskManager.sol/ICoopTaskManager.json' } as const

type AbiItem = { type: string; name?: string; inputs?: { type: string; components?: unknown[] }[] } & Record<string, unknown>

export class ArtifactMissingError extends Error {
  override name = 'ArtifactMissingError'
  constructor(readonly path: string) {
    super(`forge artifact not found: ${path}. Run \`npm run build -w contracts\` (or \`npm run build:contracts\`) first.`)
  }
}

const identifier = /^[A-Za-z_$][\w$]*$/

/** Serialises JSON-like data as TS source in the repo's style (2 spaces, single quotes). */
function toTs(value: unknown, indent = ''): string {
  const next = `${indent}  `
  if (value === null) return 'null'
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]'
    return `[\n${value.map((item) => `${next}${toTs(item, next)},`).join('\n')}\n${indent}]`
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
    if (entries.length === 0) return '{}'
    const body = entries
      .map(([key, item]) => `${next}${identifier.test(key) ? key : toTs(key)}: ${toTs(item, next)},`)
      .join('\n')
    return `{\n${body}\n${indent}}`
  }
  throw new TypeError(`cannot serialise ${typeof value}`)
}

/** Canonical signature of an ABI item's inputs, used to de-duplicate errors across contracts. */
function inputSignature(inputs: AbiItem['inputs']): string {
  const one = (input: { type: string; components?: unknown[] }): string =>
    input.type.startsWith('tuple')
      ? `(${(input.components as { type: string; components?: unknown[] }[]).map(one).join(',')})${input.type.slice(5)}`
      : input.type
  return (inputs ?? []).map(one).join(',')
}

function readArtifactAbi(outDir: string, file: string): AbiItem[] {
  const path = join(outDir, file)
  if (!existsSync(path)) throw new ArtifactMissingError(path)
  return (JSON.parse(readFileSync(path, 'utf8')) as { abi: AbiItem[] }).abi
}

function itemKey(item: AbiItem): string {
  return `${item.type} ${item.name ?? ''}(${inputSignature(item.inputs)})`
}

/** The contract's ABI plus its extension's; checked against the merged interface's functions. */
function mergeAbis(outDir: string, contract: string, own: AbiItem[], name: keyof typeof mergedInto): AbiItem[] {
  const extension = readArtifactAbi(outDir, mergedInto[name])
  const merged = new Map<string, AbiItem>()
  for (const item of own) if (item.type !== 'fallback') merged.set(itemKey(item), item)
  for (const item of extension) {
    if (item.type === 'constructor' || item.type === 'fallback' || (item.type === 'error' && item.name === 'NotDelegated')) continue
    if (!merged.has(itemKey(item))) merged.set(itemKey(item), item)
  }
  const functions = (abi: AbiItem[]) =>
    abi.filter((item) => item.type === 'function').map(itemKey).sort()
  const expected = functions(readArtifactAbi(outDir, mergedInterface[name]))
  const actual = functions([...merged.values()])
  if (expected.join('\n') !== actual.join('\n')) {
    const missing = expected.filter((key) => !actual.includes(key))
    const extra = actual.filter((key) => !expected.includes(key))
    throw new Error(`${contract}: merged ABI and ${mergedInterface[name]} disagree (missing ${missing.join(', ') || 'none'}; not in the interface ${extra.join(', ') || 'none'})`)
  }
  return [...merged.values()]
}

export function generateContractsModule(outDir: string = defaultOutDir): string {
  const parts: string[] = [
    '// Generated by packages/chain/scripts/generate-abis.ts from forge output (contracts/out).',
    '// Do not edit: run `npm run build:contracts` to regenerate.',
    '',
  ]
  const errors = new Map<string, AbiItem>()
  for (const { file, name, contract } of artifacts) {
    const path = join(outDir, file)
    if (!existsSync(path)) throw new ArtifactMissingError(path)
    const artifact = JSON.parse(readFileSync(path, 'utf8')) as { abi: AbiItem[]; bytecode: { object: string } }
    if (name in mergedInto) artifact.abi = mergeAbis(outDir, contract, artifact.abi, name as keyof typeof mergedInto)
    const bytecode = artifact.bytecode.object.startsWith('0x') ? artifact.bytecode.object : `0x${artifact.bytecode.object}`
    if (!/^0x[0-9a-f]+$/i.test(bytecode)) throw new Error(`${contract}: bytecode is not plain hex (unlinked libraries?)`)
    parts.push(`/** ABI of ${contract} (${file}). */`)
    parts.push(`export const ${name}Abi = ${toTs(artifact.abi)} as const`)
    parts.push('')
    parts.push(`/** Creation bytecode of ${contract}. */`)
    parts.push(`export const ${name}Bytecode = '${bytecode}' as const`)
    parts.push('')
    for (const item of artifact.abi) {
      if (item.type !== 'error') continue
      const key = `${item.name}(${inputSignature(item.inputs)})`
      if (!errors.has(key)) errors.set(key, item)
    }
  }
  const sortedErrors = [...errors.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, item]) => item)
  parts.push('/** Every custom error of the contracts above (deduplicated): decodes reverts that bubble up')
  parts.push(' * from tokens through the manager, e.g. ERC20InsufficientAllowance. */')
  parts.push(`export const coopErrorsAbi = ${toTs(sortedErrors)} as const`)
  parts.push('')
  return parts.join('\n')
}

function main(): void {
  const source = generateContractsModule()
  const previous = existsSync(generatedFile) ? readFileSync(generatedFile, 'utf8') : undefined
  if (previous === source) {
    console.log(`generate-abis: ${generatedFile} is up to date`)
    return
  }
  writeFileSync(generatedFile, source)
  console.log(`generate-abis: wrote ${generatedFile}`)
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main()
