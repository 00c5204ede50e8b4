import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import SQLite from 'better-sqlite3'
import { Kysely, type PostgresPool } from 'kysely'
import pg from 'pg'
import type { DatabaseTimeouts } from '../config/index.js'
import { CurrentSchemaPostgresDialect } from './current-schema-introspector.js'
import type { Database, Db, Dialect } from '../database.js'
import { DatabaseUnavailableError, describeError } from '../lib/outage.js'
import { DatabaseStartupError } from './errors.js'
import { BoundedWaitSqliteDialect } from './sqlite-connection-wait.js'
import { withStatementCache } from './sqlite-statement-cache.js'
import { postgresPreparer, sqlitePreparer, type StatementPreparer } from './prepared-statement.js'

export interface PoolState { total: number, idle: number, waiting: number }

export interface DatabaseHandle {
  db: Db
  dialect: Dialect
  close: () => Promise<void>
  /** Statements of the hot paths, prepared once (see prepared-statement.ts). */
  statements: StatementPreparer
  /**
   * Resolves once the database answers; rejects with a `DatabaseStartupError` naming
   * `DATABASE_URL` (and the timeout variable) otherwise. Called once at start-up.
   */
  verify: () => Promise<void>
  /** PostgreSQL only: connections in the pool, idle ones, and queries waiting for one. */
  poolState?: () => PoolState
  /**
   * SQLite only: a number that changes whenever another connection (another process, such as
   * the operator CLI) commits to the database file. Cheap enough to call on every request.
   */
  externalChangeCounter?: () => number
}

export interface CreateDbOptions {
  timeouts?: DatabaseTimeouts
  /**
   * Told about a pooled PostgreSQL connection that the server ended while idle (restart,
   * failover, `pg_terminate_backend`). The pool has already dropped it and opens a new one on
   * the next query; without a listener this event would end the process.
   */
  onConnectionError?: (error: Error) => void
}

/**
 * For callers without a server's configuration (operator CLI, benches, scripts): bounded waits
 * for a connection, but no statement limit, since a migration or a bulk import may run long.
 */
export const DEFAULT_DATABASE_TIMEOUTS: DatabaseTimeouts = { connectTimeoutMs: 5000, poolTimeoutMs: 5000, statementTimeoutMs: 0 }

const INT8_OID = 20

/** Opens the database named by `DATABASE_URL`: `sqlite:PATH` (embedded) or `postgres://…`. */
export function createDb (url: string, options: CreateDbOptions = {}): DatabaseHandle {
  const timeouts = options.timeouts ?? DEFAULT_DATABASE_TIMEOUTS
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length), timeouts)

  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    connectionTimeoutMillis: timeouts.connectTimeoutMs,
    // The server cancels a statement that runs too long (57014); query_timeout is the client's
    // own limit for a server that does not answer at all (frozen, or a network that drops
    // packets), a little later so that the server's cleaner cancellation comes first.
    ...(timeouts.statementTimeoutMs > 0
      ? { statement_timeout: timeouts.statementTimeoutMs, query_timeout: timeouts.statementTimeoutMs + 1000 }
      : {}),
    // count(*) and other bigint results as numbers: our counts stay far below 2^53.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser
    }
  })
  const reportConnectionError = options.onConnectionError ?? (() => {})
  // An idle pooled client ended by the server: pg-pool drops it and re-emits here.
  pool.on('error', reportConnectionError)
  // A client checked out but between queries (inside a transaction, say) when its connection
  // drops emits 'error' on itself: its next query fails (and the request answers 503), and
  // pg-pool discards it on release since it is no longer queryable. The listener only keeps
  // the event from being unhandled, which would end the process.
  pool.on('connect', (client) => { client.on('error', () => {}) })

  // Kysely's queries and the prepared statements wait for a connection under the same bound.
  const bounded = boundedPool(pool, timeouts.poolTimeoutMs)
  const db = new Kysely<Database>({ dialect: new CurrentSchemaPostgresDialect({ pool: bounded }) })
  const target = describeTarget(url)
  return {
    db,
    dialect: 'postgres',
    close: () => db.destroy(),
    statements: postgresPreparer(bounded.connect, db),
    async verify () {
      try {
        const client = await pool.connect()
        client.release()
      } catch (error) {
        const timedOut = /timeout/i.test(describeError(error))
        throw new DatabaseStartupError('DATABASE_URL', timedOut
          ? `cannot connect to PostgreSQL at ${target}: no answer within ${timeouts.connectTimeoutMs} ms (DATABASE_CONNECT_TIMEOUT_MS)`
          : `cannot connect to PostgreSQL at ${target}: ${describeError(error)}`)
      }
    },
    poolState: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount })
  }
}

/**
 * pg-pool's own timer bounds the wait for a slot and the connection attempt together; this
 * puts the bound of `DATABASE_POOL_TIMEOUT_MS` on the whole of it, whatever the pool is doing.
 * A connection that arrives after the caller gave up goes straight back to the pool.
 */
function boundedPool (pool: pg.Pool, timeoutMs: number): PostgresPool & { connect: () => Promise<pg.PoolClient> } {
  return {
    connect: () => new Promise<pg.PoolClient>((resolve, reject) => {
      let gaveUp = false
      const timer = setTimeout(() => {
        gaveUp = true
        reject(new DatabaseUnavailableError(`no database connection within ${timeoutMs} ms (DATABASE_POOL_TIMEOUT_MS)`))
      }, timeoutMs)
      pool.connect().then((client) => {
        clearTimeout(timer)
        if (gaveUp) client.release()
        else resolve(client)
      }, (error: unknown) => {
        clearTimeout(timer)
        if (!gaveUp) reject(error)
      })
    }),
    end: () => pool.end()
  }
}

/** host:port/database, never the user name or password. */
function describeTarget (url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`
  } catch {
    return 'the configured address'
  }
}

function openSqlite (path: string, timeouts: DatabaseTimeouts): DatabaseHandle {
  let sqlite: SQLite.Database
  try {
    if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true })
    sqlite = new SQLite(path)
    // WAL lets readers run during a write. NORMAL: a commit survives a crash of the process,
    // and a power loss can roll back the last few seconds of commits; FULL would fsync every
    // commit (about 3 ms here) with the event loop blocked. README "SQLite durability" says
    // what a power loss can lose and why NORMAL is the default.
    sqlite.pragma('journal_mode = WAL')
  } catch (error) {
    throw new DatabaseStartupError('DATABASE_URL', `cannot open sqlite file ${path}: ${describeError(error)}`)
  }
  sqlite.pragma('synchronous = NORMAL')
  sqlite.pragma('foreign_keys = ON')
  // How long a statement waits for another connection's lock before SQLITE_BUSY (a 503). The
  // wait blocks the event loop (better-sqlite3 is synchronous), hence at most 5 s.
  const busyTimeoutMs = timeouts.statementTimeoutMs > 0 ? Math.min(timeouts.statementTimeoutMs, 5000) : 5000
  sqlite.pragma(`busy_timeout = ${busyTimeoutMs}`)
  const db = new Kysely<Database>({ dialect: new BoundedWaitSqliteDialect({ database: withStatementCache(sqlite) }, timeouts.poolTimeoutMs) })
  const dataVersion = sqlite.prepare('PRAGMA data_version').pluck()
  // The pragma costs about 10 µs: read it at most once a millisecond, so under load one
  // request in many pays for it, and a change by another process is seen within 1 ms.
  let version = dataVersion.get() as number
  let readAt = performance.now()
  const externalChangeCounter = (): number => {
    const now = performance.now()
    if (now - readAt >= 1) {
      version = dataVersion.get() as number
      readAt = now
    }
    return version
  }
  return { db, dialect: 'sqlite', close: () => db.destroy(), statements: sqlitePreparer(sqlite, db), verify: async () => {}, externalChangeCounter }
}
