import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildAdminApp } from '../helpers/admin.js'
import { bearer, signUp } from '../helpers/factories.js'

const ENDPOINTS = [
  { method: 'GET', url: '/api/v1/users' },
  { method: 'POST', url: '/api/v1/users', payload: { email: 'x@example.com', username: 'xxx', password: 'a long and unusual passphrase 42' } },
  { method: 'GET', url: '/api/v1/users/ID' },
  { method: 'PATCH', url: '/api/v1/users/ID', payload: { is_superuser: true } },
  { method: 'DELETE', url: '/api/v1/users/ID' },
  { method: 'GET', url: '/api/v1/roles' },
  { method: 'POST', url: '/api/v1/roles', payload: { slug: 'auditor', name: 'Auditor' } }
] as const

test('admin endpoints: 401 without a token, 403 forbidden for a member (even with a bad body)', async (t) => {
  const { app, admin } = await buildAdminApp(t)
  const member = await signUp(app)
  for (const endpoint of ENDPOINTS) {
    const url = endpoint.url.replace('ID', member.userId)
    const payload = 'payload' in endpoint ? endpoint.payload : undefined
    const anonymous = await app.inject({ method: endpoint.method, url, ...(payload ? { payload } : {}) })
    assert.equal(anonymous.statusCode, 401, `${endpoint.method} ${url}`)
    assert.equal(anonymous.json().code, 'not_authenticated')

    const forbidden = await app.inject({ method: endpoint.method, url, headers: bearer(member.accessToken), ...(payload ? { payload } : {}) })
    assert.equal(forbidden.statusCode, 403, `${endpoint.method} ${url}`)
    assert.deepEqual(forbidden.json(), { detail: 'Superuser privileges required', code: 'forbidden' })

    if (endpoint.method !== 'GET' && endpoint.method !== 'DELETE') {
      const badBody = await app.inject({ method: endpoint.method, url, headers: bearer(member.accessToken), payload: { email: 12 } })
      assert.equal(badBody.statusCode, 403)
    }
  }
  // The member was not changed by any of it.
  const me = await app.inject({ method: 'GET', url: `/api/v1/users/${member.userId}`, headers: admin.headers })
  assert.equal(me.statusCode, 200)
  assert.equal(me.json().is_superuser, false)
  const roles = await app.inject({ method: 'GET', url: '/api/v1/roles', headers: admin.headers })
  assert.deepEqual(roles.json().map((r: { slug: string }) => r.slug).sort(), ['admin', 'member'])
})

test('a superuser created by the primary admin can use the admin API', async (t) => {
  const { app, admin } = await buildAdminApp(t)
  const member = await signUp(app)
  const promote = await app.inject({ method: 'PATCH', url: `/api/v1/users/${member.userId}`, headers: admin.headers, payload: { is_superuser: true } })
  assert.equal(promote.statusCode, 200)
  assert.equal(promote.json().is_superuser, true)
  // Promotion needs no new sign-in: the next request sees the new state.
  const list = await app.inject({ method: 'GET', url: '/api/v1/users', headers: bearer(member.accessToken) })
  assert.equal(list.statusCode, 200)
  assert.equal(list.json().total, 2)
})
