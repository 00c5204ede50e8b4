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
  // Later migrations are reverted first; 0006_refresh_token_family drops the column again
  // (its hashes move to rotated_refresh_tokens), so the column is checked once that is down.
  const revertUntil = async (name: string): Promise<void> => {
    let reverted: string | undefined
    while (reverted !== name) {
      const down = await migrateDown(db)
      assert.ok(down.length > 0, `${name} was never reverted`)
      reverted = down[0]?.migrationName
    }
  }
  await revertUntil('0006_refresh_token_family')
  assert.ok((await columns()).includes('previous_refresh_token_hash'))
  await revertUntil('0005_security')
  assert.ok(!(await columns()).includes('previous_refresh_token_hash'))
  await migrateToLatest(db)
  assert.ok(!(await columns()).includes('previous_refresh_token_hash'))
})
