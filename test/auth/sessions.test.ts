import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { createTestDatabaseUrl } from '../helpers/test-db.js'
import { bearer, cookiesOf, PASSWORD, signUp, uniqueUsername } from '../helpers/factories.js'

const A = '/api/v1/auth'

async function signIn (app: Awaited<ReturnType<typeof buildTestApp>>, email: string, password = PASSWORD, userAgent = 'test-agent') {
  const res = await app.inject({ method: 'POST', url: `${A}/signin`, payload: { email, password }, headers: { 'user-agent': userAgent } })
  assert.equal(res.statusCode, 200, res.body)
  return res.json() as { access_token: string, refresh_token: string }
}

test('/me: bearer or cookie; missing → not_authenticated; bad → invalid_token; both with WWW-Authenticate', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  assert.equal((await app.inject({ method: 'GET', url: `${A}/me`, headers: bearer(user.accessToken) })).statusCode, 200)
  assert.equal((await app.inject({ method: 'GET', url: `${A}/me`, cookies: { access_token: user.accessToken } })).statusCode, 200)

  const missing = await app.inject({ method: 'GET', url: `${A}/me` })
  assert.equal(missing.statusCode, 401)
  assert.deepEqual(missing.json(), { detail: 'Not authenticated', code: 'not_authenticated' })
  assert.match(String(missing.headers['www-authenticate']), /^Bearer/)

  for (const headers of [bearer('garbage'), bearer(''), { authorization: 'Bearer' }, bearer(`${user.accessToken}x`), { authorization: `Basic ${user.accessToken}` }]) {
    const res = await app.inject({ method: 'GET', url: `${A}/me`, headers })
    assert.equal(res.statusCode, 401, JSON.stringify(headers))
    assert.deepEqual(res.json(), { detail: 'Invalid or expired token', code: 'invalid_token' })
    assert.match(String(res.headers['www-authenticate']), /^Bearer/)
  }
})

test('logout revokes this session only, and clears both cookies', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const other = await signIn(app, user.email)
  const res = await app.inject({ method: 'POST', url: `${A}/logout`, headers: bearer(user.accessToken) })
  assert.equal(res.statusCode, 204)
  const cleared = cookiesOf(res)
  assert.equal(cleared.access_token?.value, '')
  assert.equal(cleared.refresh_token?.value, '')
  assert.equal(cleared.refresh_token?.path, '/api/v1/auth')

  assert.equal((await app.inject({ method: 'GET', url: `${A}/me`, headers: bearer(user.accessToken) })).statusCode, 401)
  assert.equal((await app.inject({ method: 'POST', url: `${A}/logout`, headers: bearer(user.accessToken) })).statusCode, 401)
  assert.equal((await app.inject({ method: 'GET', url: `${A}/me`, headers: bearer(other.access_token) })).statusCode, 200, 'other session lives')
})

test('logout with the access cookie works too', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const res = await app.inject({ method: 'POST', url: `${A}/logout`, cookies: { access_token: user.accessToken } })
  assert.equal(res.statusCode, 204)
  assert.equal((await app.inject({ method: 'GET', url: `${A}/me`, cookies: { access_token: user.accessToken } })).statusCode, 401)
})

test('logout-all revokes every session of the user, not other users\'', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const second = await signIn(app, user.email)
  const stranger = await signUp(app)
  assert.equal((await app.inject({ method: 'POST', url: `${A}/logout-all`, headers: bearer(user.accessToken) })).statusCode, 204)
  for (const token of [user.accessToken, second.access_token]) {
    assert.equal((await app.inject({ method: 'GET', url: `${A}/me`, headers: bearer(token) })).statusCode, 401)
  }
  const refresh = await app.inject({ method: 'POST', url: `${A}/refresh`, payload: { refresh_token: second.refresh_token } })
  assert.equal(refresh.statusCode, 401)
  assert.equal((await app.inject({ method: 'GET', url: `${A}/me`, headers: bearer(stranger.accessToken) })).statusCode, 200)
})

test('GET /sessions lists live sessions with the current one marked; DELETE revokes one', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const second = await signIn(app, user.email, PASSWORD, 'second-device')
  const list = await app.inject({ method: 'GET', url: `${A}/sessions`, headers: bearer(second.access_token) })
  assert.equal(list.statusCode, 200)
  const sessions = list.json() as Array<Record<string, unknown>>
  assert.equal(sessions.length, 2)
  assert.deepEqual(Object.keys(sessions[0]!).sort(), ['amr', 'created_at', 'current', 'expires_at', 'id', 'ip', 'last_used_at', 'user_agent'])
  // Issue 11: each session says how it was opened (RFC 8176).
  assert.deepEqual(sessions[0]!.amr, ['pwd'])
  const current = sessions.find((s) => s.current)!
  assert.equal(current.user_agent, 'second-device')
  assert.equal(current.ip, '127.0.0.1')
  const firstSession = sessions.find((s) => !s.current)!

  const del = await app.inject({ method: 'DELETE', url: `${A}/sessions/${String(firstSession.id)}`, headers: bearer(second.access_token) })
  assert.equal(del.statusCode, 204)
  assert.equal((await app.inject({ method: 'GET', url: `${A}/me`, headers: bearer(user.accessToken) })).statusCode, 401)
  assert.equal((await app.inject({ method: 'GET', url: `${A}/me`, headers: bearer(second.access_token) })).statusCode, 200)

  const again = await app.inject({ method: 'DELETE', url: `${A}/sessions/${String(firstSession.id)}`, headers: bearer(second.access_token) })
  assert.equal(again.statusCode, 404)
  assert.equal(again.json().code, 'not_found')
  const bogus = await app.inject({ method: 'DELETE', url: `${A}/sessions/not-a-session`, headers: bearer(second.access_token) })
  assert.equal(bogus.statusCode, 404)
})

test('another user\'s session id is 404, and stays live', async (t) => {
  const app = await buildTestApp(t)
  const alice = await signUp(app)
  const bob = await signUp(app)
  const [bobSession] = bob.refreshToken.split('.')
  const res = await app.inject({ method: 'DELETE', url: `${A}/sessions/${bobSession}`, headers: bearer(alice.accessToken) })
  assert.equal(res.statusCode, 404)
  assert.equal((await app.inject({ method: 'GET', url: `${A}/me`, headers: bearer(bob.accessToken) })).statusCode, 200)
})

test('PATCH /me updates name and username; a taken username is 409; bad input 422', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const other = await signUp(app)
  const newName = uniqueUsername('renamed')
  const res = await app.inject({ method: 'PATCH', url: `${A}/me`, headers: bearer(user.accessToken), payload: { name: 'New Name', username: newName } })
  assert.equal(res.statusCode, 200)
  assert.equal(res.json().name, 'New Name')
  assert.equal(res.json().username, newName)
  const me = await app.inject({ method: 'GET', url: `${A}/me`, headers: bearer(user.accessToken) })
  assert.equal(me.json().username, newName, '/me sees the change at once')

  const taken = await app.inject({ method: 'PATCH', url: `${A}/me`, headers: bearer(user.accessToken), payload: { username: other.username.toUpperCase() } })
  assert.equal(taken.statusCode, 409)
  assert.equal(taken.json().code, 'username_taken')
  for (const payload of [{ username: 'no' }, { name: 5 }, { name: 'x'.repeat(101) }]) {
    const bad = await app.inject({ method: 'PATCH', url: `${A}/me`, headers: bearer(user.accessToken), payload })
    assert.equal(bad.statusCode, 422, JSON.stringify(payload))
  }
  const unchanged = await app.inject({ method: 'GET', url: `${A}/me`, headers: bearer(user.accessToken) })
  assert.equal(unchanged.json().name, 'New Name')
  const cleared = await app.inject({ method: 'PATCH', url: `${A}/me`, headers: bearer(user.accessToken), payload: { name: null } })
  assert.equal(cleared.json().name, null)
  const noAuth = await app.inject({ method: 'PATCH', url: `${A}/me`, payload: { name: 'x' } })
  assert.equal(noAuth.statusCode, 401)
})

test('change-password: wrong old 400, weak new 422 (nothing changes), success revokes every session', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const second = await signIn(app, user.email)
  const url = `${A}/change-password`

  const wrong = await app.inject({ method: 'POST', url, headers: bearer(user.accessToken), payload: { old_password: 'not my password', new_password: 'another fine passphrase' } })
  assert.equal(wrong.statusCode, 400)
  assert.deepEqual(wrong.json(), { detail: 'Incorrect current password', code: 'incorrect_password' })

  const weak = await app.inject({ method: 'POST', url, headers: bearer(user.accessToken), payload: { old_password: PASSWORD, new_password: 'password' } })
  assert.equal(weak.statusCode, 422)
  assert.equal(weak.json().code, 'weak_password')
  assert.equal(weak.json().errors[0].field, 'new_password')
  assert.equal((await app.inject({ method: 'GET', url: `${A}/me`, headers: bearer(user.accessToken) })).statusCode, 200)

  const ok = await app.inject({ method: 'POST', url, headers: bearer(user.accessToken), payload: { old_password: PASSWORD, new_password: 'another fine passphrase' } })
  assert.equal(ok.statusCode, 200)
  assert.deepEqual(ok.json(), { message: 'Password changed successfully' })
  assert.equal(cookiesOf(ok).access_token?.value, '', 'cookies cleared')
  for (const token of [user.accessToken, second.access_token]) {
    assert.equal((await app.inject({ method: 'GET', url: `${A}/me`, headers: bearer(token) })).statusCode, 401)
  }
  assert.equal((await app.inject({ method: 'POST', url: `${A}/refresh`, payload: { refresh_token: second.refresh_token } })).statusCode, 401)
  const oldPassword = await app.inject({ method: 'POST', url: `${A}/signin`, payload: { email: user.email, password: PASSWORD } })
  assert.equal(oldPassword.statusCode, 401)
  await signIn(app, user.email, 'another fine passphrase')
})

test('a change written by another process (e.g. the operator CLI) is seen on the next request', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const app = await buildTestApp(t, { DATABASE_URL: url })
  const user = await signUp(app)
  assert.equal((await app.inject({ method: 'GET', url: `${A}/me`, headers: bearer(user.accessToken) })).statusCode, 200, 'cached as live')
  const db = openDirectDb(t, url)
  await db.updateTable('sessions').set({ revoked_at: new Date().toISOString() }).where('user_id', '=', user.userId).execute()
  assert.equal((await app.inject({ method: 'GET', url: `${A}/me`, headers: bearer(user.accessToken) })).statusCode, 401)
})
