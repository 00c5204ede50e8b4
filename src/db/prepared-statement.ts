import type SQLite from 'better-sqlite3'
import { type Compilable, CompiledQuery, type Kysely } from 'kysely'
import pg from 'pg'
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

/** The named values of one call of a compiled statement. */
export type StatementArgs = Record<string, SqlValue>

/** Stands for the call's value of `name` while the query is built (see `compile`). */
export type Slot<Args extends StatementArgs> = <K extends keyof Args & string>(name: K) => Args[K]

/** A compiled statement: one call with its named values, in `trx` when given. */
export type CompiledStatement<Args extends StatementArgs, Row> = (args: Args, trx?: Kysely<any>) => Promise<Row[]>

export interface StatementPreparer {
  /** For the few statements that need a form of their own per database. */
  readonly dialect: 'sqlite' | 'postgres'
  prepare: <Row>(name: string, sql: string) => PreparedStatement<Row>
  /**
   * A statement written with Kysely's builder, built and compiled once (on first use), then
   * prepared like `prepare`'s. `build` writes the query with `slot(name)` wherever a call's
   * value goes; those values are bound per call, in the places Kysely compiled them to.
   * Values only: a slot must not decide the query's shape (an `in` list, `is null`).
   * Name the columns it returns, never `*`: PostgreSQL refuses to run a prepared `select *`
   * again once a migration (run by a newer instance, say) adds a column ("cached plan must
   * not change result type").
   */
  compile: <Args extends StatementArgs, Row>(name: string, build: (db: Kysely<any>, slot: Slot<Args>) => Compilable<Row>) => CompiledStatement<Args, Row>
  /**
   * SQLite only: a write made of prepared statements whose calls in one event-loop turn share
   * a commit (see sqlite-group-commit.ts). PostgreSQL commits each on its own connection.
   */
  readonly groupCommit?: SqliteGroupCommit
}

/**
 * Every column of `Row`, for a compiled statement's named select (see `compile`): a list that
 * misses one does not compile, so a column a migration adds cannot be forgotten here.
 *   const COLUMNS = columnsOf<MfaTotpRow>()(['user_id', 'secret', …])
 */
export function columnsOf<Row> () {
  return <const Columns extends ReadonlyArray<keyof Row & string>>(
    columns: Columns & ([Exclude<keyof Row, Columns[number]>] extends [never] ? unknown : { missing: Exclude<keyof Row, Columns[number]> })
  ): Columns => columns
}

/** A row of slots, one per column of a `columnsOf` list: an insert's values. */
export function slotsOf<Args extends StatementArgs> (slot: Slot<Args>, columns: ReadonlyArray<keyof Args & string>): Args {
  // Each column holds its slot's stand-in, which `compile` binds to the call's value.
  return Object.fromEntries(columns.map((column) => [column, slot(column)])) as unknown as Args
}

/**
 * A slot's stand-in while the query is built: a string no call's value is (a NUL, then the
 * name), so that Kysely treats it as one bound value, and only that.
 */
const SLOT_PREFIX = '\u0000slot:'

/**
 * Builds and compiles the query once with `db` (whose dialect decides the SQL), and returns
 * its text and how to lay one call's values out as its parameters.
 */
function compileOnce<Args extends StatementArgs> (db: Kysely<any>, build: (db: Kysely<any>, slot: Slot<Args>) => Compilable<unknown>): { sql: string, parameters: (args: Args) => SqlValue[] } {
  const compiled = build(db, ((name: string) => SLOT_PREFIX + name) as Slot<Args>).compile()
  const fill = compiled.parameters.map((value): (args: Args) => SqlValue => {
    if (typeof value === 'string' && value.startsWith(SLOT_PREFIX)) {
      const name = value.slice(SLOT_PREFIX.length)
      return (args) => {
        const given = args[name]
        if (given === undefined) throw new Error(`compiled statement: no value for ${name}`)
        return given
      }
    }
    // A constant of the query itself (a literal written into the builder).
    return () => value as SqlValue
  })
  return { sql: compiled.sql, parameters: (args) => fill.map((take) => take(args)) }
}

/**
 * SQLite: a better-sqlite3 statement, prepared on first use (after migrations). Kysely runs
 * everything on the one connection, one query at a time; a statement run directly between
 * two of its queries is the same as one more query, with one exception: inside an open
 * transaction it would become part of that transaction, and be rolled back with it. Then it
 * goes through Kysely, which queues it behind the transaction.
 */
export function sqlitePreparer (sqlite: SQLite.Database, db: Kysely<any>): StatementPreparer {
  function prepare<Row> (_name: string, sql: string): PreparedStatement<Row> {
    let statement: SQLite.Statement | undefined
    return async (params, trx) => {
      if (trx) return (await trx.executeQuery<Row>(CompiledQuery.raw(sql, params))).rows
      if (sqlite.inTransaction) return (await db.executeQuery<Row>(CompiledQuery.raw(sql, params))).rows
      statement ??= sqlite.prepare(sql)
      return statement.reader ? statement.all(...params) as Row[] : (statement.run(...params), [])
    }
  }
  return {
    dialect: 'sqlite',
    groupCommit: sqliteGroupCommit(sqlite),
    prepare,
    compile: (name, build) => compiled(db, build, (sql) => prepare(name, sql))
  }
}

/** `compile` on top of a dialect's `prepare`: compiled, and prepared, on first use. */
function compiled<Args extends StatementArgs, Row> (db: Kysely<any>, build: (db: Kysely<any>, slot: Slot<Args>) => Compilable<Row>, prepare: (sql: string) => PreparedStatement<Row>): CompiledStatement<Args, Row> {
  let statement: { run: PreparedStatement<Row>, parameters: (args: Args) => SqlValue[] } | undefined
  return async (args, trx) => {
    if (!statement) {
      const { sql, parameters } = compileOnce(db, build)
      statement = { run: prepare(sql), parameters }
    }
    return await statement.run(statement.parameters(args), trx)
  }
}

/**
 * Errors PostgreSQL reports about a statement's data or its concurrency, after which its
 * connection and its prepared statements are in order: invalid data (22), a constraint (23),
 * a deadlock or serialization failure (40), a lock not available (55P03), a cancelled or
 * timed-out statement (57014).
 */
const CONNECTION_INTACT = /^(22|23|40|55P03|57014)/

/**
 * Errors that make a named statement unusable on its connection, for good: a migration changed
 * the type of a column it returns ("cached plan must not change result type", 0A000), or the
 * statement is gone (26000, a pooler's DISCARD ALL). Raised before the statement runs, so
 * running it again elsewhere cannot apply it twice.
 */
const STALE_STATEMENT = new Set(['0A000', '26000'])

function sqlState (error: unknown): string | undefined {
  return error instanceof pg.DatabaseError ? error.code : undefined
}

/**
 * PostgreSQL: a named prepared statement (pg parses and plans it once per pooled connection,
 * then sends only Bind/Execute). Outside any Kysely transaction: it takes its own connection
 * from the pool (`connect`, with the pool's bounded wait, as Kysely's queries do) and commits
 * on its own, as a single statement does.
 */
export function postgresPreparer (connect: () => Promise<pg.PoolClient>, db: Kysely<any>): StatementPreparer {
  /** `text` with PostgreSQL's own placeholders (`$1, $2, …`). */
  function named<Row> (name: string, text: string): PreparedStatement<Row> {
    /** Named, or unnamed (parsed for this call only) when `name` is undefined. */
    async function run (statementName: string | undefined, params: SqlValue[]): Promise<Row[]> {
      const client = await connect()
      try {
        const rows = (await client.query({ name: statementName, text, values: params })).rows as Row[]
        client.release()
        return rows
      } catch (error) {
        // A refusal about the data or a conflict leaves the connection in order: it goes back
        // to the pool, as Kysely's connections do, rather than costing a new connection and new
        // prepared statements. Anything else (the socket, the server ending the session, a
        // statement gone stale) may have left it unusable: it is discarded.
        client.release(CONNECTION_INTACT.test(sqlState(error) ?? '') ? undefined : error as Error)
        throw error
      }
    }
    return async (params, trx) => {
      if (trx) return (await trx.executeQuery<Row>(CompiledQuery.raw(text, params))).rows
      try {
        return await run(name, params)
      } catch (error) {
        if (!STALE_STATEMENT.has(sqlState(error) ?? '')) throw error
        // Its connection was discarded. Every other pooled connection that prepared it is stale
        // too, and is discarded on its own first failure; the call itself, parsed afresh, works.
        return await run(undefined, params)
      }
    }
  }
  return {
    dialect: 'postgres',
    prepare<Row>(name: string, sql: string): PreparedStatement<Row> {
      let n = 0
      return named<Row>(name, sql.replace(/\?/g, () => `$${++n}`))
    },
    // Kysely's PostgreSQL compiler already numbers the placeholders.
    compile: (name, build) => compiled(db, build, (text) => named(name, text))
  }
}
