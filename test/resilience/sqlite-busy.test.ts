/**
 * SQLite locked by another process past the busy timeout: 503, not 500.
 * @see issue 15, item 3
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import SQLite from 'better-sqlite3'
import { buildTestAppWithDatabase } from '../helpers/build-test-app.js'
import { signUp, uniqueEmail, uniqueUsername, PASSWORD } from '../helpers/factories.js'
import { usePostgres } from '../helpers/test-db.js'

test('a write while another connection holds the SQLite file locked answers 503 service_unavailable, then works', { skip: usePostgres ? 'SQLite only' : false }, async (t) => {
  const { app, databaseUrl } = await buildTestAppWithDatabase(t, { DATABASE_STATEMENT_TIMEOUT_MS: '200' })
  await signUp(app)
  // Another process's connection (the operator CLI, say) holding the write lock.
  const other = new SQLite(databaseUrl.slice('sqlite:'.length))
  t.after(() => other.close())
  other.exec('BEGIN EXCLUSIVE')
  const payload = { email: uniqueEmail(), username: uniqueUsername(), password: PASSWORD }
  const blocked = await app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload })
  assert.equal(blocked.statusCode, 503, blocked.body)
  assert.deepEqual(blocked.json(), { detail: 'Service temporarily unavailable', code: 'service_unavailable' })
  assert.ok(blocked.headers['retry-after'])
  other.exec('ROLLBACK')
  // Nothing half-written: the same sign-up now succeeds.
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload })).statusCode, 201)
})
