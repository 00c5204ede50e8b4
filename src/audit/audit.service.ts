import type { FastifyBaseLogger } from 'fastify'
import type { Db } from '../db/database.js'
import type { Clock } from '../lib/clock.js'
import { deleteAuditEventsBefore } from './audit-query.repository.js'
import { recordAuditEvent } from './audit.repository.js'

/** The event types the service records; stable strings, filterable by `type`. */
export const AuditEvents = {
  signinSuccess: 'signin.success',
  signinFailure: 'signin.failure',
  /** A sign-in refused by the rate limits (per IP or per account): the lockout. */
  signinLockedOut: 'signin.locked_out',
  logout: 'logout',
  logoutAll: 'logout.all',
  sessionRevoked: 'session.revoked',
  refreshReuseDetected: 'refresh.reuse_detected',
  passwordChanged: 'password.changed',
  /** For the recovery flows: record with `audit.record(AuditEvents.passwordReset, …)`. */
  passwordReset: 'password.reset',
  emailVerified: 'email.verified',
  // Two-step verification and passkeys
  mfaEnabled: 'mfa.enabled',
  mfaDisabled: 'mfa.disabled',
  /** A wrong code at the second step or while managing the factor. */
  mfaCodeFailed: 'mfa.code_failed',
  mfaRecoveryCodeUsed: 'mfa.recovery_code_used',
  mfaRecoveryCodesRegenerated: 'mfa.recovery_codes_regenerated',
  passkeyAdded: 'passkey.added',
  passkeyRenamed: 'passkey.renamed',
  passkeyRemoved: 'passkey.removed',
  /** Every passkey sign-in attempt, with `details.outcome`. */
  passkeySignin: 'passkey.signin',
  adminMfaReset: 'admin.user.mfa_reset',
  /** Admin actions use `admin.<resource>.<action>`, e.g. `admin.user.update`, with `actorId`. */
  adminPrefix: 'admin.'
} as const

export interface AuditContext {
  userId?: string | null
  actorId?: string | null
  ip?: string | null
  userAgent?: string | null
  /** Event facts; never a password, hash or token. */
  details?: Record<string, unknown>
}

export interface AuditLog {
  /** Appends an event. Never throws: a failing audit write is logged, the action it records stands. */
  record: (type: string, context: AuditContext) => Promise<void>
  /** Deletes events older than the retention period; returns how many. */
  prune: () => Promise<number>
}

export function createAuditLog (deps: { db: Db, clock: Clock, log: FastifyBaseLogger, retentionDays: number }): AuditLog {
  const { db, clock, log, retentionDays } = deps
  return {
    async record (type, context) {
      try {
        await recordAuditEvent(db, { type, ...context, at: clock.now() })
      } catch (error) {
        log.error({ err: error, auditType: type }, 'audit event not recorded')
      }
    },
    async prune () {
      if (retentionDays <= 0) return 0
      return deleteAuditEventsBefore(db, new Date(clock.now().getTime() - retentionDays * 86_400_000).toISOString())
    }
  }
}

/** Prunes at start and then every hour; returns the stop function for onClose. */
export function scheduleAuditRetention (audit: AuditLog, log: FastifyBaseLogger, intervalMs = 3_600_000): { firstRun: Promise<void>, stop: () => void } {
  const run = () => audit.prune().then((count) => {
    if (count > 0) log.info({ count }, 'expired audit events deleted')
  }, (error: unknown) => { log.warn({ err: error }, 'audit retention failed') })
  const timer = setInterval(() => { run().catch(() => {}) }, intervalMs)
  timer.unref()
  return { firstRun: run(), stop: () => clearInterval(timer) }
}
