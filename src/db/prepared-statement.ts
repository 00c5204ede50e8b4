import type SQLite from 'better-sqlite3'
import { CompiledQuery, type Kysely } from 'kysely'
import type pg from 'pg'
import { type SqliteGroupCommit, sqliteGroupCommit } from './sqlite-group-commit.js'

/** A parameter; arrays (PostgreSQL only) bind as PostgreSQL arrays, for `unnest`. */
export type SqlValue = string | number | null | ReadonlyArray<string | number | null>

/**
 * One SQL statement of a hot path, prepared once per database and run without building a
 * query: Kysely's builder and compiler cost more per call than the indexed statements of
 * those paths. The text uses `?` placeholders (rewritten to `$1, $2, …` for PostgreSQL) and
 * must be portable SQL; it returns the rows (of its RETURNING clause, if any).
 *
 * Given a transaction, it runs in it, on its connection, still without building a query: on
 * SQLite through Kysely's statement cache (prepared once), on PostgreSQL as an unnamed
 * statement on the transaction's client (parsed per call, but no builder or compiler).
 */
export type PreparedStatement<Row> = (params: SqlValue[], trx?: Kysely<any>) => Promise<Row[]>

export interface StatementPreparer {
  /** For the few statements that need a form of their own per database. */
  readonly dialect: 'sqlite' | 'postgres'
  prepare: <Row>(name: string, sql: string) => PreparedStatement<Row>
  /**
   * SQLite only: a write made of prepared statements whose calls in one event-loop turn share
   * a commit (see sqlite-group-commit.ts). PostgreSQL commits each on its own connection.
   */
  readonly groupCommit?: SqliteGroupCommit
}

/**
 * SQLite: a better-sqlite3 statement, prepared on first use (after migrations). Kysely runs
 * everything on the one connection, one query at a time; a statement run directly between
 * two of its queries is the same as one more query, with one exception: inside an open
 * transaction it would become part of that transaction, and be rolled back with it. Then it
 * goes through Kysely, which queues it behind the transaction.
 */
export function sqlitePreparer (sqlite: SQLite.Database, db: Kysely<any>): StatementPreparer {
  return {
    dialect: 'sqlite',
    groupCommit: sqliteGroupCommit(sqlite),
    prepare<Row>(_name: string, sql: string): PreparedStatement<Row> {
      let statement: SQLite.Statement | undefined
      return async (params, trx) => {
        if (trx) return (await trx.executeQuery<Row>(CompiledQuery.raw(sql, params))).rows
        if (sqlite.inTransaction) return (await db.executeQuery<Row>(CompiledQuery.raw(sql, params))).rows
        statement ??= sqlite.prepare(sql)
        return statement.reader ? statement.all(...params) as Row[] : (statement.run(...params), [])
      }
    }
  }
}

/**
 * PostgreSQL: a named prepared statement (pg parses and plans it once per pooled connection,
 * then sends only Bind/Execute). Outside any Kysely transaction: it takes its own connection
 * from the pool and commits on its own, as a single statement does.
 */
export function postgresPreparer (pool: pg.Pool): StatementPreparer {
  return {
    dialect: 'postgres',
    prepare<Row>(name: string, sql: string): PreparedStatement<Row> {
      let n = 0
      const text = sql.replace(/\?/g, () => `$${++n}`)
      return async (params, trx) => trx
        ? (await trx.executeQuery<Row>(CompiledQuery.raw(text, params))).rows
        : (await pool.query({ name, text, values: params })).rows as Row[]
    }
  }
}
