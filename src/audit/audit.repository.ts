import type { Db } from '../database.js'
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

/** Appends one event to the security trail. Pass the transaction of the action it records. */
export async function recordAuditEvent (db: Db, event: AuditEventInput): Promise<void> {
  await db.insertInto('audit_events').values(toAuditRow(event)).execute()
}

/** Appends several events in one statement (a bulk import's batch), in the caller's transaction. */
export async function recordAuditEvents (db: Db, events: AuditEventInput[]): Promise<void> {
  if (events.length === 0) return
  await db.insertInto('audit_events').values(events.map(toAuditRow)).execute()
}

function toAuditRow (event: AuditEventInput) {
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
