import type { FastifyBaseLogger } from 'fastify'
import type { Db } from '../database.js'
import type { StatementPreparer } from '../db/prepared-statement.js'
import type { Clock } from '../lib/clock.js'
import { deleteAuditEventsBefore } from './audit-query.repository.js'
import type { AuditEventType } from './audit-events.js'
import { auditEventStatement } from './audit.repository.js'

export { AuditEvents, type AuditEventType } from './audit-events.js'

/** Who performs an administrative action: a superuser over HTTP, or the operator CLI. */
export interface Actor {
  /** The acting superuser; null for the operator CLI, which has the database itself. */
  userId: string | null
  ip: string | null
  userAgent: string | null
}

export interface AuditContext {
  userId?: string | null
  actorId?: string | null
  ip?: string | null
  userAgent?: string | null
  /** Event facts; never a password, hash or token. */
  details?: Record<string, unknown>
}

export interface AuditLog {
  /**
   * Appends an event. With `trx`, the event is part of the action's transaction: it commits
   * with the action or not at all, and a failing write fails the action. Without one (only for
   * events that have no write of their own to join: a refused sign-in, a lockout), a failing
   * audit write is logged and the answer stands, so an audit outage cannot lock everyone out.
   */
  record: (type: AuditEventType, context: AuditContext, trx?: Db) => Promise<void>
  /** Deletes events older than the retention period; returns how many. */
  prune: () => Promise<number>
}

export function createAuditLog (deps: { db: Db, statements: StatementPreparer, clock: Clock, log: FastifyBaseLogger, retentionDays: number }): AuditLog {
  const { db, clock, log, retentionDays } = deps
  const recordAuditEvent = auditEventStatement(deps.statements)
  return {
    async record (type, context, trx) {
      if (trx) {
        await recordAuditEvent({ type, ...context, at: clock.now() }, trx)
        return
      }
      try {
        await recordAuditEvent({ type, ...context, at: clock.now() })
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
