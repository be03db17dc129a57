import { GraphError } from '../errors.ts'
import { sha256, toBase64 } from './encoding.ts'
import { importSignKey } from './keys.ts'
import { isObject, isSeaString, seaParse, seaStringify, seaText } from './parse.ts'
import type { SeaPair, SignedMessage } from './types.ts'
import { verifySignedMessage } from './verify.ts'

/**
 * gun's `SEA.sign(data, pair, cb, { raw: 1 })`: `m` is the data as SEA parses it (JSON strings become
 * values), `s` the base64 ECDSA P-256 signature (IEEE P1363 r‖s, as WebCrypto makes it) over
 * SHA-256 of `m` (strings as they are, other values as JSON). Data already signed by this pair is
 * returned as it is, like gun does.
 */
export async function signRaw(data: unknown, signer: Pick<SeaPair, 'pub' | 'priv'>): Promise<SignedMessage> {
  if (data === undefined) throw new GraphError('MALFORMED', 'Cannot sign undefined')
  if (!signer || typeof signer.pub !== 'string' || typeof signer.priv !== 'string') {
    throw new GraphError('INVALID_KEY', 'Signing needs a pair with pub and priv')
  }
  const m = seaParse(data)
  if (isSeaString(m) || (isObject(m) && Boolean(m.s) && Boolean(m.m))) {
    const already = seaParse(m) as SignedMessage
    if (await verifySignedMessage(already, signer.pub)) return { m: already.m, s: already.s }
  }
  const key = await importSignKey(signer.pub, signer.priv)
  const hash = await sha256(seaText(m))
  const signature = await globalThis.crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, hash)
  return { m, s: toBase64(new Uint8Array(signature)) }
}

/** gun's `SEA.sign(data, pair)`: the `SEA{"m":…,"s":…}` string. */
export async function sign(data: unknown, signer: Pick<SeaPair, 'pub' | 'priv'>): Promise<string> {
  return `SEA${seaStringify(await signRaw(data, signer))}`
}

