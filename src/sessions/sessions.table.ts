export interface SessionsTable {
  id: string
  user_id: string
  /** SHA-256 of the current refresh token's secret part; the token itself is never stored. */
  refresh_token_hash: string
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

/** A refresh token the session has rotated out (its family): presenting it again is reuse. */
export interface RotatedRefreshTokensTable {
  /** SHA-256 of the token's secret part. */
  token_hash: string
  session_id: string
  rotated_at: string | Date
}
