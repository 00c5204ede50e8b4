import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import SQLite from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import pg from 'pg'
import { CurrentSchemaPostgresDialect } from './current-schema-introspector.js'
import type { Database, Db, Dialect } from '../database.js'
import { withStatementCache } from './sqlite-statement-cache.js'

export interface DatabaseHandle {
  db: Db
  dialect: Dialect
  close: () => Promise<void>
  /**
   * SQLite only: a number that changes whenever another connection (another process, such as
   * the operator CLI) commits to the database file. Cheap enough to call on every request.
   */
  externalChangeCounter?: () => number
}

const INT8_OID = 20

/** Opens the database named by `DATABASE_URL`: `sqlite:PATH` (embedded) or `postgres://…`. */
export function createDb (url: string): DatabaseHandle {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length)
    if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true })
    const sqlite = new SQLite(path)
    // WAL lets readers run during a write; NORMAL sync is durable across process crashes in WAL mode.
    sqlite.pragma('journal_mode = WAL')
    sqlite.pragma('synchronous = NORMAL')
    sqlite.pragma('foreign_keys = ON')
    sqlite.pragma('busy_timeout = 5000')
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) })
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
    return { db, dialect: 'sqlite', close: () => db.destroy(), externalChangeCounter }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    // count(*) and other bigint results as numbers: our counts stay far below 2^53.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser
    }
  })
  const db = new Kysely<Database>({ dialect: new CurrentSchemaPostgresDialect({ pool }) })
  return { db, dialect: 'postgres', close: () => db.destroy() }
}
