// Test helpers: run the CLI in-process with captured output, and a chain with Coop deployed.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { createCoopClient, deployCoop, mintTestErc20, startAnvil, transferErc20, type Anvil, type CoopAddresses } from '@coop/chain'
import { parseUnits } from 'viem'

import type { CliIo } from '../src/args.ts'
import { writeDeployment, type Deployment } from '../src/deployment.ts'
import { main } from '../src/main.ts'

export type CliRun = { code: number; stdout: string; stderr: string }

export async function runCli(argv: string[], options: { env?: Record<string, string | undefined>; cwd?: string; signal?: AbortSignal } = {}): Promise<CliRun> {
  let stdout = ''
  let stderr = ''
  const io: CliIo = {
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    ...(options.signal ? { signal: options.signal } : {}),
  }
  const code = await main(argv, io)
  return { code, stdout, stderr }
}

export type TestChain = { anvil: Anvil; addresses: CoopAddresses; deploymentFile: string; deployment: Deployment; dir: string; stop(): Promise<void> }

/** anvil + Coop deployed + a deployment.json naming the creator and two node accounts (with COOP). */
export async function startTestChain(): Promise<TestChain> {
  const anvil = await startAnvil({ accounts: 4 })
  try {
    const [creatorKey, ...nodeKeys] = anvil.accounts
    const creator = createCoopClient({ rpcUrl: anvil.rpcUrl, account: creatorKey!.privateKey })
    const { addresses } = await deployCoop(creator)
    await mintTestErc20(creator, { address: addresses.rewardToken, to: creatorKey!.address, amount: parseUnits('1000000', 18) })
    for (const key of nodeKeys.slice(0, 2)) {
      await transferErc20(creator, { address: addresses.coopToken, to: key.address, amount: parseUnits('5000', 18) })
    }
    const dir = mkdtempSync(join(tmpdir(), 'coop-cli-test-'))
    const deployment: Deployment = {
      version: 1,
      network: 'devnet',
      rpcUrl: anvil.rpcUrl,
      chainId: anvil.chainId,
      addresses,
      tasks: [],
      nodes: nodeKeys.slice(0, 2).map((key, index) => ({
        name: `node-${index + 1}`,
        address: key.address,
        behaviour: 'honest' as const,
        dataDir: join(dir, `node-${index + 1}`),
        configFile: join(dir, `node-${index + 1}.json`),
        privateKey: key.privateKey,
      })),
      creator: { address: creatorKey!.address, privateKey: creatorKey!.privateKey },
    }
    const deploymentFile = join(dir, 'deployment.json')
    writeDeployment(deploymentFile, deployment)
    return { anvil, addresses, deploymentFile, deployment, dir, stop: () => anvil.stop() }
  } catch (error) {
    await anvil.stop()
    throw error
  }
}
