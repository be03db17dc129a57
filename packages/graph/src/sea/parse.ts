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

/**
 * gun's JSON text for SEA (`shim.stringify`, which is gun/lib/yson.js `stringifyAsync` whenever gun is
 * loaded in Node): JSON with every object's keys in sorted order (`Object.keys(o).sort()`). Signatures,
 * work and envelopes hash/emit this text, so an object signed here verifies in gun whatever order its
 * keys were built in. (gun emits `Infinity` and raw toJSON results unquoted; this stays valid JSON.)
 */
export function seaStringify(value: unknown): string {
  return canonical(value) ?? 'null'
}

// Hand-written rather than JSON.stringify over a re-built object: integer-like keys ('10', '9') would be
// re-ordered by the engine, and gun sorts them as strings.
function canonical(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value)
  const withJson = value as { toJSON?: () => unknown }
  if (typeof withJson.toJSON === 'function') return canonical(withJson.toJSON())
  if (Array.isArray(value)) return `[${value.map((item) => canonical(item) ?? 'null').join(',')}]`
  const parts: string[] = []
  for (const key of Object.keys(value).sort()) {
    const text = canonical((value as Record<string, unknown>)[key])
    if (text !== undefined) parts.push(`${JSON.stringify(key)}:${text}`)
  }
  return `{${parts.join(',')}}`
}

/** What SEA hashes or encrypts for a value: strings as they are, everything else as seaStringify. */
export function seaText(value: unknown): string {
  return typeof value === 'string' ? value : seaStringify(value)
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
