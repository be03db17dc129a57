/** SEA's `SEA.opt.check`: is this a SEA-prefixed JSON string? */
export function isSeaString(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('SEA{')
}

/**
 * SEA's `SEA.opt.parse` (sea/settings.js): strings are JSON-parsed when they can be (after dropping a
 * `SEA` prefix), otherwise kept as they are; other values pass through. So signing or encrypting the
 * string `'42'` gives back the number 42 on verify/decrypt — gun's behaviour, kept for compatibility.
 */
export function seaParse(value: unknown): unknown {
  if (typeof value !== 'string') return value
  const text = value.startsWith('SEA{') ? value.slice(3) : value
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** What SEA hashes or encrypts for a value: strings as they are, everything else as JSON. */
export function seaText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
