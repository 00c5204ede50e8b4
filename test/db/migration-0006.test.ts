import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sql } from 'kysely'
import { migrateDown, migrateToLatest } from '../../src/db/migrate.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { createTestDatabaseUrl } from '../helpers/test-db.js'

test('0006_refresh_token_family migrates up, down and up again, carrying the rotated-out hashes', async (t) => {
  const db = openDirectDb(t, await createTestDatabaseUrl(t))
  await migrateToLatest(db)
  let down = await migrateDown(db)
  while (down[0] !== undefined && down[0].migrationName !== '0006_refresh_token_family') down = await migrateDown(db)
  assert.equal(down[0]?.migrationName, '0006_refresh_token_family')
  // A session as 0005 left it: one rotated-out hash in its column.
  const now = new Date().toISOString()
  await sql`insert into users (id, email, username, username_lower, password_hash, role, password_changed_at, created_at, updated_at)
    values ('u1', 'a@example.com', 'alice', 'alice', 'x', 'member', ${now}, ${now}, ${now})`.execute(db)
  await sql`insert into sessions (id, user_id, refresh_token_hash, previous_refresh_token_hash, created_at, last_used_at, expires_at)
    values ('s1', 'u1', 'current-hash', 'previous-hash', ${now}, ${now}, ${now})`.execute(db)
  await migrateToLatest(db)
  const family = await sql<{ token_hash: string, session_id: string }>`select token_hash, session_id from rotated_refresh_tokens`.execute(db)
  assert.deepEqual(family.rows, [{ token_hash: 'previous-hash', session_id: 's1' }])
  // Deleting the session deletes its family.
  await sql`delete from sessions where id = 's1'`.execute(db)
  assert.equal((await sql`select token_hash from rotated_refresh_tokens`.execute(db)).rows.length, 0)
})
