import { newId } from '../lib/crypto.js'
import { type Insertable, PostgresAdapter, sql, type Updateable } from 'kysely'
import type { Db } from '../database.js'
import { columnsOf, type StatementPreparer } from '../db/prepared-statement.js'
import type { UserRow, UsersTable } from './users.table.js'

export interface NewUser {
  email: string
  username: string
  name?: string | null | undefined
  passwordHash: string
  role?: string
  isActive?: boolean
  isSuperuser?: boolean
  isVerified?: boolean
  isPrimary?: boolean
  /** ISO-8601 time of creation (also the first password change). */
  now: string
}

/** The row of a new account: one place for the defaults and the case-insensitive username copy. */
export function newUserRow (user: NewUser): Insertable<UsersTable> {
  return {
    id: newId(),
    email: user.email,
    username: user.username,
    username_lower: user.username.toLowerCase(),
    name: user.name ?? null,
    password_hash: user.passwordHash,
    role: user.role ?? 'member',
    is_active: user.isActive === false ? 0 : 1,
    is_superuser: user.isSuperuser === true ? 1 : 0,
    is_verified: user.isVerified === true ? 1 : 0,
    is_primary: user.isPrimary === true ? 1 : 0,
    password_changed_at: user.now,
    created_at: user.now,
    updated_at: user.now
  }
}

// Named, never `*`: see StatementPreparer.compile.
const USER_COLUMNS = columnsOf<UserRow>()([
  'id', 'email', 'username', 'username_lower', 'name', 'password_hash', 'role', 'is_active', 'is_superuser',
  'is_verified', 'is_primary', 'mfa_enabled', 'password_changed_at', 'created_at', 'updated_at'
])

/**
 * The user look-ups of the sign-in paths (password, second step, passkey), compiled once per
 * database: the same rows as `findUserById` and `findUserByEmail`, without building the query
 * on every attempt. Other callers, and any transaction, use those two.
 */
export function signInUserLookups (statements: StatementPreparer) {
  const byId = statements.compile<{ id: string }, UserRow>('authd_user_by_id',
    (db, slot) => db.selectFrom('users').select(USER_COLUMNS).where('id', '=', slot('id')))
  const byEmail = statements.compile<{ email: string }, UserRow>('authd_user_by_email',
    (db, slot) => db.selectFrom('users').select(USER_COLUMNS).where('email', '=', slot('email')))
  return {
    async userById (id: string): Promise<UserRow | undefined> {
      return (await byId({ id }))[0]
    },
    /** `email` normalised (normalizeEmail), as stored. */
    async userByEmail (email: string): Promise<UserRow | undefined> {
      return (await byEmail({ email }))[0]
    }
  }
}

/**
 * In `trx`: true while `passwordHash` (the hash a sign-in just verified) is still the user's.
 * What a password opens (a session, a second step) is written in the same transaction, so a
 * password change commits either before (then false) or after, when it revokes or voids what
 * was opened. On PostgreSQL the row is locked `for share`: a change in flight is waited for,
 * and the check sees its result; on SQLite, write transactions run one at a time.
 */
export async function passwordStillCurrent (trx: Db, userId: string, passwordHash: string): Promise<boolean> {
  let current = trx.selectFrom('users').select('id').where('id', '=', userId).where('password_hash', '=', passwordHash)
  if (trx.getExecutor().adapter instanceof PostgresAdapter) current = current.forShare()
  return (await current.executeTakeFirst()) !== undefined
}

/**
 * Replaces the hash of a successful sign-in with a stronger one, only if it is still the hash
 * that was verified: the user's row as written, or undefined when another write (a concurrent
 * upgrade, a password change) came first.
 */
export function upgradePasswordHash (db: Db, id: string, verifiedHash: string, newHash: string): Promise<UserRow | undefined> {
  return db.updateTable('users').set({ password_hash: newHash }).where('id', '=', id).where('password_hash', '=', verifiedHash).returningAll().executeTakeFirst()
}

export function findUserById (db: Db, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()
}

export function findUserByEmail (db: Db, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst()
}

export async function insertUser (db: Db, values: Insertable<UsersTable>): Promise<UserRow> {
  return db.insertInto('users').values(values).returningAll().executeTakeFirstOrThrow()
}

export function updateUser (db: Db, id: string, values: Updateable<UsersTable>): Promise<UserRow | undefined> {
  return db.updateTable('users').set(values).where('id', '=', id).returningAll().executeTakeFirst()
}

export async function deleteUser (db: Db, id: string): Promise<boolean> {
  const result = await db.deleteFrom('users').where('id', '=', id).executeTakeFirst()
  return Number(result.numDeletedRows) > 0
}

export type UserSortColumn = 'created_at' | 'email' | 'username' | 'name'

export interface UserListQuery {
  limit: number
  offset: number
  /** Case-insensitive substring of email, username or name. */
  search?: string | undefined
  sort: UserSortColumn
  order: 'asc' | 'desc'
  isActive?: boolean | undefined
  mfaEnabled?: boolean | undefined
}

/** Sort keys, each ending in a unique column so pages never overlap or skip rows. */
const SORT_KEYS: Record<UserSortColumn, Array<'created_at' | 'email' | 'username_lower' | 'name' | 'id'>> = {
  created_at: ['created_at', 'id'],
  email: ['email'],
  username: ['username_lower'],
  name: ['name', 'id']
}

/** `%`, `_` and the escape character itself match literally in the search term. */
function likePattern (term: string): string {
  return `%${term.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}

/** The shortest term a trigram index can serve; shorter ones are matched by a scan. */
const TRIGRAM = 3

function filtered (db: Db, query: Pick<UserListQuery, 'search' | 'isActive' | 'mfaEnabled'>) {
  let select = db.selectFrom('users')
  if (query.isActive !== undefined) select = select.where('users.is_active', '=', query.isActive ? 1 : 0)
  if (query.mfaEnabled !== undefined) select = select.where('users.mfa_enabled', '=', query.mfaEnabled ? 1 : 0)
  const term = query.search
  if (term !== undefined && term !== '') {
    const pattern = likePattern(term)
    const like = sql<boolean>`(users.email like ${pattern} escape '\\' or users.username_lower like ${pattern} escape '\\' or lower(users.name) like ${pattern} escape '\\')`
    if (db.getExecutor().adapter instanceof PostgresAdapter) {
      // GIN trigram indexes on these very expressions (migration 0004) serve the LIKEs.
      select = select.where(like)
    } else {
      if ([...term].length >= TRIGRAM) {
        // The FTS5 trigram index narrows to candidates; the LIKE then keeps the meaning of a
        // search identical for short and long terms.
        const phrase = `"${term.replace(/"/g, '""')}"`
        select = select.where(sql<boolean>`users.rowid in (select rowid from users_search where users_search match ${phrase})`)
      }
      select = select.where(like)
    }
  }
  return select
}

/** Without a search, the number of users comes from the counters kept by triggers. */
async function countMatching (db: Db, query: UserListQuery): Promise<number> {
  // The counters know is_active only: a filter on mfa_enabled is counted by the query.
  if ((query.search === undefined || query.search === '') && query.mfaEnabled === undefined) {
    let select = db.selectFrom('user_counts').select((eb) => eb.fn.sum<number | string | null>('count').as('count'))
    // Always through the primary key: the two rows are updated so often that the table's
    // pages may hold many dead versions (e.g. after a bulk import), which a scan would read.
    select = select.where('is_active', 'in', query.isActive === undefined ? [0, 1] : [query.isActive ? 1 : 0])
    const { count } = await select.executeTakeFirstOrThrow()
    return Number(count ?? 0)
  }
  const { count } = await filtered(db, query)
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .executeTakeFirstOrThrow()
  return Number(count)
}

/**
 * The column a page is first located by: one the sort's index covers (every index also holds
 * the row's key: the id on PostgreSQL where the index includes it, the rowid on SQLite), so
 * skipping `offset` rows reads the index only, and just the page's rows are fetched whole.
 */
const PAGE_KEY: Record<UserSortColumn, 'id' | 'email' | 'username_lower'> = {
  created_at: 'id',
  email: 'email',
  username: 'username_lower',
  name: 'id'
}

/**
 * One page of users and the number of users matching the filters. A page past the middle is
 * read from the other end of the index, so the last pages cost as little as the first.
 */
export async function listUsers (db: Db, query: UserListQuery): Promise<{ rows: UserRow[], total: number }> {
  const total = await countMatching(db, query)
  if (query.offset >= total) return { rows: [], total }

  const keys = SORT_KEYS[query.sort]
  const pageKey = PAGE_KEY[query.sort]
  const take = Math.min(query.limit, total - query.offset)
  const reverse = query.offset > total / 2
  const direction = reverse === (query.order === 'asc') ? 'desc' : 'asc'
  const skip = reverse ? total - query.offset - take : query.offset
  let page: Array<{ key: string }>
  if (query.search && db.getExecutor().adapter instanceof PostgresAdapter) {
    // With a search, PostgreSQL estimates the matches poorly (~300 whatever the term) and, for
    // a small LIMIT, would walk the sort index testing every row against the LIKEs: a second
    // for a rare term. `offset 0` fences the search off as a subquery of its own, planned with
    // the trigram indexes; its matches (already counted above) are then sorted.
    const columns = [...new Set([pageKey, ...keys])].map((c) => sql.ref(`users.${c}`))
    const matches = filtered(db, query).select(columns.map((c) => c as never)).offset(0).as('matches')
    let fenced = db.selectFrom(matches).select(sql<string>`${sql.ref(`matches.${pageKey}`)}`.as('key'))
    for (const key of keys) fenced = fenced.orderBy(sql.ref(`matches.${key}`), direction)
    page = await fenced.limit(take).offset(skip).execute()
  } else {
    let select = filtered(db, query).select(`users.${pageKey} as key`)
    for (const key of keys) select = select.orderBy(`users.${key}`, direction)
    page = await select.limit(take).offset(skip).execute()
  }
  if (page.length === 0) return { rows: [], total }
  const wanted = page.map((r) => r.key)
  if (reverse) wanted.reverse()
  const rows = await db.selectFrom('users').selectAll().where(pageKey, 'in', wanted).execute()
  const byKey = new Map(rows.map((row) => [row[pageKey], row]))
  // A row deleted between the two reads is simply left out of the page.
  return { rows: wanted.flatMap((key) => byKey.get(key) ?? []), total }
}

export function findPrimaryUser (db: Db): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('is_primary', '=', 1).executeTakeFirst()
}
