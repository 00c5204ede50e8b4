import type SQLite from 'better-sqlite3'

/**
 * The better-sqlite3 handle as Kysely's SqliteDialect sees it, with prepared statements reused.
 * Kysely prepares every query anew, and preparing (parsing and planning) costs more than running
 * the indexed look-ups and updates of the hot paths. The SQL text is the key: parameters are
 * bound per call. Kysely runs one query at a time on its one SQLite connection (and holds it for
 * the whole of a streamed query), so a cached statement is never used by two queries at once.
 */
export function withStatementCache (database: SQLite.Database, max = 500): { prepare: (sql: string) => SQLite.Statement, close: () => void } {
  const statements = new Map<string, SQLite.Statement>()
  return {
    prepare (sql) {
      let statement = statements.get(sql)
      if (!statement) {
        statement = database.prepare(sql)
        // Generated SQL with varying shapes (multi-row inserts) could grow this without end.
        if (statements.size >= max) statements.clear()
        statements.set(sql, statement)
      }
      return statement
    },
    close () {
      statements.clear()
      database.close()
    }
  }
}
