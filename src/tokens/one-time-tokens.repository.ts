import type { Db } from '../database.js'
import type { OneTimeTokenPurpose, OneTimeTokenRow } from './one-time-tokens.table.js'

export async function insertOneTimeToken (db: Db, row: OneTimeTokenRow): Promise<void> {
  await db.insertInto('one_time_tokens').values(row).execute()
}

/** The token if it is still usable, without using it (to validate a request before spending it). */
export function findUsableToken (db: Db, tokenHash: string, purpose: OneTimeTokenPurpose, now: string): Promise<OneTimeTokenRow | undefined> {
  return db.selectFrom('one_time_tokens').selectAll()
    .where('token_hash', '=', tokenHash).where('purpose', '=', purpose)
    .where('used_at', 'is', null).where('expires_at', '>', now)
    .executeTakeFirst()
}

/**
 * Spends a token in one atomic statement: only the first of concurrent requests matches
 * `used_at IS NULL`, so a token works exactly once.
 */
export function consumeToken (db: Db, tokenHash: string, purpose: OneTimeTokenPurpose, now: string): Promise<OneTimeTokenRow | undefined> {
  return db.updateTable('one_time_tokens').set({ used_at: now })
    .where('token_hash', '=', tokenHash).where('purpose', '=', purpose)
    .where('used_at', 'is', null).where('expires_at', '>', now)
    .returningAll()
    .executeTakeFirst()
}

/** Deletes tokens that expired or were spent before `before`: they can never work again. */
export async function deleteDeadTokens (db: Db, before: string): Promise<number> {
  const result = await db.deleteFrom('one_time_tokens')
    .where((eb) => eb.or([eb('expires_at', '<', before), eb('used_at', '<', before)]))
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}

/** Voids every unused token of a purpose (a voided token reads as used). */
export async function voidTokens (db: Db, userId: string, purpose: OneTimeTokenPurpose, now: string): Promise<void> {
  await db.updateTable('one_time_tokens').set({ used_at: now })
    .where('user_id', '=', userId).where('purpose', '=', purpose).where('used_at', 'is', null)
    .execute()
}
