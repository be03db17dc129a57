// Chain-time control for tests and the demo (anvil only). Every helper mines a block, so the
// latest block — which eth_call and simulations read — already carries the new time.
import type { Chain, Client, Transport } from 'viem'
import { getBlock, increaseTime as viemIncreaseTime, mine as viemMine, setNextBlockTimestamp } from 'viem/actions'

type TimeClient = Client<Transport, Chain | undefined>

// viem's test actions want a TestClient (mode: 'anvil'); these only use anvil's RPC methods.
const asTest = (client: TimeClient) => ({ ...client, mode: 'anvil' }) as never

/** Timestamp (seconds) of the latest block. */
export async function getChainTime(client: TimeClient): Promise<bigint> {
  return (await getBlock(client, { blockTag: 'latest' })).timestamp
}

/** Mines `blocks` blocks. */
export async function mine(client: TimeClient, blocks = 1): Promise<void> {
  await viemMine(asTest(client), { blocks })
}

/** Moves time forward by `seconds` (evm_increaseTime + evm_mine); returns the new chain time. */
export async function increaseTime(client: TimeClient, seconds: number | bigint): Promise<bigint> {
  await viemIncreaseTime(asTest(client), { seconds: Number(seconds) })
  await mine(client)
  return getChainTime(client)
}

/**
 * Mines a block at exactly `timestamp` (evm_setNextBlockTimestamp + evm_mine) and returns it. Time
 * never goes backwards: a timestamp at or before the latest block just mines one more block.
 */
export async function setChainTime(client: TimeClient, timestamp: number | bigint): Promise<bigint> {
  const target = BigInt(timestamp)
  if (target > (await getChainTime(client))) await setNextBlockTimestamp(asTest(client), { timestamp: target })
  await mine(client)
  return getChainTime(client)
}
