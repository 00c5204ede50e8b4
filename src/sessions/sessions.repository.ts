import type { Insertable } from 'kysely'
import type { Db } from '../database.js'
import type { UserRow } from '../users/users.table.js'
import type { SessionRow, SessionsTable } from './sessions.table.js'

export async function insertSession (db: Db, values: Insertable<SessionsTable>): Promise<void> {
  await db.insertInto('sessions').values(values).execute()
}

export function findSession (db: Db, id: string): Promise<SessionRow | undefined> {
  return db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst()
}

/**
 * Rotates the refresh token in one atomic statement: only the request that still holds the
 * current hash matches the WHERE clause, so of N concurrent refreshes at most one wins.
 */
export async function rotateRefreshToken (db: Db, args: { id: string, oldHash: string, newHash: string, now: string, expiresAt: string, createdAfter: string, clientId?: string, defaultClientId?: string }): Promise<{ user_id: string, client_id?: string | null, amr: string | null | undefined } | undefined> {
  let query = db.updateTable('sessions')
    .set({ refresh_token_hash: args.newHash, previous_refresh_token_hash: args.oldHash, last_used_at: args.now, expires_at: args.expiresAt })
    .where('id', '=', args.id)
    .where('refresh_token_hash', '=', args.oldHash)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', args.now)
    .where('created_at', '>', args.createdAfter)
  const { clientId } = args
  if (clientId !== undefined) {
    // Sessions from before client ids were recorded (null) belong to the default client.
    query = query.where((eb) => clientId === args.defaultClientId
      ? eb.or([eb('client_id', '=', clientId), eb('client_id', 'is', null)])
      : eb('client_id', '=', clientId))
  }
  return query.returning(['user_id', 'client_id', 'amr']).executeTakeFirst()
}

export async function revokeSession (db: Db, id: string, now: string): Promise<boolean> {
  const result = await db.updateTable('sessions').set({ revoked_at: now })
    .where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

export async function revokeUserSessions (db: Db, userId: string, now: string): Promise<void> {
  await db.updateTable('sessions').set({ revoked_at: now })
    .where('user_id', '=', userId).where('revoked_at', 'is', null).execute()
}

export function listLiveSessions (db: Db, userId: string, now: string): Promise<SessionRow[]> {
  return db.selectFrom('sessions').selectAll()
    .where('user_id', '=', userId).where('revoked_at', 'is', null).where('expires_at', '>', now)
    .orderBy('created_at', 'desc').execute()
}

/** The session (if not revoked) joined with its user: the one query behind the revocation check. */
export async function findLiveSessionWithUser (db: Db, id: string): Promise<{ expiresAt: string | Date, user: UserRow } | undefined> {
  const row = await db.selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .selectAll('users')
    .select(['sessions.expires_at as session_expires_at'])
    .where('sessions.id', '=', id)
    .where('sessions.revoked_at', 'is', null)
    .executeTakeFirst()
  if (!row) return undefined
  const { session_expires_at: expiresAt, ...user } = row
  return { expiresAt, user }
}
