import type { Db } from '../database.js'
import { addSeconds, type Clock } from '../lib/clock.js'
import { randomToken, sha256 } from '../lib/crypto.js'
import { insertChallenge } from './mfa.repository.js'

/** An mfa_token lives 5 minutes, and dies after this many wrong codes. */
export const MFA_TOKEN_TTL_SECONDS = 300
export const MFA_TOKEN_MAX_FAILURES = 5

/**
 * Starts the second step of a sign-in whose password was right: a random 256-bit mfa_token,
 * of which only the SHA-256 is stored. The sign-in flow calls this (wired in the composition
 * root) instead of opening a session.
 */
export async function issueMfaChallenge (db: Db, clock: Clock, userId: string, clientId?: string): Promise<string> {
  const token = randomToken(32)
  const now = clock.now()
  await insertChallenge(db, {
    token_hash: sha256(token),
    user_id: userId,
    // The session the second step opens is this client's, as the password alone would have opened.
    client_id: clientId ?? null,
    failed_attempts: 0,
    used_at: null,
    created_at: now.toISOString(),
    expires_at: addSeconds(now, MFA_TOKEN_TTL_SECONDS).toISOString()
  })
  return token
}
