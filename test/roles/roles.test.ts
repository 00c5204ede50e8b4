import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeJwt } from 'jose'
import { buildAdminApp, createSignedInUser } from '../helpers/admin.js'
import { openDirectDb } from '../helpers/direct-db.js'

test('roles: seeded member and admin, created roles listed and assignable; 409 role_exists; 422', async (t) => {
  const { app, admin, databaseUrl } = await buildAdminApp(t)
  const seeded = await app.inject({ method: 'GET', url: '/api/v1/roles', headers: admin.headers })
  assert.equal(seeded.statusCode, 200)
  assert.deepEqual(seeded.json().map((r: { slug: string }) => r.slug).sort(), ['admin', 'member'])
  for (const role of seeded.json()) assert.deepEqual(Object.keys(role).sort(), ['description', 'name', 'slug'])

  const created = await app.inject({ method: 'POST', url: '/api/v1/roles', headers: admin.headers, payload: { slug: 'support', name: 'Support', description: 'Answers tickets' } })
  assert.equal(created.statusCode, 201)
  assert.deepEqual(created.json(), { slug: 'support', name: 'Support', description: 'Answers tickets' })
  const bare = await app.inject({ method: 'POST', url: '/api/v1/roles', headers: admin.headers, payload: { slug: 'auditor', name: 'Auditor' } })
  assert.deepEqual(bare.json(), { slug: 'auditor', name: 'Auditor', description: null })

  const duplicate = await app.inject({ method: 'POST', url: '/api/v1/roles', headers: admin.headers, payload: { slug: 'support', name: 'Other' } })
  assert.equal(duplicate.statusCode, 409)
  assert.deepEqual(duplicate.json(), { detail: 'Role already exists', code: 'role_exists' })

  for (const payload of [{ slug: 'Bad Slug', name: 'x' }, { slug: 'ok', name: '' }, { name: 'x' }, { slug: 'x'.repeat(40), name: 'x' }]) {
    const response = await app.inject({ method: 'POST', url: '/api/v1/roles', headers: admin.headers, payload })
    assert.equal(response.statusCode, 422, JSON.stringify(payload))
    assert.equal(response.json().code, 'validation_error')
  }
  const listed = await app.inject({ method: 'GET', url: '/api/v1/roles', headers: admin.headers })
  assert.deepEqual(listed.json().map((r: { slug: string }) => r.slug).sort(), ['admin', 'auditor', 'member', 'support'])

  const user = await createSignedInUser(app, admin.headers, { role: 'support' })
  assert.equal(user.user.role, 'support')
  assert.equal(decodeJwt(user.accessToken).role, 'support')

  const db = openDirectDb(t, databaseUrl)
  const events = await db.selectFrom('audit_events').selectAll().where('type', '=', 'admin.role.create').execute()
  assert.equal(events.length, 2)
  assert.equal(events[0]!.actor_id, admin.id)
})

test('concurrent creates of one role: one 201, the others 409', async (t) => {
  const { app, admin } = await buildAdminApp(t)
  const responses = await Promise.all(Array.from({ length: 4 }, () => app.inject({ method: 'POST', url: '/api/v1/roles', headers: admin.headers, payload: { slug: 'ops', name: 'Ops' } })))
  assert.deepEqual(responses.map((r) => r.statusCode).sort(), [201, 409, 409, 409])
})
