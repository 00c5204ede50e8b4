export interface SigningKeysTable {
  kid: string
  alg: string
  /** Private JWK as JSON. */
  private_jwk: string
  public_jwk: string
  created_at: string | Date
  /** Set when a newer key takes over signing; the key still verifies until tokens expire. */
  retired_at: string | Date | null
}

export type SigningKeyRow = SigningKeysTable
