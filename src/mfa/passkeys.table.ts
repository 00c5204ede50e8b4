export interface PasskeysTable {
  id: string
  user_id: string
  credential_id: string
  public_key: string
  counter: number | string
  /** JSON array of AuthenticatorTransport values, as the browser reported them. */
  transports: string | null
  /** `singleDevice` (bound to one authenticator) or `multiDevice` (synced). */
  device_type: string
  backed_up: number
  name: string
  created_at: string | Date
  last_used_at: string | Date | null
}

export type WebauthnChallengePurpose = 'register' | 'signin'

export interface WebauthnChallengesTable {
  challenge_hash: string
  purpose: WebauthnChallengePurpose
  /** The registering user; null for a sign-in challenge, which names no account. */
  user_id: string | null
  created_at: string | Date
  expires_at: string | Date
}

export type PasskeyRow = PasskeysTable
