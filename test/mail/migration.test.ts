import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sql } from 'kysely'
import { createDb } from '../../src/db/create-db.js'
import { migrateDown, migrateToLatest } from '../../src/db/migrate.js'
import { createTestDatabaseUrl, usePostgres } from '../helpers/test-db.js'

test('the mail migration runs up, down and up again', async (t) => {
  const handle = createDb(await createTestDatabaseUrl(t))
  t.after(() => handle.close())
  await migrateToLatest(handle.db)
  // This connection's own schema only: other test schemas hold the same tables.
  const tables = async () => usePostgres
    ? (await sql<{ name: string }>`select tablename as name from pg_catalog.pg_tables where schemaname = current_schema()`.execute(handle.db)).rows.map((r) => r.name)
    : (await handle.db.introspection.getTables()).map((table) => table.name)
  assert.ok((await tables()).includes('mail_outbox'))
  // Step down until 0003 is undone (later migrations go first).
  const undone: string[] = []
  while (!undone.includes('0003_mail')) {
    const down = await migrateDown(handle.db)
    assert.equal(down.length, 1)
    assert.equal(down[0]!.status, 'Success')
    undone.push(down[0]!.migrationName)
  }
  assert.ok(!(await tables()).includes('mail_outbox'))
  assert.ok(!(await tables()).includes('one_time_tokens'))
  const up = await migrateToLatest(handle.db)
  assert.deepEqual(up.map((r) => r.migrationName), undone.reverse())
  assert.ok((await tables()).includes('one_time_tokens'))
})
