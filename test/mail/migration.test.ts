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
  // On PostgreSQL introspection lists every schema's tables: keep this database's own.
  const schema = usePostgres ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(handle.db)).rows[0]!.schema : undefined
  const tables = async () => (await handle.db.introspection.getTables())
    .filter((table) => schema === undefined || table.schema === schema).map((table) => table.name)
  assert.ok((await tables()).includes('mail_outbox'))
  const down = await migrateDown(handle.db)
  assert.deepEqual(down.map((r) => [r.migrationName, r.status]), [['0003_mail', 'Success']])
  assert.ok(!(await tables()).includes('mail_outbox'))
  assert.ok(!(await tables()).includes('one_time_tokens'))
  const up = await migrateToLatest(handle.db)
  assert.deepEqual(up.map((r) => r.migrationName), ['0003_mail'])
  assert.ok((await tables()).includes('one_time_tokens'))
})
