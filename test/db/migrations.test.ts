import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createDb } from '../../src/db/create-db.js'
import { migrateDown, migrateToLatest, migrations } from '../../src/db/migrate.js'
import { createTestDatabaseUrl } from '../helpers/test-db.js'

test('migrations run up, all the way down, and up again', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const { db, close } = createDb(url)
  t.after(close)
  const count = Object.keys(migrations).length
  assert.equal((await migrateToLatest(db)).length, count)
  assert.equal((await migrateToLatest(db)).length, 0, 'idempotent')
  for (let i = 0; i < count; i++) await migrateDown(db)
  await assert.rejects(db.selectFrom('users').select('id').execute(), 'users is gone')
  assert.equal((await migrateToLatest(db)).length, count)
  const roles = await db.selectFrom('roles').select('slug').orderBy('slug').execute()
  assert.deepEqual(roles.map((r) => r.slug), ['admin', 'member'])
})
