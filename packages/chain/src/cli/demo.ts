// `npm run demo:scripted`: builds the contracts (forge from npm; output on stderr), regenerates the typed
// ABIs, starts anvil on 127.0.0.1, and runs a scripted 3-cycle Coop task through the contracts.
//   --json       print a summary object on stdout (the progress log goes to stderr)
//   --no-build   skip the contract build (use the committed generated ABIs as they are)
//   --quiet      no progress log
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const args = new Set(process.argv.slice(2))
if (args.has('--help') || args.has('-h')) {
  console.log('usage: npm run demo:scripted [-- --json] [-- --no-build] [-- --quiet]')
  process.exit(0)
}
const json = args.has('--json')
const quiet = args.has('--quiet')
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..')

function buildContracts(): void {
  // forge prints to stdout; keep stdout for the demo (and its JSON).
  const forge = join(repoRoot, 'contracts', 'scripts', 'forge.mjs')
  const started = Date.now()
  const result = spawnSync(process.execPath, [forge, 'build'], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' })
  if (result.status !== 0) {
    process.stderr.write(result.stdout + result.stderr)
    throw new Error(`contract build failed (exit ${result.status}); run \`npm run build:contracts\` to see why`)
  }
  process.stderr.write(`contracts built in ${Date.now() - started} ms\n`)
}

async function regenerateAbis(): Promise<void> {
  const { generateContractsModule, generatedFile } = await import('../../scripts/generate-abis.ts')
  const source = generateContractsModule()
  if (!existsSync(generatedFile) || readFileSync(generatedFile, 'utf8') !== source) {
    writeFileSync(generatedFile, source)
    process.stderr.write(`regenerated ${generatedFile}\n`)
  }
}

async function main(): Promise<void> {
  if (!args.has('--no-build')) {
    buildContracts()
    await regenerateAbis()
  }
  // Imported only now, so the freshly generated ABIs and bytecode are the ones used.
  const { formatNodeTable, runDevnetDemo } = await import('./scenario.ts')
  const out = json ? process.stderr : process.stdout
  const summary = await runDevnetDemo({ log: quiet ? undefined : (line) => out.write(`${line}\n`) })
  if (json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`)
  } else {
    console.log('')
    console.log(formatNodeTable(summary.nodes))
    console.log('')
    console.log(
      `checks: reward conserved ${summary.checks.rewardConserved}, every node claimed ${summary.checks.everyNodeClaimed}, ` +
        `cheater convicted ${summary.checks.cheaterConvicted}; anvil stopped`,
    )
  }
  const ok = Object.values(summary.checks).every(Boolean)
  process.exitCode = ok ? 0 : 1
}

main().catch((error: unknown) => {
  process.stderr.write(`devnet demo failed: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
})
