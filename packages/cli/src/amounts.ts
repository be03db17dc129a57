// Token amounts on the command line: "100" and "0.5" are whole tokens (18 decimals), "123wei" is raw.
import { formatUnits, parseUnits } from 'viem'

import { CliError } from './errors.ts'

export function parseAmount(raw: string, option = 'amount', decimals = 18): bigint {
  const text = raw.trim().replace(/_/g, '')
  const wei = /^(\d+)\s*wei$/i.exec(text)
  if (wei) return BigInt(wei[1]!)
  if (!/^\d+(\.\d+)?$/.test(text)) {
    throw new CliError(`--${option} must be a token amount like 100 or 0.5 (or 1000wei), got '${raw}'`, {
      code: 'INVALID_OPTION',
      hint: `for example --${option} 100`,
    })
  }
  const fraction = text.split('.')[1] ?? ''
  if (fraction.length > decimals) {
    throw new CliError(`--${option} has more than ${decimals} decimals: '${raw}'`, { code: 'INVALID_OPTION', hint: 'use fewer decimals, or give wei with a "wei" suffix' })
  }
  return parseUnits(text, decimals)
}

/** 18-decimals amount with at most `digits` decimals (trailing zeros trimmed). */
export function formatAmount(amount: bigint, digits = 4, decimals = 18): string {
  const negative = amount < 0n
  const [whole, fraction = ''] = formatUnits(negative ? -amount : amount, decimals).split('.')
  const trimmed = fraction.slice(0, digits).replace(/0+$/, '')
  return `${negative ? '-' : ''}${whole}${trimmed ? `.${trimmed}` : ''}`
}
