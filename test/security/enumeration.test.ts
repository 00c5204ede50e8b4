import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { LightMyRequestResponse } from 'fastify'
import { buildTestApp } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { PASSWORD, signUp, uniqueEmail } from '../helpers/factories.js'
import { createTestDatabaseUrl } from '../helpers/test-db.js'

/** What a client can observe of an answer, minus what differs per request by nature. */
function observable (response: LightMyRequestResponse) {
  const { date: _date, 'x-request-id': _id, ...headers } = response.headers
  return { status: response.statusCode, body: response.body, headers }
}

const form = { 'content-type': 'application/x-www-form-urlencoded' }

test('sign-in answers an unknown email exactly like a known email with a wrong password', async (t) => {
  const app = await buildTestApp(t)
  const known = await signUp(app)
  const unknown = uniqueEmail()
  const requests = (email: string) => [
    { method: 'POST' as const, url: '/api/v1/auth/signin', payload: { email, password: 'wrong password' } },
    { method: 'POST' as const, url: '/api/v1/auth/login', payload: `username=${encodeURIComponent(email)}&password=wrong`, headers: form },
    { method: 'POST' as const, url: '/api/v1/auth/token', payload: `grant_type=password&username=${encodeURIComponent(email)}&password=wrong`, headers: form }
  ]
  // /signin and /login answer 401 invalid_credentials; /token answers RFC 6749's 400 invalid_grant.
  const expectedStatus = [401, 401, 400]
  const [knownRequests, unknownRequests] = [requests(known.email), requests(unknown)]
  for (let i = 0; i < knownRequests.length; i++) {
    const a = observable(await app.inject(knownRequests[i]!))
    const b = observable(await app.inject(unknownRequests[i]!))
    assert.deepEqual(a, b, knownRequests[i]!.url)
    assert.equal(a.status, expectedStatus[i], knownRequests[i]!.url)
  }
  const token = await app.inject(knownRequests[2]!)
  assert.deepEqual(token.json(), { error: 'invalid_grant', error_description: 'Invalid email or password' })
  const signin = await app.inject(knownRequests[0]!)
  assert.deepEqual(signin.json(), { detail: 'Invalid email or password', code: 'invalid_credentials' })
})

test('a disabled account with a wrong password gets the generic 401; its state shows only to its password', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const app = await buildTestApp(t, { DATABASE_URL: url })
  const db = openDirectDb(t, url)
  const user = await signUp(app)
  await db.updateTable('users').set({ is_active: 0 }).where('id', '=', user.userId).execute()
  const wrong = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: user.email, password: 'wrong password' } })
  const unknown = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: uniqueEmail(), password: 'wrong password' } })
  assert.deepEqual(observable(wrong), observable(unknown))
  assert.equal(wrong.statusCode, 401)
  const right = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: user.email, password: PASSWORD } })
  assert.equal(right.statusCode, 403)
  assert.equal(right.json().code, 'inactive_user')
  assert.equal(right.headers['set-cookie'], undefined)
})
