// Writes packages/protocol/vectors/*.json (run: npm run vectors). Pass `--out <dir>` to write
// elsewhere; the vectors test does, to check the committed files are byte-identical.

import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { buildVectorFiles } from './vectors.ts'

const outFlag = process.argv.indexOf('--out')
const outDir =
  outFlag === -1 ? join(import.meta.dirname, '..', 'vectors') : resolve(process.argv[outFlag + 1] ?? '.')

mkdirSync(outDir, { recursive: true })
for (const [name, text] of Object.entries(buildVectorFiles())) {
  writeFileSync(join(outDir, name), text)
  console.log(`wrote ${join(outDir, name)}`)
}
