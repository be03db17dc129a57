import { decrypt } from './decrypt.ts'
import { encrypt } from './encrypt.ts'
import { secret } from './secret.ts'
import type { SeaPair } from './types.ts'

/**
 * Encrypts `data` so only `recipient` (and the sender) can read it: AES-GCM under the ECDH secret of the
 * sender's pair and the recipient's epub — gun's idiom `SEA.encrypt(data, await SEA.secret(epub, pair))`,
 * so a gun app decrypts it with `SEA.decrypt(msg, await SEA.secret(senderEpub, itsPair))`.
 */
export async function encryptFor(data: unknown, sender: Pick<SeaPair, 'epub' | 'epriv'>, recipient: string | { epub: string }): Promise<string> {
  return encrypt(data, await secret(recipient, sender))
}

/** Reads what `sender` encrypted for us with encryptFor. GraphError DECRYPT_FAILED when it was not for us. */
export async function decryptFrom(message: unknown, recipient: Pick<SeaPair, 'epub' | 'epriv'>, sender: string | { epub: string }): Promise<unknown> {
  return decrypt(message, await secret(sender, recipient))
}
