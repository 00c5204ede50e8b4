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
  await db.insertInto('audit_events').values({
    id: newId(),
    type: event.type,
    actor_id: event.actorId ?? null,
    user_id: event.userId ?? null,
    ip: event.ip ?? null,
    user_agent: event.userAgent?.slice(0, 512) ?? null,
    details: event.details ? JSON.stringify(event.details) : null,
    created_at: event.at.toISOString()
  }).execute()
}
