import type { Db } from '../database.js'
import type { Clock } from '../lib/clock.js'
import type { SessionLiveness } from './session-liveness.js'
import { revokeSession, revokeUserSessions } from './sessions.repository.js'

/**
 * The one way to revoke sessions. Each call writes the database and then clears every cache
 * of the answer (this instance's, and every other instance's through the Redis channel when
 * one is configured), so no caller can do the first step and forget the second: a forgotten
 * second step is an access token that keeps working until the cache entry expires.
 *
 * The calls that take `within` run it in the same transaction as the revocation (the change
 * that causes it: a new password, a deactivation, a deletion), and clear the caches only after
 * the commit, so no request can re-cache the old answer between the two.
 */
export interface SessionRevocation {
  /** Revokes one session; true when it was live. */
  revokeSession: (sessionId: string) => Promise<boolean>
  /** Revokes every session of a user, after running `within` in the same transaction. */
  revokeUserSessions: <T = void>(userId: string, within?: (trx: Db) => Promise<T>) => Promise<T>
  /**
   * Not a revocation: the user's data changed (profile, role, verification) and cached
   * session answers carry the user, so they are dropped everywhere after `within` commits.
   */
  changeUser: <T>(userId: string, within: (trx: Db) => Promise<T>) => Promise<T>
}

export function createSessionRevocation (deps: { db: Db, clock: Clock, liveness: SessionLiveness }): SessionRevocation {
  const { db, clock, liveness } = deps
  return {
    async revokeSession (sessionId) {
      const revoked = await revokeSession(db, sessionId, clock.now().toISOString())
      await liveness.forgetSession(sessionId)
      return revoked
    },
    async revokeUserSessions<T> (userId: string, within?: (trx: Db) => Promise<T>): Promise<T> {
      const result = await db.transaction().execute(async (trx) => {
        const value = within ? await within(trx) : (undefined as T)
        await revokeUserSessions(trx, userId, clock.now().toISOString())
        return value
      })
      await liveness.forgetUser(userId)
      return result
    },
    async changeUser (userId, within) {
      const result = await db.transaction().execute(within)
      await liveness.forgetUser(userId)
      return result
    }
  }
}
