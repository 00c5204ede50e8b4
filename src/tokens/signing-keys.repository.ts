import type { Db } from '../database.js'
import type { SigningKeyRow } from './signing-keys.table.js'

export function listSigningKeys (db: Db): Promise<SigningKeyRow[]> {
  return db.selectFrom('signing_keys').selectAll().orderBy('created_at', 'desc').orderBy('kid', 'desc').execute()
}

export async function insertSigningKey (db: Db, row: SigningKeyRow): Promise<void> {
  await db.insertInto('signing_keys').values(row).execute()
}

export async function retireSigningKeysExcept (db: Db, kid: string, at: string): Promise<void> {
  await db.updateTable('signing_keys').set({ retired_at: at }).where('kid', '!=', kid).where('retired_at', 'is', null).execute()
}

export async function deleteSigningKeysRetiredBefore (db: Db, before: string): Promise<void> {
  await db.deleteFrom('signing_keys').where('retired_at', '<', before).execute()
}
