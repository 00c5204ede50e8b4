import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildAdminApp } from '../helpers/admin.js'
import { PASSWORD, uniqueEmail, uniqueUsername } from '../helpers/factories.js'

test('cookie-authenticated admin writes from another site are refused (403 csrf_failed) and change nothing', async (t) => {
  const { app, admin } = await buildAdminApp(t)
  const cookie = { cookie: `access_token=${admin.accessToken}` }
  const newUser = () => ({ email: uniqueEmail(), username: uniqueUsername(), password: PASSWORD, is_superuser: true })

  for (const headers of [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }, { referer: 'https://evil.example/page' }, { origin: 'null' }]) {
    const users = await app.inject({ method: 'POST', url: '/api/v1/users', headers: { ...cookie, ...headers }, payload: newUser() })
    assert.equal(users.statusCode, 403, JSON.stringify(headers))
    assert.deepEqual(users.json(), { detail: 'Cross-site request refused', code: 'csrf_failed' })
    const roles = await app.inject({ method: 'POST', url: '/api/v1/roles', headers: { ...cookie, ...headers }, payload: { slug: 'evil', name: 'Evil' } })
    assert.equal(roles.statusCode, 403)
  }
  const list = await app.inject({ method: 'GET', url: '/api/v1/users', headers: { ...cookie, origin: 'https://evil.example' } })
  assert.equal(list.statusCode, 200)
  assert.equal(list.json().total, 1)

  const sameOrigin = await app.inject({ method: 'POST', url: '/api/v1/users', headers: { ...cookie, origin: 'http://localhost:8000', 'sec-fetch-site': 'same-origin' }, payload: newUser() })
  assert.equal(sameOrigin.statusCode, 201)
  const noOrigin = await app.inject({ method: 'POST', url: '/api/v1/users', headers: cookie, payload: newUser() })
  assert.equal(noOrigin.statusCode, 201)
  const bearer = await app.inject({ method: 'POST', url: '/api/v1/users', headers: { ...admin.headers, origin: 'https://evil.example' }, payload: newUser() })
  assert.equal(bearer.statusCode, 201)
})
