import type { Insertable } from 'kysely'
import type { Db } from '../database.js'
import type { UserRow, UsersTable } from './users.table.js'

/**
 * Inserts a batch in one statement; rows whose email or username is already taken are
 * skipped (not an error that would lose the rest of the batch). Returns the rows inserted.
 */
export async function insertUsersSkippingTaken (db: Db, rows: Array<Insertable<UsersTable>>): Promise<UserRow[]> {
  if (rows.length === 0) return []
  return db.insertInto('users').values(rows)
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .execute()
}
