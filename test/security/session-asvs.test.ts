import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { bearer, cookiesOf, PASSWORD, signUp } from '../helpers/factories.js'
import { createTestDatabaseUrl } from '../helpers/test-db.js'

// ASVS V2.4 / V3.2–V3.5 checks that SECURITY.md cites.

test('passwords are stored as salted argon2id only (ASVS 2.4.1, 2.4.2)', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const app = await buildTestApp(t, { DATABASE_URL: url })
  const db = openDirectDb(t, url)
  const a = await signUp(app)
  const b = await signUp(app)
  const rows = await db.selectFrom('users').select(['id', 'password_hash']).where('id', 'in', [a.userId, b.userId]).execute()
  for (const row of rows) {
    assert.match(row.password_hash, /^\$argon2id\$v=19\$m=\d+,p=\d+,t=\d+\$[A-Za-z0-9+/]{22,}\$/)
    assert.ok(!row.password_hash.includes(PASSWORD))
  }
  // Same password, different salts.
  assert.notEqual(rows[0]!.password_hash, rows[1]!.password_hash)
})

test('each sign-in opens a new session with fresh tokens; cookies are HttpOnly, SameSite, scoped and Secure over https (ASVS 3.2.1, 3.4.1–3.4.3, 3.4.5)', async (t) => {
  const app = await buildTestApp(t, { PUBLIC_URL: 'https://auth.example.com' })
  const user = await signUp(app)
  const first = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: user.email, password: PASSWORD } })
  const second = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: user.email, password: PASSWORD } })
  assert.notEqual(first.json().refresh_token.split('.')[0], second.json().refresh_token.split('.')[0])
  assert.notEqual(first.json().access_token, second.json().access_token)
  const cookies = cookiesOf(first)
  assert.equal(cookies.access_token!.httpOnly, true)
  assert.equal(cookies.access_token!.secure, true)
  assert.equal(cookies.access_token!.sameSite, 'Lax')
  assert.equal(cookies.refresh_token!.httpOnly, true)
  assert.equal(cookies.refresh_token!.sameSite, 'Strict')
  assert.equal(cookies.refresh_token!.path, '/api/v1/auth')
  assert.equal(first.headers['cache-control'], 'no-store')
})

test('tokens are never taken from the URL (ASVS 3.1.1)', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const response = await app.inject({ method: 'GET', url: `/api/v1/auth/me?access_token=${user.accessToken}` })
  assert.equal(response.statusCode, 401)
})

test('logout ends the session at once; a password change ends every session; users list and end their sessions (ASVS 3.3.1, 3.3.3, 3.3.4)', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const other = (await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: user.email, password: PASSWORD } })).json()
  const third = (await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: user.email, password: PASSWORD } })).json()

  const sessions = (await app.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: bearer(user.accessToken) })).json()
  assert.equal(sessions.length, 3)
  const otherId = other.refresh_token.split('.')[0]
  assert.equal((await app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${otherId}`, headers: bearer(user.accessToken) })).statusCode, 204)
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(other.access_token) })).statusCode, 401)

  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(third.access_token) })).statusCode, 204)
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(third.access_token) })).statusCode, 401)
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: third.refresh_token } })).statusCode, 401)

  const changed = await app.inject({ method: 'POST', url: '/api/v1/auth/change-password', headers: bearer(user.accessToken), payload: { old_password: PASSWORD, new_password: 'a different long passphrase 9' } })
  assert.equal(changed.statusCode, 200)
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(user.accessToken) })).statusCode, 401)
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: user.refreshToken } })).statusCode, 401)
})
