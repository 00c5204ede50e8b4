import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeJwt } from 'jose'
import { buildAdminApp, createSignedInUser, signIn } from '../helpers/admin.js'

const ME = '/api/v1/auth/me'

/** Each case changes a signed-in user; their existing access token must be refused at once. */
const REVOKING: Array<[string, Record<string, unknown>]> = [
  ['deactivation', { is_active: false }],
  ['demotion from superuser', { is_superuser: false }],
  ['a role change', { role: 'member' }],
  ['a password set by an admin', { password: 'a brand new admin-set passphrase' }]
]

for (const [what, patch] of REVOKING) {
  test(`${what} refuses the user's existing access and refresh tokens on the very next request`, async (t) => {
    const { app, admin } = await buildAdminApp(t)
    const target = await createSignedInUser(app, admin.headers, { is_superuser: true, role: 'admin' })
    // The token is live and cached before the change.
    assert.equal((await app.inject({ method: 'GET', url: ME, headers: target.headers })).statusCode, 200)
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/users', headers: target.headers })).statusCode, 200)

    const patched = await app.inject({ method: 'PATCH', url: `/api/v1/users/${target.id}`, headers: admin.headers, payload: patch })
    assert.equal(patched.statusCode, 200)

    const me = await app.inject({ method: 'GET', url: ME, headers: target.headers })
    assert.equal(me.statusCode, 401)
    assert.equal(me.json().code, 'invalid_token')
    const refresh = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: target.refreshToken } })
    assert.equal(refresh.statusCode, 401)
    // The admin's own session is untouched.
    assert.equal((await app.inject({ method: 'GET', url: ME, headers: admin.headers })).statusCode, 200)

    if ('password' in patch) {
      const fresh = await signIn(app, target.email, patch.password as string)
      assert.equal((await app.inject({ method: 'GET', url: ME, headers: fresh.headers })).statusCode, 200)
      const old = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: target.email, password: target.password } })
      assert.equal(old.statusCode, 401)
    }
    if ('is_active' in patch) {
      const signin = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: target.email, password: target.password } })
      assert.equal(signin.statusCode, 403)
      assert.equal(signin.json().code, 'inactive_user')
    }
  })
}

test('deletion refuses the deleted user\'s existing access token on the very next request', async (t) => {
  const { app, admin } = await buildAdminApp(t)
  const target = await createSignedInUser(app, admin.headers)
  assert.equal((await app.inject({ method: 'GET', url: ME, headers: target.headers })).statusCode, 200)
  const deleted = await app.inject({ method: 'DELETE', url: `/api/v1/users/${target.id}`, headers: admin.headers })
  assert.equal(deleted.statusCode, 204)
  const me = await app.inject({ method: 'GET', url: ME, headers: target.headers })
  assert.equal(me.statusCode, 401)
  assert.equal(me.json().code, 'invalid_token')
})

test('other changes keep the session but show at once; a new sign-in carries the new role claim', async (t) => {
  const { app, admin } = await buildAdminApp(t)
  const target = await createSignedInUser(app, admin.headers)
  assert.equal(decodeJwt(target.accessToken).role, 'member')
  assert.equal((await app.inject({ method: 'GET', url: ME, headers: target.headers })).json().name, null)
  const patched = await app.inject({ method: 'PATCH', url: `/api/v1/users/${target.id}`, headers: admin.headers, payload: { name: 'Renamed', is_verified: true } })
  assert.equal(patched.statusCode, 200)
  const me = await app.inject({ method: 'GET', url: ME, headers: target.headers })
  assert.equal(me.statusCode, 200)
  assert.equal(me.json().name, 'Renamed')
  assert.equal(me.json().is_verified, true)

  const role = await app.inject({ method: 'PATCH', url: `/api/v1/users/${target.id}`, headers: admin.headers, payload: { role: 'admin' } })
  assert.equal(role.statusCode, 200)
  const fresh = await signIn(app, target.email, target.password)
  assert.equal(decodeJwt(fresh.accessToken).role, 'admin')
  assert.equal(decodeJwt(admin.accessToken).role, 'admin')
})
