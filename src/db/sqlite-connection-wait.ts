import { CompiledQuery, type DatabaseConnection, type Driver, SqliteDialect, type SqliteDialectConfig } from 'kysely'
import { DatabaseUnavailableError } from '../lib/outage.js'

/**
 * Kysely's SQLite dialect with a bound on the wait for its one connection, as the pool timeout
 * bounds the wait for a PostgreSQL connection. Queries queue for the connection while a
 * transaction holds it; past `waitMs` the query fails as an outage (503) instead of waiting
 * without end. A query that waits for its own transaction (a write through `db` from inside
 * `db.transaction()`) would otherwise hang that request and every request after it: with the
 * bound, it fails, the transaction rolls back and the connection is free again.
 *
 * Its transactions begin IMMEDIATE, taking the write lock first. A deferred transaction that
 * reads, then writes after another process (the CLI beside the server) has committed, fails at
 * once with SQLITE_BUSY_SNAPSHOT, which `busy_timeout` does not wait out; an immediate one waits
 * for the lock up to `busy_timeout` and then sees the newest data. In this process the one
 * connection already runs one transaction at a time, so nothing is serialised that was not.
 */
export class BoundedWaitSqliteDialect extends SqliteDialect {
  constructor (config: SqliteDialectConfig, private readonly waitMs: number) {
    super(config)
  }

  override createDriver (): Driver {
    const driver = super.createDriver()
    const acquire = driver.acquireConnection.bind(driver)
    const waitMs = this.waitMs
    driver.acquireConnection = async (): Promise<DatabaseConnection> => {
      const acquired = acquire()
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new DatabaseUnavailableError(`no SQLite connection within ${waitMs} ms (DATABASE_POOL_TIMEOUT_MS)`)), waitMs)
      })
      try {
        return await Promise.race([acquired, timeout])
      } catch (error) {
        // Given up on: hand the connection back as soon as it comes, or it is lost for good.
        void acquired.then(async (connection) => { await driver.releaseConnection(connection) })
        throw error
      } finally {
        clearTimeout(timer)
      }
    }
    driver.beginTransaction = async (connection): Promise<void> => {
      await connection.executeQuery(CompiledQuery.raw('begin immediate'))
    }
    return driver
  }
}
