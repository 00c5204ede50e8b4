import { recordAuditEvent } from '../audit/audit.repository.js'
import { type Actor, AuditEvents } from '../audit/audit.service.js'
import type { Config } from '../config/index.js'
import type { Db } from '../database.js'
import { Errors } from '../http/errors.js'
import type { Clock } from '../lib/clock.js'
import type { SessionRevocation } from '../sessions/session-revocation.js'
import { assertMayChangeUser } from '../users/admin-change-rules.js'
import { findUserById, updateUser } from '../users/users.repository.js'
import { enqueueMfaMail } from './mfa-mail.js'
import { deleteMfaFactors } from './mfa.repository.js'

export type MfaAdminService = ReturnType<typeof createMfaAdminService>

/** What an administrator (admin API) or the operator (CLI) may do to someone's second factor. */
export function createMfaAdminService (deps: { db: Db, config: Config, clock: Clock, sessions: Pick<SessionRevocation, 'revokeUserSessions'> }) {
  const { db, config, clock, sessions } = deps
  return {
    /**
     * For a user who lost their authenticator: turns two-step verification off (the TOTP
     * secret and the recovery codes are deleted), ends every session of theirs (whoever holds
     * the lost device is signed out too) and tells them by mail, all in one transaction.
     * Passkeys are kept: each is one device's and the user can remove it once signed in.
     * Turning a second factor off is a credential change: the rules of every admin change
     * apply (not the primary admin's, not one's own, another superuser's only by the primary).
     */
    async resetMfa (userId: string, actor: Actor): Promise<void> {
      const target = await findUserById(db, userId)
      if (!target) throw Errors.userNotFound()
      await assertMayChangeUser(db, target, actor, { disables: false, credentials: true })
      const now = clock.now()
      await sessions.revokeUserSessions(userId, async (trx) => {
        const hadTotp = await deleteMfaFactors(trx, userId)
        const updated = await updateUser(trx, userId, { mfa_enabled: 0, updated_at: now.toISOString() })
        if (!updated) throw Errors.userNotFound()
        await enqueueMfaMail(trx, { config, clock }, updated, 'mfa_reset')
        await recordAuditEvent(trx, {
          type: AuditEvents.adminUserMfaReset,
          actorId: actor.userId,
          userId,
          ip: actor.ip,
          userAgent: actor.userAgent,
          details: { had_mfa: hadTotp, ...(actor.userId === null ? { via: 'cli' } : {}) },
          at: now
        })
      })
    }
  }
}
