// Small write helpers the commands share.
import { approveErc20, type CoopClient } from '@coop/chain'
import { erc20Abi, type Address } from 'viem'

/** Approves `spender` for `amount` of `token` unless the allowance already covers it. */
export async function ensureAllowance(client: CoopClient, token: Address, spender: Address, amount: bigint): Promise<void> {
  const allowance = await client.readContract({
    address: token,
    abi: erc20Abi,
    functionName: 'allowance',
    args: [client.account.address, spender],
  })
  if (allowance >= amount) return
  await approveErc20(client, { address: token, spender, amount })
}

export async function tokenInfo(client: { readContract: CoopClient['readContract'] }, token: Address): Promise<{ symbol: string; decimals: number }> {
  const [symbol, decimals] = await Promise.all([
    client.readContract({ address: token, abi: erc20Abi, functionName: 'symbol' }).catch(() => 'tokens'),
    client.readContract({ address: token, abi: erc20Abi, functionName: 'decimals' }).catch(() => 18),
  ])
  return { symbol, decimals }
}

/** JSON with bigints as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, item) => (typeof item === 'bigint' ? item.toString() : item), 2)
}
