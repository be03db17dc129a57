// Every `coop` command, in the order `coop --help` lists them.
import type { Command, CommandGroup } from '../args.ts'
import { claimCommand } from './claim.ts'
import { devnetCommand } from './devnet.ts'
import { deviceKeygenCommand, deviceSendCommand, deviceVerifyCommand } from './device.ts'
import { graphCommands } from './graph.ts'
import { nodeStartCommand } from './node.ts'
import { scaleVerifyCommand } from './scale.ts'
import { stakeCommand, unstakeCommand } from './stake.ts'
import { statusCommand } from './status.ts'
import { taskCreateCommand, taskFundCommand, taskStatusCommand, taskStopCommand } from './task.ts'

export const commands: Command[] = [
  devnetCommand,
  nodeStartCommand,
  taskCreateCommand,
  taskFundCommand,
  taskStatusCommand,
  taskStopCommand,
  stakeCommand,
  unstakeCommand,
  claimCommand,
  statusCommand,
  deviceKeygenCommand,
  deviceSendCommand,
  deviceVerifyCommand,
  scaleVerifyCommand,
  ...graphCommands,
]

export const groups: CommandGroup[] = [
  { name: 'node', summary: 'run a Coop node' },
  { name: 'task', summary: 'create, fund, inspect and stop tasks' },
  { name: 'device', summary: 'devices without wallets: keys, signed payloads, receipts, inclusion checks' },
  { name: 'scale', summary: 'SCALE rounds: verify a node\'s history of heads against the chain' },
  { name: 'graph', summary: 'the GUN-compatible graph: run a relay peer, put and get' },
]
