import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildAdminApp, createSignedInUser } from '../helpers/admin.js'
import { buildTestAppWithDatabase } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { bearer, PASSWORD, signUp, uniqueEmail, uniqueUsername } from '../helpers/factories.js'

const AUTH = '/api/v1/auth'
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString()

/** @see issue 15, item 15: a 60 KB username was stored in a signin.failure audit row. */
test('/token and /login bound every form field like the JSON schemas: nothing oversized reaches an audit row', async (t) => {
  const { app, databaseUrl } = await buildTestAppWithDatabase(t)
  const db = openDirectDb(t, databaseUrl)
  const huge = 'a'.repeat(60 * 1024 - 200)
  const cases: Array<Record<string, string>> = [
    { grant_type: 'password', username: `${huge}@example.com`, password: 'whatever it is' },
    { grant_type: 'password', username: uniqueEmail(), password: 'p'.repeat(2000) },
    { grant_type: 'refresh_token', refresh_token: 'r'.repeat(5000) },
    { grant_type: 'g'.repeat(5000) },
    { grant_type: 'password', username: uniqueEmail(), password: 'whatever it is', scope: 's'.repeat(5000) }
  ]
  for (const fields of cases) {
    const answer = await app.inject({ method: 'POST', url: `${AUTH}/token`, headers: FORM, payload: form(fields) })
    assert.equal(answer.statusCode, 400, JSON.stringify(Object.keys(fields)))
    assert.equal(answer.json().error, 'invalid_request')
    assert.equal(answer.headers['cache-control'], 'no-store')
  }
  // A repeated field is not a string: refused the same way, not silently picked.
  const repeated = await app.inject({ method: 'POST', url: `${AUTH}/token`, headers: FORM, payload: 'grant_type=password&username=a@b.co&username=c@d.co&password=whatever+it+is' })
  assert.equal(repeated.statusCode, 400)
  assert.equal(repeated.json().error, 'invalid_request')

  const login = await app.inject({ method: 'POST', url: `${AUTH}/login`, headers: FORM, payload: form({ username: `${huge}@example.com`, password: 'whatever it is' }) })
  assert.equal(login.statusCode, 422)
  assert.equal(login.json().errors[0].field, 'username')

  const rows = await db.selectFrom('audit_events').selectAll().execute()
  assert.equal(rows.length, 0, 'no attempt got as far as an audit row')
  // A bounded, well-formed attempt still is audited as before.
  const normal = await app.inject({ method: 'POST', url: `${AUTH}/token`, headers: FORM, payload: form({ grant_type: 'password', username: uniqueEmail(), password: 'whatever it is' }) })
  assert.equal(normal.json().error, 'invalid_grant')
  assert.equal((await db.selectFrom('audit_events').selectAll().execute()).length, 1)
})

/** @see red-team findings, round 3, F6: NUL at /token answered the JSON 422 shape, not RFC 6749's. */
test('/token answers RFC 6749 invalid_request for input refused before its handler: NUL, lone surrogate, unparsable, oversized, wrong type', async (t) => {
  const { app } = await buildTestAppWithDatabase(t)
  const JSON_BODY = { 'content-type': 'application/json' }
  const cases = [
    { what: 'NUL in a value', headers: FORM, payload: 'grant_type=password&username=a%40b.co&password=%00', status: 400 },
    { what: 'NUL in a key and a value', headers: FORM, payload: '%00=%00', status: 400 },
    { what: 'NUL in grant_type', headers: FORM, payload: 'grant_type=refresh%00_token&refresh_token=abc', status: 400 },
    { what: 'a lone surrogate', headers: JSON_BODY, payload: '{"grant_type":"password","username":"a@b.co","password":"\\ud800"}', status: 400 },
    { what: 'a body that does not parse', headers: JSON_BODY, payload: '{"grant_type":', status: 400 },
    { what: 'a body over 64 KiB', headers: FORM, payload: `grant_type=password&username=a%40b.co&password=${'p'.repeat(70 * 1024)}`, status: 413 },
    { what: 'a body of another type', headers: { 'content-type': 'text/plain' }, payload: 'grant_type=password', status: 415 }
  ]
  for (const { what, headers, payload, status } of cases) {
    const answer = await app.inject({ method: 'POST', url: `${AUTH}/token`, headers, payload })
    assert.equal(answer.statusCode, status, `${what}: ${answer.body}`)
    const body = answer.json()
    assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description'], what)
    assert.equal(body.error, 'invalid_request', what)
    assert.equal(answer.headers['cache-control'], 'no-store', what)
  }
  // The JSON API keeps the contract's shape for the same input.
  const signin = await app.inject({ method: 'POST', url: `${AUTH}/signin`, payload: { email: 'a@b.co', password: '\u0000' } })
  assert.equal(signin.statusCode, 422)
  assert.equal(signin.json().code, 'validation_error')
  const login = await app.inject({ method: 'POST', url: `${AUTH}/login`, headers: FORM, payload: 'username=a%40b.co&password=%00' })
  assert.equal(login.statusCode, 422)
  assert.equal(login.json().code, 'validation_error')
})

/** @see issue 15, item 17: a password holding \ud800 also verified with \udfff or \ufffd. */
test('lone UTF-16 surrogates are 422 in JSON bodies, values and keys alike', async (t) => {
  const { app, admin } = await buildAdminApp(t)
  const user = await signUp(app)
  const lone = 'a long passphrase \ud800 here'
  const json = [
    { method: 'POST' as const, url: `${AUTH}/signup`, payload: { email: uniqueEmail(), username: uniqueUsername(), password: lone } },
    { method: 'POST' as const, url: `${AUTH}/signin`, payload: { email: user.email, password: `${PASSWORD}\udfff` } },
    { method: 'PATCH' as const, url: `${AUTH}/me`, headers: bearer(user.accessToken), payload: { name: 'Lone \udc00 trail' } },
    { method: 'POST' as const, url: `${AUTH}/change-password`, headers: bearer(user.accessToken), payload: { old_password: PASSWORD, new_password: lone } },
    { method: 'POST' as const, url: '/api/v1/users', headers: admin.headers, payload: { email: uniqueEmail(), username: uniqueUsername(), password: lone } }
  ]
  for (const request of json) {
    // JSON.stringify writes a lone surrogate as the escape \ud800, exactly what a client sends.
    const answer = await app.inject({ ...request, payload: JSON.stringify(request.payload), headers: { ...request.headers, 'content-type': 'application/json' } })
    assert.equal(answer.statusCode, 422, request.url)
    assert.equal(answer.json().code, 'validation_error')
    assert.match(answer.json().errors[0].message, /surrogate/)
  }
  // Object keys too.
  const key = await app.inject({ method: 'POST', url: `${AUTH}/signin`, headers: { 'content-type': 'application/json' }, payload: `{"email":"${user.email}","password":"${PASSWORD}","\\ud800":1}` })
  assert.equal(key.statusCode, 422)
  // The account is untouched: the stored password still works, the surrogate variants never got in.
  assert.equal((await app.inject({ method: 'POST', url: `${AUTH}/signin`, payload: { email: user.email, password: PASSWORD } })).statusCode, 200)
  // Well-formed pairs (emoji) are ordinary text.
  const emoji = await app.inject({ method: 'PATCH', url: `${AUTH}/me`, headers: bearer(user.accessToken), payload: { name: 'Rocket 🚀' } })
  assert.equal(emoji.statusCode, 200)
})

test('a password with a lone surrogate cannot be set, so "\\ud800", "\\udfff" and "\\ufffd" never verify alike', async (t) => {
  const { app } = await buildTestAppWithDatabase(t)
  const base = 'a long unusual passphrase '
  const signup = await app.inject({ method: 'POST', url: `${AUTH}/signup`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ email: uniqueEmail(), username: uniqueUsername(), password: `${base}\ud800` }) })
  assert.equal(signup.statusCode, 422)
  const email = uniqueEmail()
  assert.equal((await app.inject({ method: 'POST', url: `${AUTH}/signup`, payload: { email, username: uniqueUsername(), password: `${base}\ufffd` } })).statusCode, 201)
  for (const variant of ['\ud800', '\udfff']) {
    const answer = await app.inject({ method: 'POST', url: `${AUTH}/signin`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ email, password: `${base}${variant}` }) })
    assert.equal(answer.statusCode, 422)
  }
})

/** @see issue 15, item 18: a member got 422 from /audit-events instead of 403. */
test('every admin route authorises before it validates: a member gets 403 whatever the input', async (t) => {
  const { app, admin } = await buildAdminApp(t)
  const member = await createSignedInUser(app, admin.headers)
  const bad = [
    { method: 'GET' as const, url: '/api/v1/audit-events?limit=100000&user_id=' + 'x'.repeat(300) },
    { method: 'GET' as const, url: '/api/v1/audit-events?offset=-1' },
    { method: 'GET' as const, url: '/api/v1/users?limit=0&sort=nope' },
    { method: 'POST' as const, url: '/api/v1/users', payload: { email: 'not an email' } },
    { method: 'PATCH' as const, url: `/api/v1/users/${'x'.repeat(150)}`, payload: { is_active: 'maybe' } },
    { method: 'DELETE' as const, url: `/api/v1/users/${admin.id}` },
    { method: 'POST' as const, url: '/api/v1/roles', payload: { slug: 42 } },
    { method: 'GET' as const, url: '/api/v1/roles' }
  ]
  for (const request of bad) {
    const answer = await app.inject({ ...request, headers: member.headers })
    assert.equal(answer.statusCode, 403, `${request.method} ${request.url.slice(0, 40)}`)
    assert.deepEqual(answer.json(), { detail: 'Superuser privileges required', code: 'forbidden' })
  }
  // For a superuser the same audit query is a validation error.
  const asAdmin = await app.inject({ method: 'GET', url: '/api/v1/audit-events?offset=-1', headers: admin.headers })
  assert.equal(asAdmin.statusCode, 422)
})
