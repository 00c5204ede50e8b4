import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildAdminApp, createUser } from '../helpers/admin.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { PASSWORD, uniqueEmail, uniqueUsername } from '../helpers/factories.js'

const MISSING_ID = '0190f1a0-0000-7000-8000-000000000000'

test('POST /users creates a user with defaults, never returning a hash; 409 and 422 change nothing', async (t) => {
  const { app, admin, databaseUrl } = await buildAdminApp(t)
  const email = uniqueEmail('New')
  const username = uniqueUsername()
  const created = await app.inject({ method: 'POST', url: '/api/v1/users', headers: admin.headers, payload: { email: `  ${email.toUpperCase()} `, username, password: PASSWORD, unknown_field: 'x' } })
  assert.equal(created.statusCode, 201)
  const user = created.json()
  assert.deepEqual(Object.keys(user).sort(), ['created_at', 'email', 'id', 'is_active', 'is_superuser', 'is_verified', 'mfa_enabled', 'name', 'role', 'updated_at', 'username'])
  assert.equal(user.email, email.toLowerCase())
  assert.equal(user.role, 'member')
  assert.equal(user.is_active, true)
  assert.equal(user.is_superuser, false)
  assert.equal(user.is_verified, false)
  assert.equal(user.name, null)

  const full = await app.inject({ method: 'POST', url: '/api/v1/users', headers: admin.headers, payload: { email: uniqueEmail(), username: uniqueUsername(), password: PASSWORD, name: 'Ops', role: 'admin', is_active: false, is_superuser: true, is_verified: true } })
  assert.equal(full.statusCode, 201)
  assert.equal(full.json().role, 'admin')
  assert.equal(full.json().is_active, false)
  assert.equal(full.json().is_superuser, true)
  assert.equal(full.json().is_verified, true)
  assert.equal(full.json().name, 'Ops')

  const cases: Array<[Record<string, unknown>, number, string]> = [
    [{ email: email.toUpperCase(), username: uniqueUsername(), password: PASSWORD }, 409, 'email_taken'],
    [{ email: uniqueEmail(), username: username.toUpperCase(), password: PASSWORD }, 409, 'username_taken'],
    [{ email: 'not-an-email', username: uniqueUsername(), password: PASSWORD }, 422, 'validation_error'],
    [{ email: uniqueEmail(), username: 'a b', password: PASSWORD }, 422, 'validation_error'],
    [{ email: uniqueEmail(), password: PASSWORD }, 422, 'validation_error'],
    [{ email: uniqueEmail(), username: uniqueUsername(), password: 'password' }, 422, 'weak_password'],
    [{ email: uniqueEmail(), username: uniqueUsername(), password: 'short' }, 422, 'weak_password'],
    [{ email: uniqueEmail(), username: uniqueUsername(), password: PASSWORD, role: 'nope' }, 422, 'validation_error'],
    [{ email: uniqueEmail(), username: uniqueUsername(), password: PASSWORD, is_superuser: 'yes' }, 422, 'validation_error']
  ]
  for (const [payload, status, code] of cases) {
    const response = await app.inject({ method: 'POST', url: '/api/v1/users', headers: admin.headers, payload })
    assert.equal(response.statusCode, status, JSON.stringify(payload))
    assert.equal(response.json().code, code)
    if (status === 422) assert.ok(Array.isArray(response.json().errors) && response.json().errors.length > 0)
  }
  const unknownRole = await app.inject({ method: 'POST', url: '/api/v1/users', headers: admin.headers, payload: { email: uniqueEmail(), username: uniqueUsername(), password: PASSWORD, role: 'nope' } })
  assert.deepEqual(unknownRole.json().errors, [{ field: 'role', message: 'Unknown role' }])

  const list = await app.inject({ method: 'GET', url: '/api/v1/users', headers: admin.headers })
  assert.equal(list.json().total, 3)

  const db = openDirectDb(t, databaseUrl)
  const row = await db.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow()
  assert.match(row.password_hash, /^\$argon2id\$/)
  const events = await db.selectFrom('audit_events').selectAll().where('type', '=', 'admin.user.create').execute()
  assert.equal(events.length, 2)
  const event = events.find((e) => e.user_id === user.id)!
  assert.equal(event.actor_id, admin.id)
  assert.ok(!String(event.details).includes(PASSWORD))
})

test('concurrent creates with one email: exactly one 201, the rest 409', async (t) => {
  const { app, admin } = await buildAdminApp(t)
  const email = uniqueEmail()
  const responses = await Promise.all(Array.from({ length: 5 }, () => app.inject({ method: 'POST', url: '/api/v1/users', headers: admin.headers, payload: { email, username: uniqueUsername(), password: PASSWORD } })))
  assert.deepEqual(responses.map((r) => r.statusCode).sort(), [201, 409, 409, 409, 409])
})

test('GET /users/{id}: 200 user, 404 user_not_found for unknown ids', async (t) => {
  const { app, admin } = await buildAdminApp(t)
  const { user } = await createUser(app, admin.headers, { name: 'Bea' })
  const found = await app.inject({ method: 'GET', url: `/api/v1/users/${user.id}`, headers: admin.headers })
  assert.equal(found.statusCode, 200)
  assert.deepEqual(found.json(), user)
  for (const id of [MISSING_ID, 'not-a-uuid']) {
    const missing = await app.inject({ method: 'GET', url: `/api/v1/users/${id}`, headers: admin.headers })
    assert.equal(missing.statusCode, 404)
    assert.deepEqual(missing.json(), { detail: 'User not found', code: 'user_not_found' })
  }
})

test('PATCH /users/{id}: changes fields and records which; 404, 409, 422 change nothing', async (t) => {
  const { app, admin, databaseUrl } = await buildAdminApp(t)
  const { user } = await createUser(app, admin.headers)
  const other = await createUser(app, admin.headers)
  const newEmail = uniqueEmail('Renamed')
  const patched = await app.inject({
    method: 'PATCH',
    url: `/api/v1/users/${user.id}`,
    headers: admin.headers,
    payload: { email: newEmail, username: 'Renamed_User', name: 'Renamed', is_verified: true, role: 'admin' }
  })
  assert.equal(patched.statusCode, 200)
  const body = patched.json()
  assert.equal(body.email, newEmail.toLowerCase())
  assert.equal(body.username, 'Renamed_User')
  assert.equal(body.name, 'Renamed')
  assert.equal(body.is_verified, true)
  assert.equal(body.role, 'admin')

  const cases: Array<[string, Record<string, unknown>, number, string]> = [
    [MISSING_ID, { name: 'x' }, 404, 'user_not_found'],
    [user.id, { email: other.email }, 409, 'email_taken'],
    [user.id, { username: other.user.username.toUpperCase() }, 409, 'username_taken'],
    [user.id, { email: 'nope' }, 422, 'validation_error'],
    [user.id, { role: 'nope' }, 422, 'validation_error'],
    [user.id, { password: 'password' }, 422, 'weak_password'],
    [user.id, { is_active: 'no' }, 422, 'validation_error'],
    [user.id, { name: 'x'.repeat(101) }, 422, 'validation_error']
  ]
  for (const [id, payload, status, code] of cases) {
    const response = await app.inject({ method: 'PATCH', url: `/api/v1/users/${id}`, headers: admin.headers, payload })
    assert.equal(response.statusCode, status, JSON.stringify(payload))
    assert.equal(response.json().code, code)
  }
  const after = await app.inject({ method: 'GET', url: `/api/v1/users/${user.id}`, headers: admin.headers })
  assert.deepEqual({ ...(after.json() as Record<string, unknown>), updated_at: body.updated_at }, body)

  const db = openDirectDb(t, databaseUrl)
  const events = await db.selectFrom('audit_events').selectAll().where('type', '=', 'admin.user.update').execute()
  assert.equal(events.length, 1)
  assert.equal(events[0]!.actor_id, admin.id)
  assert.equal(events[0]!.user_id, user.id)
  const details = JSON.parse(events[0]!.details!)
  assert.deepEqual(details.fields.sort(), ['email', 'is_verified', 'name', 'role', 'username'])
  assert.equal(details.role, 'admin')
})

test('DELETE /users/{id}: 204, then 404; audited', async (t) => {
  const { app, admin, databaseUrl } = await buildAdminApp(t)
  const { user } = await createUser(app, admin.headers)
  const deleted = await app.inject({ method: 'DELETE', url: `/api/v1/users/${user.id}`, headers: admin.headers })
  assert.equal(deleted.statusCode, 204)
  assert.equal(deleted.body, '')
  const again = await app.inject({ method: 'DELETE', url: `/api/v1/users/${user.id}`, headers: admin.headers })
  assert.equal(again.statusCode, 404)
  assert.equal(again.json().code, 'user_not_found')
  const get = await app.inject({ method: 'GET', url: `/api/v1/users/${user.id}`, headers: admin.headers })
  assert.equal(get.statusCode, 404)
  const db = openDirectDb(t, databaseUrl)
  const events = await db.selectFrom('audit_events').selectAll().where('type', '=', 'admin.user.delete').execute()
  assert.equal(events.length, 1)
  assert.equal(events[0]!.actor_id, admin.id)
  assert.equal(events[0]!.user_id, user.id)
})
