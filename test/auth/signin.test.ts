import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp } from '../helpers/build-test-app.js'
import { createTestDatabaseUrl } from '../helpers/test-db.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { bearer, cookiesOf, PASSWORD, signUp, uniqueEmail } from '../helpers/factories.js'

const A = '/api/v1/auth'

test('sign-in answers 200 with a token pair, the user and cookies', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const res = await app.inject({ method: 'POST', url: `${A}/signin`, payload: { email: ` ${user.email.toUpperCase()}`, password: PASSWORD } })
  assert.equal(res.statusCode, 200)
  const body = res.json()
  assert.equal(body.user.id, user.userId)
  assert.equal(body.token_type, 'bearer')
  assert.ok(cookiesOf(res).access_token && cookiesOf(res).refresh_token)
  const me = await app.inject({ method: 'GET', url: `${A}/me`, headers: bearer(body.access_token) })
  assert.equal(me.statusCode, 200)
})

test('a wrong password and an unknown email get the same 401 body', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const wrong = await app.inject({ method: 'POST', url: `${A}/signin`, payload: { email: user.email, password: 'not the password at all' } })
  const unknown = await app.inject({ method: 'POST', url: `${A}/signin`, payload: { email: uniqueEmail(), password: 'not the password at all' } })
  for (const res of [wrong, unknown]) {
    assert.equal(res.statusCode, 401)
    assert.deepEqual(res.json(), { detail: 'Invalid email or password', code: 'invalid_credentials' })
    assert.equal(res.headers['www-authenticate'], 'Bearer')
    assert.equal(res.headers['set-cookie'], undefined)
  }
})

test('an inactive account: 403 inactive_user with the right password, the generic 401 with a wrong one', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const app = await buildTestApp(t, { DATABASE_URL: url })
  const db = openDirectDb(t, url)
  const user = await signUp(app)
  await db.updateTable('users').set({ is_active: 0 }).where('id', '=', user.userId).execute()
  const right = await app.inject({ method: 'POST', url: `${A}/signin`, payload: { email: user.email, password: PASSWORD } })
  assert.equal(right.statusCode, 403)
  assert.deepEqual(right.json(), { detail: 'User account is inactive', code: 'inactive_user' })
  const wrong = await app.inject({ method: 'POST', url: `${A}/signin`, payload: { email: user.email, password: 'wrong password here' } })
  assert.equal(wrong.statusCode, 401)
  assert.equal(wrong.json().code, 'invalid_credentials')
})

test('sign-in validates its body: 422 for a missing password or a bad email', async (t) => {
  const app = await buildTestApp(t)
  for (const payload of [{ email: 'a@b.co' }, { email: 'nope', password: 'x' }, { email: 'a@b.co', password: ['x'] }]) {
    const res = await app.inject({ method: 'POST', url: `${A}/signin`, payload })
    assert.equal(res.statusCode, 422, JSON.stringify(payload))
    assert.equal(res.json().code, 'validation_error')
  }
})

test('/login takes a form, answers 204 and sets the cookies, which authenticate /me', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const res = await app.inject({
    method: 'POST',
    url: `${A}/login`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ username: user.email, password: PASSWORD }).toString()
  })
  assert.equal(res.statusCode, 204)
  assert.equal(res.body, '')
  const cookies = cookiesOf(res)
  const me = await app.inject({ method: 'GET', url: `${A}/me`, cookies: { access_token: cookies.access_token!.value } })
  assert.equal(me.statusCode, 200)
  assert.equal(me.json().email, user.email)

  const wrong = await app.inject({
    method: 'POST',
    url: `${A}/login`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ username: user.email, password: 'wrong password here' }).toString()
  })
  assert.equal(wrong.statusCode, 401)
  assert.equal(wrong.json().code, 'invalid_credentials')
})

test('/token: password and refresh_token grants, RFC 6749 errors', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const form = (fields: Record<string, string>) => app.inject({
    method: 'POST',
    url: `${A}/token`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields).toString()
  })

  const granted = await form({ grant_type: 'password', username: user.email, password: PASSWORD })
  assert.equal(granted.statusCode, 200)
  assert.equal(granted.headers['cache-control'], 'no-store')
  const body = granted.json()
  assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type'])
  assert.equal(body.token_type, 'Bearer')
  assert.equal(body.expires_in, 900)

  const refreshed = await form({ grant_type: 'refresh_token', refresh_token: body.refresh_token })
  assert.equal(refreshed.statusCode, 200)
  assert.notEqual(refreshed.json().refresh_token, body.refresh_token)

  const cases: Array<[Record<string, string>, string]> = [
    [{ grant_type: 'password', username: user.email, password: 'wrong password here' }, 'invalid_grant'],
    [{ grant_type: 'password', username: uniqueEmail(), password: 'wrong password here' }, 'invalid_grant'],
    [{ grant_type: 'refresh_token', refresh_token: 'garbage' }, 'invalid_grant'],
    [{ grant_type: 'client_credentials' }, 'unsupported_grant_type'],
    [{ grant_type: 'password', username: user.email }, 'invalid_request'],
    [{ username: user.email, password: PASSWORD }, 'invalid_request']
  ]
  for (const [fields, error] of cases) {
    const res = await form(fields)
    assert.equal(res.statusCode, 400, JSON.stringify(fields))
    assert.equal(res.json().error, error)
    assert.equal(typeof res.json().error_description, 'string')
    assert.equal(res.headers['cache-control'], 'no-store')
  }
})

test('a hash made with older (weaker) parameters is upgraded on the next successful sign-in', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const weak = await buildTestApp(t, { DATABASE_URL: url, ARGON2_MEMORY_KIB: '1024', ARGON2_TIME_COST: '1' })
  const user = await signUp(weak)
  await weak.close()
  const db = openDirectDb(t, url)
  const before = await db.selectFrom('users').select('password_hash').where('id', '=', user.userId).executeTakeFirstOrThrow()
  assert.match(before.password_hash, /m=1024,p=1,t=1/)

  const stronger = await buildTestApp(t, { DATABASE_URL: url, ARGON2_MEMORY_KIB: '2048', ARGON2_TIME_COST: '2' })
  const res = await stronger.inject({ method: 'POST', url: `${A}/signin`, payload: { email: user.email, password: PASSWORD } })
  assert.equal(res.statusCode, 200)
  const after = await db.selectFrom('users').select('password_hash').where('id', '=', user.userId).executeTakeFirstOrThrow()
  assert.match(after.password_hash, /^\$argon2id\$v=19\$m=2048,p=1,t=2\$/)
  const again = await stronger.inject({ method: 'POST', url: `${A}/signin`, payload: { email: user.email, password: PASSWORD } })
  assert.equal(again.statusCode, 200)
})
