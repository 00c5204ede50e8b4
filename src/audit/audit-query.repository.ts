import type { Db } from '../database.js'
import type { AuditEventRow } from './audit.table.js'

export interface AuditFilter { userId?: string | undefined, type?: string | undefined, limit: number, offset: number }

/** Newest first; `total` counts every event matching the filter. */
export async function listAuditEvents (db: Db, filter: AuditFilter): Promise<{ items: AuditEventRow[], total: number }> {
  let query = db.selectFrom('audit_events')
  if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId)
  if (filter.type !== undefined) query = query.where('type', '=', filter.type)
  const [items, count] = await Promise.all([
    query.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).offset(filter.offset).execute(),
    query.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow()
  ])
  return { items, total: Number(count.total) }
}

export async function deleteAuditEventsBefore (db: Db, before: string): Promise<number> {
  const result = await db.deleteFrom('audit_events').where('created_at', '<', before).executeTakeFirst()
  return Number(result.numDeletedRows)
}
