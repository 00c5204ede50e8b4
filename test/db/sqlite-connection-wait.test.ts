import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import SQLite from 'better-sqlite3'
import { sql } from 'kysely'
import { createDb } from '../../src/db/create-db.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { isDatabaseUnavailable } from '../../src/lib/outage.js'

/** A migrated SQLite database of this test's own, whose connection wait is `poolTimeoutMs`. */
async function openSqlite (t: TestContext, poolTimeoutMs: number) {
  const dir = mkdtempSync(join(tmpdir(), 'authd-wait-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'auth.db')
  const handle = createDb(`sqlite:${path}`, { timeouts: { connectTimeoutMs: 5000, poolTimeoutMs, statementTimeoutMs: 0 } })
  t.after(() => handle.close())
  await migrateToLatest(handle.db)
  return Object.assign(handle, { path })
}

test('SQLite: a query that waits for the one connection past DATABASE_POOL_TIMEOUT_MS fails as an outage, and the connection is free again', async (t) => {
  const handle = await openSqlite(t, 200)
  const count = async () => Number((await handle.db.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)

  // The mistake this bounds: inside a transaction, a query through `db` instead of `trx`
  // waits for the connection the transaction holds, which waits for it in turn.
  const started = Date.now()
  const outcome = await handle.db.transaction().execute(async () => count()).then(() => 'answered', (error: unknown) => error)
  assert.ok(isDatabaseUnavailable(outcome), `an outage error, got ${String(outcome)}`)
  assert.ok(Date.now() - started < 3000, 'within the bound, not forever')

  // The transaction rolled back and the connection came back: the next queries run.
  assert.equal(await count(), 0)
  assert.equal(await handle.db.transaction().execute(async (trx) => Number((await trx.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)), 0)
})

test('SQLite: queries queued behind a transaction that finishes in time all run', async (t) => {
  const handle = await openSqlite(t, 2000)
  const slow = handle.db.transaction().execute(async (trx) => {
    await new Promise((resolve) => setTimeout(resolve, 100))
    return trx.selectFrom('users').selectAll().execute()
  })
  const queued = Array.from({ length: 20 }, () => handle.db.selectFrom('users').selectAll().execute())
  const results = await Promise.all([slow, ...queued])
  assert.equal(results.length, 21)
})

test('SQLite: a transaction that reads and then writes is not undone by another process\'s commit in between (BEGIN IMMEDIATE)', async (t) => {
  // The CLI and the server are two processes on one file. A deferred transaction reads on a
  // snapshot; once another process commits, its first write fails with SQLITE_BUSY_SNAPSHOT,
  // which busy_timeout does not wait out. An immediate one holds the write lock from its start:
  // the other process waits for it (here, with no busy_timeout, it is told busy at once).
  const handle = await openSqlite(t, 2000)
  const other = new SQLite(handle.path)
  t.after(() => other.close())
  other.pragma('busy_timeout = 0')
  other.exec('create table probe (n integer)')

  let othersWrite: unknown = 'not tried'
  await handle.db.transaction().execute(async (trx) => {
    await trx.selectFrom('users').select('id').execute()
    try {
      other.prepare('insert into probe (n) values (1)').run()
      othersWrite = 'committed'
    } catch (error) {
      othersWrite = (error as { code?: string }).code
    }
    await sql`insert into probe (n) values (2)`.execute(trx)
  })
  assert.equal(othersWrite, 'SQLITE_BUSY', 'the other process could not commit inside the transaction')
  assert.deepEqual(other.prepare('select n from probe order by n').pluck().all(), [2])
  other.prepare('insert into probe (n) values (3)').run()
  assert.deepEqual(other.prepare('select n from probe order by n').pluck().all(), [2, 3], 'and can once it has committed')
})
