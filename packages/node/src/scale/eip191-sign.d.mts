/** EIP-191 personal_sign (see eip191-sign.mjs): the same 65-byte signature viem's signMessage makes. */
export function personalSign(privateKey: Uint8Array, message: string): `0x${string}`
