import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildAdminApp, createSignedInUser } from '../helpers/admin.js'

const FORBIDDEN = { detail: 'Superuser privileges required', code: 'forbidden' }

test('nobody can delete, deactivate, demote or take over the primary admin', async (t) => {
  const { app, admin } = await buildAdminApp(t)
  const other = await createSignedInUser(app, admin.headers, { is_superuser: true })
  const url = `/api/v1/users/${admin.id}`
  for (const payload of [{ is_active: false }, { is_superuser: false }, { role: 'member' }, { password: 'a takeover passphrase 99' }, { email: 'mine@example.com' }, { name: 'x' }]) {
    const response = await app.inject({ method: 'PATCH', url, headers: other.headers, payload })
    assert.equal(response.statusCode, 403, JSON.stringify(payload))
    assert.deepEqual(response.json(), FORBIDDEN)
  }
  const deleted = await app.inject({ method: 'DELETE', url, headers: other.headers })
  assert.equal(deleted.statusCode, 403)
  assert.deepEqual(deleted.json(), FORBIDDEN)

  const primary = await app.inject({ method: 'GET', url, headers: other.headers })
  assert.equal(primary.statusCode, 200)
  assert.equal(primary.json().is_active, true)
  assert.equal(primary.json().is_superuser, true)
  assert.equal(primary.json().role, 'admin')
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: admin.headers })).statusCode, 200)
})

test('no superuser can delete, deactivate or demote themself, but may edit their own name', async (t) => {
  const { app, admin } = await buildAdminApp(t)
  const other = await createSignedInUser(app, admin.headers, { is_superuser: true, role: 'admin' })
  for (const actor of [admin, other]) {
    const url = `/api/v1/users/${actor.id}`
    for (const payload of [{ is_active: false }, { is_superuser: false }, { role: 'member' }]) {
      const response = await app.inject({ method: 'PATCH', url, headers: actor.headers, payload })
      assert.equal(response.statusCode, 403, JSON.stringify(payload))
      assert.deepEqual(response.json(), FORBIDDEN)
    }
    const deleted = await app.inject({ method: 'DELETE', url, headers: actor.headers })
    assert.equal(deleted.statusCode, 403)
    const renamed = await app.inject({ method: 'PATCH', url, headers: actor.headers, payload: { name: 'Me', is_active: true, is_superuser: true } })
    assert.equal(renamed.statusCode, 200)
    assert.equal(renamed.json().name, 'Me')
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: actor.headers })).statusCode, 200)
  }
  // Another superuser may demote a non-primary superuser.
  const demoted = await app.inject({ method: 'PATCH', url: `/api/v1/users/${other.id}`, headers: admin.headers, payload: { is_superuser: false } })
  assert.equal(demoted.statusCode, 200)
  const refused = await app.inject({ method: 'GET', url: '/api/v1/users', headers: other.headers })
  assert.equal(refused.statusCode, 401)
})
