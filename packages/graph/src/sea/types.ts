/** A SEA key pair, in GUN's format: base64url JWK coordinates of P-256 keys. */
export type SeaPair = {
  /** ECDSA P-256 public key: `x.y` (base64url JWK coordinates joined by a dot). */
  pub: string
  /** ECDSA P-256 private scalar `d` (base64url). */
  priv: string
  /** ECDH P-256 public key: `x.y`. */
  epub: string
  /** ECDH P-256 private scalar `d` (base64url). */
  epriv: string
}

/** The public half of a pair: what others need to verify us (`pub`) and encrypt to us (`epub`). */
export type PublicIdentity = { pub: string; epub: string }

/** SEA's signed envelope (`'SEA' + JSON.stringify({ m, s })` on the wire). `s`: base64 IEEE P1363 r‖s. */
export type SignedMessage = { m: unknown; s: string }

/** SEA's encrypted envelope: base64 AES-GCM ciphertext+tag, 15-byte iv, 9-byte salt. */
export type EncryptedMessage = { ct: string; iv: string; s: string }
