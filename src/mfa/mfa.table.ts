/** Times are ISO strings on SQLite and Date on PostgreSQL; bigints arrive as numbers (see create-db). */
export interface MfaTotpTable {
  user_id: string
  /** Encrypted (`v1.…`) or, without DATA_ENCRYPTION_KEY, `plain.<base32>`: never sent after set-up. */
  secret: string
  confirmed_at: string | Date | null
  last_used_step: number | string | null
  created_at: string | Date
}

export interface MfaRecoveryCodesTable {
  id: string
  user_id: string
  salt: string
  code_hash: string
  used_at: string | Date | null
  created_at: string | Date
}

export interface MfaChallengesTable {
  /** SHA-256 of the mfa_token. */
  token_hash: string
  user_id: string
  /** The OAuth client that began the sign-in (migration 0009); null: the default client. */
  client_id?: string | null
  failed_attempts: number
  used_at: string | Date | null
  created_at: string | Date
  expires_at: string | Date
}

export type MfaTotpRow = MfaTotpTable
export type MfaRecoveryCodeRow = MfaRecoveryCodesTable
export type MfaChallengeRow = MfaChallengesTable
