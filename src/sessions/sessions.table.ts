export interface SessionsTable {
  id: string
  user_id: string
  /** SHA-256 of the current refresh token's secret part; the token itself is never stored. */
  refresh_token_hash: string
  /** Hash of the token rotated out last: presenting it again is reuse (see 0005_security). */
  previous_refresh_token_hash?: string | null
  /** The OAuth client the session was opened for (RFC 9068 `client_id`); null: the default client. */
  client_id?: string | null
  created_at: string | Date
  last_used_at: string | Date
  expires_at: string | Date
  revoked_at: string | Date | null
  ip: string | null
  user_agent: string | null
  /** RFC 8176 methods the session was opened with, space-separated (migration 0007); null = "pwd". */
  amr?: string | null
}

export type SessionRow = SessionsTable
