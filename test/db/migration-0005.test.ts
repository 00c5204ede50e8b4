import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sql } from 'kysely'
import { migrateDown, migrateToLatest } from '../../src/db/migrate.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { createTestDatabaseUrl, usePostgres } from '../helpers/test-db.js'

test('0005_security migrates up, down and up again', async (t) => {
  const db = openDirectDb(t, await createTestDatabaseUrl(t))
  await migrateToLatest(db)
  // PostgreSQL: other test schemas have a sessions table too; look at ours only.
  const schema = usePostgres ? (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]!.s : undefined
  const columns = async () => (await db.introspection.getTables()).find((table) => table.name === 'sessions' && table.schema === schema)!.columns.map((c) => c.name)
  assert.ok((await columns()).includes('previous_refresh_token_hash'))
  const down = await migrateDown(db)
  assert.equal(down[0]?.migrationName, '0005_security')
  assert.ok(!(await columns()).includes('previous_refresh_token_hash'))
  await migrateToLatest(db)
  assert.ok((await columns()).includes('previous_refresh_token_hash'))
})
