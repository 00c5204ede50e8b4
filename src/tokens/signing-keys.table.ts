export interface SigningKeysTable {
  kid: string
  alg: string
  /** Private JWK as JSON. */
  private_jwk: string
  public_jwk: string
  /** Published in the JWKS from here on: verifiers can fetch it before it signs anything. */
  created_at: string | Date
  /** Signs from here on (null: from `created_at`, for keys made before publication lead times). */
  activates_at?: string | Date | null
  /** When a newer key takes over signing (may lie in the future); still published until its tokens expire. */
  retired_at: string | Date | null
}

export type SigningKeyRow = SigningKeysTable
