// @coop/cli: the `coop` command, and the devnet as a library (tests and scripts start it in-process).
export { main, version } from './main.ts'
export { commands } from './commands/index.ts'
export { CliError, ExitCode, formatError, toCliError } from './errors.ts'
export * from './args.ts'
export * from './deployment.ts'
export * from './devnet/index.ts'
