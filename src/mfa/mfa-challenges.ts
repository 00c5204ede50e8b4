import type { Db } from '../database.js'
import { Errors } from '../http/errors.js'
import { addSeconds, type Clock } from '../lib/clock.js'
import { randomToken, sha256 } from '../lib/crypto.js'
import { passwordStillCurrent } from '../users/users.repository.js'
import type { UserRow } from '../users/users.table.js'
import { insertChallenge } from './mfa.repository.js'

/** An mfa_token lives 5 minutes, and dies after this many wrong codes. */
export const MFA_TOKEN_TTL_SECONDS = 300
export const MFA_TOKEN_MAX_FAILURES = 5

/**
 * Starts the second step of a sign-in whose password was right: a random 256-bit mfa_token,
 * of which only the SHA-256 is stored. The sign-in flow calls this (wired in the composition
 * root) instead of opening a session.
 *
 * `user` is the row whose password hash was just verified. The challenge is stored only while
 * that hash is still the user's (`passwordStillCurrent`): a password change commits either
 * before (no challenge: the password given is no longer the password, a 401) or after, and
 * then voids it (`afterPasswordChange`).
 */
export async function issueMfaChallenge (db: Db, clock: Clock, user: Pick<UserRow, 'id' | 'password_hash'>, clientId?: string): Promise<string> {
  const token = randomToken(32)
  const now = clock.now()
  const stored = await db.transaction().execute(async (trx) => {
    if (!(await passwordStillCurrent(trx, user.id, user.password_hash))) return false
    await insertChallenge(trx, {
      token_hash: sha256(token),
      user_id: user.id,
      // The session the second step opens is this client's, as the password alone would have opened.
      client_id: clientId ?? null,
      failed_attempts: 0,
      used_at: null,
      created_at: now.toISOString(),
      expires_at: addSeconds(now, MFA_TOKEN_TTL_SECONDS).toISOString()
    })
    return true
  })
  if (!stored) throw Errors.invalidCredentials()
  return token
}
