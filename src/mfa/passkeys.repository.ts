import type { Db } from '../database.js'
import type { PasskeyRow, WebauthnChallengePurpose } from './passkeys.table.js'

export async function insertWebauthnChallenge (db: Db, row: { challengeHash: string, purpose: WebauthnChallengePurpose, userId: string | null, now: string, expiresAt: string }): Promise<void> {
  await db.insertInto('webauthn_challenges').values({
    challenge_hash: row.challengeHash,
    purpose: row.purpose,
    user_id: row.userId,
    created_at: row.now,
    expires_at: row.expiresAt
  }).execute()
}

/**
 * Takes a challenge, once: the delete is the check, so of concurrent requests with the same
 * challenge exactly one gets it (on every instance: it lives in the database). True only for
 * a live challenge of this purpose (and user, for a registration).
 */
export async function takeWebauthnChallenge (db: Db, args: { challengeHash: string, purpose: WebauthnChallengePurpose, userId: string | null, now: string }): Promise<boolean> {
  let query = db.deleteFrom('webauthn_challenges')
    .where('challenge_hash', '=', args.challengeHash)
    .where('purpose', '=', args.purpose)
  query = args.userId === null ? query.where('user_id', 'is', null) : query.where('user_id', '=', args.userId)
  const taken = await query.returning(['expires_at']).executeTakeFirst()
  return taken !== undefined && new Date(taken.expires_at).getTime() > new Date(args.now).getTime()
}

export async function deleteDeadWebauthnChallenges (db: Db, before: string): Promise<number> {
  const result = await db.deleteFrom('webauthn_challenges').where('expires_at', '<', before).executeTakeFirst()
  return Number(result.numDeletedRows)
}

export async function insertPasskey (db: Db, row: PasskeyRow): Promise<void> {
  await db.insertInto('passkeys').values(row).execute()
}

export function listPasskeys (db: Db, userId: string): Promise<PasskeyRow[]> {
  return db.selectFrom('passkeys').selectAll().where('user_id', '=', userId).orderBy('created_at', 'asc').orderBy('id', 'asc').execute()
}

export function findPasskeyByCredentialId (db: Db, credentialId: string): Promise<PasskeyRow | undefined> {
  return db.selectFrom('passkeys').selectAll().where('credential_id', '=', credentialId).executeTakeFirst()
}

export function renamePasskey (db: Db, userId: string, id: string, name: string): Promise<PasskeyRow | undefined> {
  return db.updateTable('passkeys').set({ name }).where('id', '=', id).where('user_id', '=', userId).returningAll().executeTakeFirst()
}

export async function deletePasskey (db: Db, userId: string, id: string): Promise<boolean> {
  const result = await db.deleteFrom('passkeys').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst()
  return Number(result.numDeletedRows) > 0
}

/**
 * Stores the counter of a verified assertion, only if the stored one is still the one the
 * verification compared against: two concurrent assertions cannot both move it.
 */
export async function advancePasskeyCounter (db: Db, id: string, expected: number, next: number, now: string): Promise<boolean> {
  const result = await db.updateTable('passkeys').set({ counter: next, last_used_at: now })
    .where('id', '=', id).where('counter', '=', expected).executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}
