import type { Insertable } from 'kysely'
import type { Db } from '../database.js'
import type { UsersTable } from './users.table.js'

/**
 * Inserts a batch in one statement; rows whose email or username is already taken are
 * skipped (not an error that would lose the rest of the batch). Returns the emails inserted.
 */
export async function insertUsersSkippingTaken (db: Db, rows: Array<Insertable<UsersTable>>): Promise<Set<string>> {
  if (rows.length === 0) return new Set()
  const inserted = await db.insertInto('users').values(rows)
    .onConflict((oc) => oc.doNothing())
    .returning('email')
    .execute()
  return new Set(inserted.map((row) => row.email))
}
