import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

// What every benchmark shares: where results go, how a result file is written, and the machine
// facts recorded in `params` (DESIGN.md "Conventions": bench/results/<id>.json, one file per id).

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results')

/** The machine a number was measured on (`params.machine`). */
export function machineFacts(): { cpu: string; cores: number } {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length }
}

/** Writes `bench/results/<id>.json` (2-space JSON, trailing newline). */
export function writeBenchResult(file: { id: string }): void {
  mkdirSync(RESULTS_DIR, { recursive: true })
  writeFileSync(join(RESULTS_DIR, `${file.id}.json`), `${JSON.stringify(file, null, 2)}\n`)
}
