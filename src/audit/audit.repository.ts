import type { Db } from '../database.js'
import { columnsOf, slotsOf, type StatementPreparer } from '../db/prepared-statement.js'
import { newId } from '../lib/crypto.js'
import type { AuditEventType } from './audit-events.js'

export interface AuditEventInput {
  type: AuditEventType
  actorId?: string | null
  userId?: string | null
  ip?: string | null
  userAgent?: string | null
  details?: Record<string, unknown>
  at: Date
}

type AuditRow = { id: string, type: string, actor_id: string | null, user_id: string | null, ip: string | null, user_agent: string | null, details: string | null, created_at: string }
const AUDIT_ROW_COLUMNS = columnsOf<AuditRow>()(['id', 'type', 'actor_id', 'user_id', 'ip', 'user_agent', 'details', 'created_at'])

/** Appends one event to the security trail. Pass the transaction of the action it records. */
export async function recordAuditEvent (db: Db, event: AuditEventInput): Promise<void> {
  await db.insertInto('audit_events').values(toAuditRow(event)).execute()
}

/**
 * `recordAuditEvent` compiled once per database, for the audit log, which every sign-in
 * writes to: no query building per event.
 */
export function auditEventStatement (statements: StatementPreparer): (event: AuditEventInput, trx?: Db) => Promise<void> {
  const insert = statements.compile<AuditRow, never>('authd_insert_audit_event', (db, slot) => db.insertInto('audit_events')
    .values(slotsOf(slot, AUDIT_ROW_COLUMNS)))
  return async (event, trx) => {
    await insert(toAuditRow(event), trx)
  }
}

/** Appends several events in one statement (a bulk import's batch), in the caller's transaction. */
export async function recordAuditEvents (db: Db, events: AuditEventInput[]): Promise<void> {
  if (events.length === 0) return
  await db.insertInto('audit_events').values(events.map(toAuditRow)).execute()
}

function toAuditRow (event: AuditEventInput): AuditRow {
  return {
    id: newId(),
    type: event.type,
    actor_id: event.actorId ?? null,
    user_id: event.userId ?? null,
    ip: event.ip ?? null,
    user_agent: event.userAgent?.slice(0, 512) ?? null,
    details: event.details ? JSON.stringify(event.details) : null,
    created_at: event.at.toISOString()
  }
}
