import type { Db } from '../database.js'
import { toIso } from '../lib/clock.js'
import { type AuditFilter, listAuditEvents } from './audit-query.repository.js'
import type { AuditEventRow } from './audit.table.js'

function toDto (row: AuditEventRow) {
  let details: Record<string, unknown> | null = null
  if (row.details !== null) {
    try {
      details = JSON.parse(row.details) as Record<string, unknown>
    } catch {
      details = null
    }
  }
  return {
    id: row.id,
    type: row.type,
    user_id: row.user_id,
    actor_id: row.actor_id,
    ip: row.ip,
    user_agent: row.user_agent,
    details,
    created_at: toIso(row.created_at)
  }
}

export type AuditReader = ReturnType<typeof createAuditReader>

/** The admin's view of the audit trail. */
export function createAuditReader (db: Db) {
  return {
    async list (filter: AuditFilter) {
      const { items, total } = await listAuditEvents(db, filter)
      return { items: items.map(toDto), total, limit: filter.limit, offset: filter.offset }
    }
  }
}
