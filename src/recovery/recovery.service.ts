import { type AuditLog, AuditEvents } from '../audit/audit.service.js'
import type { ClientInfo } from '../lib/client-info.js'
import type { PasswordHasher } from '../passwords/password-hasher.js'
import { passwordProblem } from '../passwords/password-policy.js'
import type { Config } from '../config/index.js'
import type { Db } from '../database.js'
import { Errors } from '../http/errors.js'
import { type Clock, toDate } from '../lib/clock.js'
import { sha256 } from '../lib/crypto.js'
import type { DeferredRenderer } from '../mail/outbox-sender.js'
import { templates } from '../mail/templates/templates.js'
import type { SessionRevocation } from '../sessions/session-revocation.js'
import { toUser } from '../users/users.mapper.js'
import { normalizeEmail } from '../lib/email.js'
import { findUserByEmail, findUserById, updateUser } from '../users/users.repository.js'
import type { UserDto } from '../users/users.schemas.js'
import { consumeToken, findUsableToken, voidTokens } from '../tokens/one-time-tokens.repository.js'
import {
  afterPasswordChange, enqueueEmailVerifiedMail, enqueuePasswordResetRequest, enqueueWelcomeMail,
  issueOneTimeToken, linkTo
} from '../mail/account-mail.js'

export interface RecoveryServiceDeps {
  db: Db
  /** Records password resets and verified emails in the security trail. */
  audit?: AuditLog
  config: Config
  clock: Clock
  hasher: PasswordHasher
  /** The one way to revoke sessions (database, then every cache). */
  sessions: SessionRevocation
}

/** Tokens are base64url; anything else cannot be one of ours and costs no database work. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{20,128}$/

export type RecoveryService = ReturnType<typeof createRecoveryService>

export function createRecoveryService (deps: RecoveryServiceDeps) {
  const { db, config, clock, hasher, sessions, audit } = deps
  const limits = { minLength: config.password.minLength, maxLength: config.password.maxLength }

  return {
    /**
     * Queues a reset mail for an address and returns. Whether the address has an account is
     * decided later by the outbox sender, so known and unknown addresses cost this request the
     * same single insert: the answer and its timing reveal nothing.
     */
    async forgotPassword (email: string): Promise<void> {
      await enqueuePasswordResetRequest(db, { config, clock }, normalizeEmail(email))
    },

    /**
     * Renders a queued reset request: a fresh token (voiding older ones, so only the newest
     * link works) for an active account, nothing for an unknown or inactive address.
     */
    renderPasswordReset: (async (trx, row) => {
      const user = await findUserByEmail(trx, row.recipient)
      if (!user || user.is_active !== 1) return undefined
      await voidTokens(trx, user.id, 'password_reset', clock.now().toISOString())
      const token = await issueOneTimeToken(trx, { config, clock }, user, 'password_reset')
      return templates.password_reset({ name: user.name, resetUrl: linkTo(config, 'reset-password', token), ttlSeconds: config.tokens.resetTtlSeconds })
    }) satisfies DeferredRenderer,

    /**
     * Sets a new password from a reset token and ends every session of the user. The new
     * password is checked before the token is spent, so a refused password leaves the link
     * usable; the token is then spent atomically, so of concurrent uses exactly one succeeds.
     */
    async resetPassword (token: string, newPassword: string, client?: ClientInfo): Promise<void> {
      if (!TOKEN_SHAPE.test(token)) throw Errors.invalidOneTimeToken()
      const tokenHash = sha256(token)
      const found = await findUsableToken(db, tokenHash, 'password_reset', clock.now().toISOString())
      const user = found ? await findUserById(db, found.user_id) : undefined
      if (!found || !user || user.is_active !== 1) throw Errors.invalidOneTimeToken()
      const problem = passwordProblem(newPassword, { email: user.email, username: user.username }, limits)
      if (problem) throw Errors.weakPassword('new_password', problem)
      const hash = await hasher.hash(newPassword)

      await sessions.revokeUserSessions(user.id, async (trx) => {
        const now = clock.now().toISOString()
        const spent = await consumeToken(trx, tokenHash, 'password_reset', now)
        if (!spent) throw Errors.invalidOneTimeToken()
        const current = await findUserById(trx, spent.user_id)
        // Backstop for password changes made by paths that do not void tokens themselves: a
        // link older than the current password never works.
        if (!current || current.id !== user.id || current.is_active !== 1 || toDate(current.password_changed_at) > toDate(spent.created_at)) {
          throw Errors.invalidOneTimeToken()
        }
        // The link arrived by mail, which proves the address as well as a verification link does.
        const updated = await updateUser(trx, current.id, { password_hash: hash, password_changed_at: now, updated_at: now, is_verified: 1 })
        await afterPasswordChange(trx, { config, clock }, updated ?? current)
        await audit?.record(AuditEvents.passwordReset, { userId: user.id, ip: client?.ip, userAgent: client?.userAgent }, trx)
      })
    },

    /** Marks the address verified; the token only counts for the address it was sent to. */
    async verifyEmail (token: string, client?: ClientInfo): Promise<UserDto> {
      if (!TOKEN_SHAPE.test(token)) throw Errors.invalidOneTimeToken()
      const tokenHash = sha256(token)
      // Whose token it is, first: the change goes through the sessions module, which drops the
      // cached sessions of that user (they carry `is_verified`) after the commit.
      const found = await findUsableToken(db, tokenHash, 'email_verification', clock.now().toISOString())
      if (!found) throw Errors.invalidOneTimeToken()
      const user = await sessions.changeUser(found.user_id, async (trx) => {
        const now = clock.now().toISOString()
        const spent = await consumeToken(trx, tokenHash, 'email_verification', now)
        if (!spent || spent.user_id !== found.user_id) throw Errors.invalidOneTimeToken()
        const current = await findUserById(trx, spent.user_id)
        if (!current || current.email !== spent.email) throw Errors.invalidOneTimeToken()
        if (current.is_verified === 1) return current
        const updated = await updateUser(trx, current.id, { is_verified: 1, updated_at: now })
        await enqueueEmailVerifiedMail(trx, { config, clock }, updated ?? current)
        await audit?.record(AuditEvents.emailVerified, { userId: current.id, ip: client?.ip, userAgent: client?.userAgent }, trx)
        return updated ?? current
      })
      return toUser(user)
    },

    /** Sends a new verification link unless the address is already verified. */
    async resendVerification (userId: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const user = await findUserById(trx, userId)
        if (!user || user.is_verified === 1) return
        await enqueueWelcomeMail(trx, { config, clock }, user, 'verify_email')
      })
    }
  }
}
