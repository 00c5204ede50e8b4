export type OneTimeTokenPurpose = 'password_reset' | 'email_verification'

export interface OneTimeTokensTable {
  id: string
  user_id: string
  purpose: OneTimeTokenPurpose
  /** SHA-256 of the token; the token itself exists only in the mail. */
  token_hash: string
  email: string
  created_at: string | Date
  expires_at: string | Date
  used_at: string | Date | null
}

export type OneTimeTokenRow = OneTimeTokensTable
