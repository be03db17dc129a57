#!/usr/bin/env node
// The `coop` command. The sources are TypeScript run through tsx (no build step): register its
// ESM loader, then hand over to src/main.ts, which sets process.exitCode.
import { register } from 'tsx/esm/api'

register()
const { runFromProcess } = await import('../src/main.ts')
await runFromProcess()
