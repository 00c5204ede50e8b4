import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sql } from 'kysely'
import { migrateDown, migrateToLatest } from '../../src/db/migrate.js'
import { buildAdminApp, createUser } from '../helpers/admin.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { signUp } from '../helpers/factories.js'

test('list totals follow creations, sign-ups, (de)activations and deletions, also across a migration down and up', async (t) => {
  const { app, admin, databaseUrl } = await buildAdminApp(t)
  const db = openDirectDb(t, databaseUrl)
  const totals = async () => {
    const get = async (q: string) => (await app.inject({ method: 'GET', url: `/api/v1/users${q}`, headers: admin.headers })).json().total as number
    return { all: await get(''), active: await get('?is_active=true'), inactive: await get('?is_active=false') }
  }
  const truth = async () => {
    const rows = await db.selectFrom('users').select(['is_active']).execute()
    const active = rows.filter((r) => r.is_active === 1).length
    return { all: rows.length, active, inactive: rows.length - active }
  }

  const a = await createUser(app, admin.headers)
  await createUser(app, admin.headers, { is_active: false })
  await signUp(app)
  await Promise.all(Array.from({ length: 5 }, () => signUp(app)))
  assert.deepEqual(await totals(), { all: 9, active: 8, inactive: 1 })

  await app.inject({ method: 'PATCH', url: `/api/v1/users/${a.user.id}`, headers: admin.headers, payload: { is_active: false } })
  await app.inject({ method: 'PATCH', url: `/api/v1/users/${a.user.id}`, headers: admin.headers, payload: { name: 'still inactive' } })
  assert.deepEqual(await totals(), { all: 9, active: 7, inactive: 2 })
  await app.inject({ method: 'PATCH', url: `/api/v1/users/${a.user.id}`, headers: admin.headers, payload: { is_active: true } })
  await app.inject({ method: 'DELETE', url: `/api/v1/users/${a.user.id}`, headers: admin.headers })
  assert.deepEqual(await totals(), await truth())
  assert.deepEqual(await totals(), { all: 8, active: 7, inactive: 1 })

  // Down past 0004 (which creates the counters and the search index) and up again rebuilds
  // both from the rows.
  const applied = async () => (await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db)).rows.map((r) => r.name)
  while ((await applied()).some((name) => name >= '0004')) await migrateDown(db)
  assert.ok(!(await applied()).includes('0004_user_search'))
  await assert.rejects(sql`select count from user_counts`.execute(db))
  await migrateToLatest(db)
  assert.ok((await applied()).includes('0004_user_search'))
  const counts = await sql<{ is_active: number, count: number | string }>`select is_active, count from user_counts order by is_active`.execute(db)
  assert.deepEqual(counts.rows.map((r) => Number(r.count)), [1, 7])
  const found = await app.inject({ method: 'GET', url: `/api/v1/users?search=${'root-'}`, headers: admin.headers })
  assert.equal(found.json().total, 1)
})
