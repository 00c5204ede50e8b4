import type { Db } from '../database.js'
import type { RoleRow } from './roles.table.js'

export function listRoles (db: Db): Promise<RoleRow[]> {
  return db.selectFrom('roles').selectAll().orderBy('created_at').orderBy('slug').execute()
}

export function findRole (db: Db, slug: string): Promise<RoleRow | undefined> {
  return db.selectFrom('roles').selectAll().where('slug', '=', slug).executeTakeFirst()
}

export async function insertRole (db: Db, role: RoleRow): Promise<RoleRow> {
  return db.insertInto('roles').values(role).returningAll().executeTakeFirstOrThrow()
}
