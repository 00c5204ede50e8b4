import { amrOf } from '../auth/auth.service.js'
import type { Db } from '../database.js'
import { Errors } from '../http/errors.js'
import { type Clock, toDate } from '../lib/clock.js'
import { findSession, setSessionAmr } from '../sessions/sessions.repository.js'
import type { UserRow } from '../users/users.table.js'

/** How recent a sign-in must be to add a way in with it that asks for no password. */
export const RECENT_SIGNIN_SECONDS = 10 * 60

/**
 * What a session must have proven before it may add a way into the account (a passkey, a new
 * set of recovery codes): each of them signs in past the second step, so a live access token is
 * not enough. With two-step verification on, the session must have passed the second step: a
 * password-only session (one opened before two-step verification was turned on, or by a
 * password thief who cannot pass it) cannot mint a second factor. With `recentSignIn`, for
 * what asks for no password at all, the session must also have been opened within
 * `RECENT_SIGNIN_SECONDS`, so a token stolen from an older session cannot become a lasting
 * credential. Refused: 401 `reauthentication_required`.
 */
export async function assertMayAddWayIn (db: Db, clock: Clock, user: UserRow, sessionId: string, rule: { recentSignIn: boolean }): Promise<void> {
  const session = await findSession(db, sessionId)
  if (!session || session.user_id !== user.id || session.revoked_at !== null) throw Errors.invalidToken()
  if (rule.recentSignIn && clock.now().getTime() - toDate(session.created_at).getTime() > RECENT_SIGNIN_SECONDS * 1000) {
    throw Errors.reauthenticationRequired()
  }
  if (user.mfa_enabled === 1 && !amrOf(session.amr).includes('mfa')) throw Errors.reauthenticationRequired()
}

/**
 * The session that turned two-step verification on has just shown both factors (its password
 * and a code from the new authenticator): from now on it counts as a two-step session, as one
 * signed in through /mfa/verify does. Other sessions of the user stay password-only.
 */
export async function markSessionTwoStep (trx: Db, sessionId: string, stored: string | null | undefined): Promise<void> {
  const amr = new Set([...amrOf(stored), 'otp', 'mfa'])
  await setSessionAmr(trx, sessionId, [...amr].join(' '))
}
