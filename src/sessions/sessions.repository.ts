import type { Db } from '../database.js'
import { columnsOf, slotsOf, type SqlValue, type StatementPreparer } from '../db/prepared-statement.js'
import { batchPerTurn, fulfilled } from '../db/turn-batch.js'
import type { UserRow } from '../users/users.table.js'
import type { SessionRow } from './sessions.table.js'

/** A new session's row: every column but `revoked_at` (a new session is live). */
export type NewSession = {
  id: string
  user_id: string
  client_id: string
  refresh_token_hash: string
  created_at: string
  last_used_at: string
  expires_at: string
  ip: string | null
  user_agent: string | null
  amr: string
}

const NEW_SESSION_COLUMNS = columnsOf<NewSession>()(['id', 'user_id', 'client_id', 'refresh_token_hash', 'created_at', 'last_used_at', 'expires_at', 'ip', 'user_agent', 'amr'])

/**
 * The statements every sign-in makes (by password, second step or passkey): the new session,
 * and the per-user cap's look-up. Built and compiled once per database.
 */
export function sessionOpeningStatements (statements: StatementPreparer) {
  const insert = statements.compile<NewSession, never>('authd_insert_session', (db, slot) => db.insertInto('sessions')
    .values({ ...slotsOf(slot, NEW_SESSION_COLUMNS), revoked_at: null }))
  const beyond = statements.compile<{ userId: string, now: string, keep: number }, { id: string }>('authd_live_sessions_beyond', (db, slot) => db.selectFrom('sessions').select('id')
    .where('user_id', '=', slot('userId')).where('revoked_at', 'is', null).where('expires_at', '>', slot('now'))
    .orderBy('created_at', 'desc').orderBy('id', 'desc')
    .limit(1_000_000).offset(slot('keep')))
  return {
    /** In `trx` when given (a sign-in that verifies more in the same transaction). */
    async insertSession (row: NewSession, trx?: Db): Promise<void> {
      await insert(row, trx)
    },

    /** Ids of the user's live sessions past the `keep` newest (oldest first), for the per-user cap. */
    async liveSessionsBeyond (userId: string, keep: number, now: string): Promise<string[]> {
      return (await beyond({ userId, now, keep })).map((r) => r.id).reverse()
    }
  }
}

export function findSession (db: Db, id: string): Promise<SessionRow | undefined> {
  return db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst()
}

export interface RefreshRotation { id: string, oldHash: string, newHash: string, now: string, expiresAt: string, createdAfter: string, clientId?: string, defaultClientId?: string }

type RotatedSession = { user_id: string, client_id: string | null, amr: string | null }

// The rotation's conditions: the current hash, live, within both lifetimes, and for the client
// the token was issued to (sessions from before client ids were recorded, null, belong to the
// default client). SQLite's form; BATCH_ROTATION_SQL states the same per input row.
const ROTATION_WHERE = 'id = ? and refresh_token_hash = ? and revoked_at is null and expires_at > ? and created_at > ? ' +
  'and (cast(? as text) is null or client_id = ? or (client_id is null and cast(? as text) = cast(? as text)))'

const PG_DEADLOCK = '40P01'

/**
 * PostgreSQL: the rotations of one event-loop turn in one statement, one round trip and one
 * commit. Each input row carries its own conditions, as ROTATION_WHERE does for one. Two rows
 * for one session (two refreshes of one token in the same turn) join the same session row:
 * PostgreSQL updates a row once per statement, with one of them, so exactly one wins and the
 * other finds its token rotated out, as if it had come a moment later. The plan walks the
 * input in order (a nested loop over it), which the caller sorts by session id, so the row
 * locks of two batches are taken in one order.
 */
const BATCH_ROTATION_SQL = 'with input as (select * from unnest(cast(? as text[]), cast(? as text[]), cast(? as text[]), ' +
  'cast(? as timestamptz[]), cast(? as timestamptz[]), cast(? as timestamptz[]), cast(? as text[]), cast(? as text[]), cast(? as int[])) ' +
  'as input(id, old_hash, new_hash, now, expires_at, created_after, client_id, default_client_id, n)), ' +
  'rotated as (update sessions set refresh_token_hash = input.new_hash, last_used_at = input.now, expires_at = input.expires_at from input ' +
  'where sessions.id = input.id and sessions.refresh_token_hash = input.old_hash and sessions.revoked_at is null ' +
  'and sessions.expires_at > input.now and sessions.created_at > input.created_after ' +
  'and (input.client_id is null or sessions.client_id = input.client_id or (sessions.client_id is null and input.default_client_id = input.client_id)) ' +
  'returning input.n, input.old_hash, input.now, sessions.id, sessions.user_id, sessions.client_id, sessions.amr), ' +
  'remembered as (insert into rotated_refresh_tokens (token_hash, session_id, rotated_at) select old_hash, id, now from rotated) ' +
  'select n, user_id, client_id, amr from rotated'

/**
 * Rotates the refresh token: only the request that still holds the current hash matches the
 * WHERE clause (PostgreSQL re-checks it after waiting for a concurrent rotation's row lock),
 * so of N concurrent refreshes at most one wins. The hash rotated out joins the session's
 * family atomically with the rotation, so once the new hash is visible the old one is known
 * as rotated out too, and a loser that then looks for its token in the family finds it.
 *
 * Prepared once, no query built per refresh. On PostgreSQL one statement does both (a
 * data-modifying WITH: the update and the insert commit together), one round trip as a
 * named prepared statement, for all the refreshes of one event-loop turn (see
 * BATCH_ROTATION_SQL); SQLite has no such WITH, so there the two run in a savepoint of
 * their own, in a transaction that the refreshes of one event-loop turn share (group commit).
 */
export function prepareRefreshRotation (statements: StatementPreparer, db: Db): (args: RefreshRotation) => Promise<RotatedSession | undefined> {
  const params = (args: RefreshRotation): SqlValue[] => {
    const clientId = args.clientId ?? null
    return [args.newHash, args.now, args.expiresAt, args.id, args.oldHash, args.now, args.createdAfter, clientId, clientId, clientId, args.defaultClientId ?? null]
  }
  const toRotated = (row: RotatedSession | undefined): RotatedSession | undefined =>
    row ? { user_id: row.user_id, client_id: row.client_id ?? null, amr: row.amr ?? null } : undefined
  if (statements.dialect === 'postgres') {
    const rotateAll = statements.prepare<RotatedSession & { n: number }>('authd_rotate_refresh_tokens', BATCH_ROTATION_SQL)
    const rotateBatch = async (batch: RefreshRotation[]): Promise<Array<RotatedSession | undefined>> => {
      // Sorted by session id, so two batches (two instances) lock shared sessions in one order.
      const order = batch.map((args, i) => ({ args, n: i + 1 })).sort((a, b) => a.args.id < b.args.id ? -1 : a.args.id > b.args.id ? 1 : 0)
      const column = <V extends string | null>(pick: (args: RefreshRotation) => V): V[] => order.map(({ args }) => pick(args))
      const rows = await rotateAll([
        column((a) => a.id), column((a) => a.oldHash), column((a) => a.newHash), column((a) => a.now), column((a) => a.expiresAt),
        column((a) => a.createdAfter), column((a) => a.clientId ?? null), column((a) => a.defaultClientId ?? null), order.map(({ n }) => n)
      ])
      const results: Array<RotatedSession | undefined> = batch.map(() => undefined)
      for (const row of rows) results[row.n - 1] = toRotated(row)
      return results
    }
    return batchPerTurn(async (batch: RefreshRotation[]) => {
      try {
        return fulfilled(await rotateBatch(batch))
      } catch (error) {
        // Should PostgreSQL still report a deadlock, each call is retried on its own.
        if (batch.length === 1 || (error as { code?: unknown }).code !== PG_DEADLOCK) throw error
        return Promise.allSettled(batch.map(async (args) => (await rotateBatch([args]))[0]))
      }
    })
  }
  const rotateSql = 'update sessions set refresh_token_hash = ?, last_used_at = ?, expires_at = ? where ' + ROTATION_WHERE + ' returning user_id, client_id, amr'
  const rememberSql = 'insert into rotated_refresh_tokens (token_hash, session_id, rotated_at) values (?, ?, ?)'
  const rotate = statements.prepare<RotatedSession>('authd_rotate_refresh_token', rotateSql)
  const remember = statements.prepare('authd_remember_rotated_token', rememberSql)
  const inKyselyTransaction = (args: RefreshRotation): Promise<RotatedSession | undefined> => db.transaction().execute(async (trx) => {
    const [row] = await rotate(params(args), trx)
    if (row) await remember([args.oldHash, args.id, args.now], trx)
    return toRotated(row)
  })
  if (!statements.groupCommit) return inKyselyTransaction
  // The refreshes of one event-loop turn share a commit; each still rotates and remembers
  // atomically (its own savepoint).
  return statements.groupCommit<RefreshRotation, RotatedSession | undefined>([rotateSql, rememberSql], ([rotateStatement, rememberStatement], args) => {
    const row = rotateStatement!.get(...params(args)) as RotatedSession | undefined
    if (row) rememberStatement!.run(args.oldHash, args.id, args.now)
    return toRotated(row)
  }, inKyselyTransaction)
}

/**
 * True when `tokenHash` is a refresh token this session issued and rotated out. Looked up by
 * the hash (the primary key) and then compared with the session: a hash is 256 bits, so an
 * equality lookup reveals nothing a constant-time comparison would hide.
 */
export async function wasRotatedOut (db: Db, sessionId: string, tokenHash: string): Promise<boolean> {
  const row = await db.selectFrom('rotated_refresh_tokens').select('session_id')
    .where('token_hash', '=', tokenHash).executeTakeFirst()
  return row?.session_id === sessionId
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

/** The session whose current refresh token has this hash, revoked or not. */
export function findSessionByRefreshHash (db: Db, id: string, refreshTokenHash: string): Promise<SessionRow | undefined> {
  return db.selectFrom('sessions').selectAll()
    .where('id', '=', id).where('refresh_token_hash', '=', refreshTokenHash)
    .executeTakeFirst()
}

/**
 * Deletes sessions that ended (expired or revoked) before `before`, with their rotated-out
 * tokens (foreign key cascade). Run by the periodic housekeeping; a dead session's refresh
 * tokens are refused whether or not its row still exists.
 */
export async function deleteDeadSessions (db: Db, before: string): Promise<number> {
  const result = await db.deleteFrom('sessions')
    .where((eb) => eb.or([eb('expires_at', '<', before), eb('revoked_at', '<', before)]))
    .executeTakeFirst()
  return Number(result.numDeletedRows)
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

/** Records how a session has been verified (RFC 8176 `amr` values, space-separated). */
export async function setSessionAmr (db: Db, sessionId: string, amr: string): Promise<void> {
  await db.updateTable('sessions').set({ amr }).where('id', '=', sessionId).execute()
}
