import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp } from '../helpers/build-test-app.js'
import { cookiesOf, PASSWORD, signUp, uniqueEmail, uniqueUsername } from '../helpers/factories.js'

const URL = '/api/v1/auth/signup'

test('sign-up answers 201 with tokens, the user and both cookies', async (t) => {
  const app = await buildTestApp(t)
  const email = uniqueEmail()
  const res = await app.inject({ method: 'POST', url: URL, payload: { email: `  ${email.toUpperCase()} `, username: 'Alice_1', password: PASSWORD, name: 'Alice', extra: 'ignored' } })
  assert.equal(res.statusCode, 201)
  const body = res.json()
  assert.equal(body.token_type, 'bearer')
  assert.equal(body.expires_in, 900)
  assert.ok(body.access_token && body.refresh_token)
  assert.deepEqual(Object.keys(body.user).sort(), ['created_at', 'email', 'id', 'is_active', 'is_superuser', 'is_verified', 'mfa_enabled', 'name', 'role', 'updated_at', 'username'])
  assert.equal(body.user.email, email, 'email trimmed and lower-cased')
  assert.equal(body.user.username, 'Alice_1')
  assert.equal(body.user.role, 'member')
  assert.equal(body.user.is_active, true)
  assert.equal(body.user.is_verified, false)
  assert.match(body.user.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/, 'UUID v7')
  assert.ok(!JSON.stringify(body).includes('argon2'), 'no hash in the response')
  assert.equal(res.headers['cache-control'], 'no-store')

  const cookies = cookiesOf(res)
  assert.equal(cookies.access_token?.value, body.access_token)
  assert.equal(cookies.access_token?.httpOnly, true)
  assert.equal(cookies.access_token?.sameSite, 'Lax')
  assert.equal(cookies.access_token?.path, '/')
  assert.equal(cookies.access_token?.maxAge, 900)
  assert.equal(cookies.refresh_token?.value, body.refresh_token)
  assert.equal(cookies.refresh_token?.sameSite, 'Strict')
  assert.equal(cookies.refresh_token?.path, '/api/v1/auth')
  assert.equal(cookies.refresh_token?.maxAge, 1_209_600)
  assert.equal(cookies.refresh_token?.secure, undefined, 'http public URL: no Secure flag')
})

test('cookies are Secure when the public URL is https', async (t) => {
  const app = await buildTestApp(t, { PUBLIC_URL: 'https://auth.example.com' })
  const { response } = await signUp(app)
  for (const cookie of response.cookies) assert.equal(cookie.secure, true, cookie.name)
})

test('a taken email (in any case) is 409 email_taken; a taken username is 409 username_taken', async (t) => {
  const app = await buildTestApp(t)
  const first = await signUp(app)
  const sameEmail = await app.inject({ method: 'POST', url: URL, payload: { email: first.email.toUpperCase(), username: uniqueUsername(), password: PASSWORD } })
  assert.equal(sameEmail.statusCode, 409)
  assert.deepEqual(sameEmail.json(), { detail: 'Email already registered', code: 'email_taken' })
  const sameUsername = await app.inject({ method: 'POST', url: URL, payload: { email: uniqueEmail(), username: first.username.toUpperCase(), password: PASSWORD } })
  assert.equal(sameUsername.statusCode, 409)
  assert.deepEqual(sameUsername.json(), { detail: 'Username already taken', code: 'username_taken' })
})

test('schema violations are 422 validation_error with the failing field', async (t) => {
  const app = await buildTestApp(t)
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ username: 'bob_1', password: PASSWORD }, 'email'],
    [{ email: 'not-an-email', username: 'bob_1', password: PASSWORD }, 'email'],
    [{ email: uniqueEmail(), username: 'ab', password: PASSWORD }, 'username'],
    [{ email: uniqueEmail(), username: 'bad name!', password: PASSWORD }, 'username'],
    [{ email: uniqueEmail(), username: 'x'.repeat(33), password: PASSWORD }, 'username'],
    [{ email: uniqueEmail(), username: 'bob_1', password: 12345678 }, 'password'],
    [{ email: uniqueEmail(), username: 'bob_1' }, 'password'],
    [{ email: uniqueEmail(), username: 'bob_1', password: PASSWORD, name: 'n'.repeat(101) }, 'name']
  ]
  for (const [payload, field] of cases) {
    const res = await app.inject({ method: 'POST', url: URL, payload })
    assert.equal(res.statusCode, 422, JSON.stringify(payload))
    const body = res.json()
    assert.equal(body.code, 'validation_error')
    assert.ok(body.errors.some((e: { field: string }) => e.field === field), `${field} in ${res.body}`)
  }
  const notAnObject = await app.inject({ method: 'POST', url: URL, payload: '[1,2]', headers: { 'content-type': 'application/json' } })
  assert.equal(notAnObject.statusCode, 422)
})

test('weak passwords are 422 weak_password: too short, too long, common, or containing the username/email', async (t) => {
  const app = await buildTestApp(t)
  const cases = [
    { password: 'short1!', username: 'carol_1' },
    { password: 'x'.repeat(129), username: 'carol_1' },
    { password: 'password1', username: 'carol_1' },
    { password: 'Qwertyuiop', username: 'carol_1' },
    { password: 'my carol_1 secret', username: 'carol_1' },
    { password: 'zebrastripe-99-long', username: 'carol_1', email: 'zebrastripe@example.com' }
  ]
  for (const c of cases) {
    const res = await app.inject({ method: 'POST', url: URL, payload: { email: c.email ?? uniqueEmail(), username: c.username, password: c.password } })
    assert.equal(res.statusCode, 422, c.password)
    assert.equal(res.json().code, 'weak_password')
    assert.equal(res.json().errors[0].field, 'password')
  }
  // 128 characters is allowed, and so is any Unicode.
  const long = await app.inject({ method: 'POST', url: URL, payload: { email: uniqueEmail(), username: uniqueUsername(), password: 'ü'.repeat(128) } })
  assert.equal(long.statusCode, 201)
})

test('PASSWORD_MIN_LENGTH raises the minimum', async (t) => {
  const app = await buildTestApp(t, { PASSWORD_MIN_LENGTH: '15' })
  const res = await app.inject({ method: 'POST', url: URL, payload: { email: uniqueEmail(), username: uniqueUsername(), password: 'fourteen chars' } })
  assert.equal(res.statusCode, 422)
  assert.equal(res.json().code, 'weak_password')
})

test('50 concurrent sign-ups with one email: exactly one 201, the rest 409, no 500', async (t) => {
  const app = await buildTestApp(t)
  const email = uniqueEmail('race')
  const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => app.inject({
    method: 'POST', url: URL, payload: { email, username: `racer_${i}`, password: PASSWORD }
  })))
  const statuses = responses.map((r) => r.statusCode)
  assert.equal(statuses.filter((s) => s === 201).length, 1, statuses.join(','))
  assert.equal(statuses.filter((s) => s === 409).length, 49, statuses.join(','))
  for (const r of responses.filter((r) => r.statusCode === 409)) assert.equal(r.json().code, 'email_taken')
})
