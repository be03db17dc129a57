// CLI-free entry: `npx tsx packages/node/src/main.ts --config node.json` (what `coop node start`
// and the devnet spawn). SIGTERM/SIGINT stop the node cleanly; a second signal exits at once.
import { parseArgs } from 'node:util'

import { loadConfig } from './config.ts'
import { NodeError, errorMessage } from './errors.ts'
import { startNode } from './node.ts'

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } })
  if (values.help || !values.config) {
    process.stderr.write('usage: tsx packages/node/src/main.ts --config <node.json>\n')
    return values.help ? 0 : 2
  }
  const config = loadConfig(values.config)
  const node = await startNode(config)
  let stopping = false
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      node.logger.warn({ signal }, 'second signal: exiting now')
      process.exit(1)
    }
    stopping = true
    node.logger.info({ signal }, 'signal received; stopping')
    node.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        node.logger.error({ err: errorMessage(error) }, 'stop failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  return -1
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code)
  },
  (error: unknown) => {
    const code = error instanceof NodeError ? error.code : 'UNEXPECTED'
    process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: 'node failed to start', code, err: errorMessage(error) })}\n`)
    process.exit(1)
  },
)
