import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sql } from 'kysely'
import { migrateDown, migrateToLatest } from '../../src/db/migrate.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { createTestDatabaseUrl, usePostgres } from '../helpers/test-db.js'

test('0005_security migrates up, down and up again', async (t) => {
  const db = openDirectDb(t, await createTestDatabaseUrl(t))
  await migrateToLatest(db)
  // The catalogue of this connection's own schema (other test schemas have a sessions table too).
  const columns = async () => usePostgres
    ? (await sql<{ name: string }>`select column_name as name from information_schema.columns where table_schema = current_schema() and table_name = 'sessions'`.execute(db)).rows.map((c) => c.name)
    : (await sql<{ name: string }>`select name from pragma_table_info('sessions')`.execute(db)).rows.map((c) => c.name)
  assert.ok((await columns()).includes('previous_refresh_token_hash'))
  // Later migrations are reverted first; stop once 0005 itself has gone down.
  let reverted: string | undefined
  while (reverted !== '0005_security') {
    const down = await migrateDown(db)
    assert.ok(down.length > 0, '0005_security was never reverted')
    reverted = down[0]?.migrationName
  }
  assert.ok(!(await columns()).includes('previous_refresh_token_hash'))
  await migrateToLatest(db)
  assert.ok((await columns()).includes('previous_refresh_token_hash'))
})
