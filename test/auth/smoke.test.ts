import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp } from '../helpers/build-test-app.js'
import { bearer, signUp } from '../helpers/factories.js'

test('sign-up then /me with the access token', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const me = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(user.accessToken) })
  assert.equal(me.statusCode, 200)
  assert.equal(me.json().email, user.email)
})
