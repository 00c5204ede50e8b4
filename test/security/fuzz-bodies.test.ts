import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { buildTestApp } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { bearer, signUp } from '../helpers/factories.js'
import { createTestDatabaseUrl } from '../helpers/test-db.js'
import { fuzzFormBody, fuzzJsonBody, prototypeIsClean, snapshot } from './fuzz-helpers.js'

const NUM_RUNS = 25

test('every endpoint answers random, mistyped, huge, unicode and prototype-polluting bodies with a 4xx and changes nothing', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const app = await buildTestApp(t, { DATABASE_URL: url })
  const db = openDirectDb(t, url)
  const user = await signUp(app)
  const auth = bearer(user.accessToken)

  const jsonEndpoints: Array<{ method: 'POST' | 'PATCH' | 'DELETE', url: string, headers?: Record<string, string> }> = [
    { method: 'POST', url: '/api/v1/auth/signup' },
    { method: 'POST', url: '/api/v1/auth/signin' },
    { method: 'POST', url: '/api/v1/auth/refresh' },
    { method: 'POST', url: '/api/v1/auth/change-password', headers: auth },
    { method: 'PATCH', url: '/api/v1/auth/me', headers: auth },
    { method: 'DELETE', url: '/api/v1/auth/sessions/not-a-session', headers: auth },
    { method: 'POST', url: '/api/v1/auth/logout' },
    { method: 'POST', url: '/api/v1/auth/logout-all' }
  ]
  const formEndpoints = ['/api/v1/auth/login', '/api/v1/auth/token']

  for (const endpoint of jsonEndpoints) {
    await fc.assert(fc.asyncProperty(fuzzJsonBody, async (payload) => {
      const before = await snapshot(db)
      const response = await app.inject({ method: endpoint.method, url: endpoint.url, payload, headers: { 'content-type': 'application/json', ...endpoint.headers } })
      // PATCH /me may legitimately accept a random but valid {name}; anything refused must change nothing.
      if (endpoint.method === 'PATCH' && response.statusCode === 200) return
      assert.ok(response.statusCode >= 400 && response.statusCode < 500, `${endpoint.method} ${endpoint.url} → ${response.statusCode} ${response.body.slice(0, 200)}`)
      const body = response.json()
      assert.equal(typeof body.detail, 'string')
      assert.equal(typeof body.code, 'string')
      assert.equal(await snapshot(db), before, `${endpoint.url} changed rows`)
    }), { numRuns: NUM_RUNS })
  }
  for (const path of formEndpoints) {
    await fc.assert(fc.asyncProperty(fuzzFormBody, async (payload) => {
      const before = await snapshot(db)
      const response = await app.inject({ method: 'POST', url: path, payload, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
      assert.ok(response.statusCode >= 400 && response.statusCode < 500, `${path} → ${response.statusCode} ${response.body.slice(0, 200)}`)
      assert.equal(await snapshot(db), before, `${path} changed rows`)
    }), { numRuns: NUM_RUNS })
  }
  assert.ok(prototypeIsClean(), 'Object.prototype was polluted')
  // The fuzzed user is intact and still signed in.
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: auth })).statusCode, 200)
})

test('prototype keys are ignored, never stored or promoted', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const app = await buildTestApp(t, { DATABASE_URL: url })
  const user = await signUp(app)
  const payload = '{"name":"Eve","__proto__":{"is_superuser":true,"role":"admin"},"constructor":{"prototype":{"polluted":1}}}'
  const response = await app.inject({ method: 'PATCH', url: '/api/v1/auth/me', payload, headers: { ...bearer(user.accessToken), 'content-type': 'application/json' } })
  assert.ok(response.statusCode < 500)
  const me = (await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(user.accessToken) })).json()
  assert.equal(me.is_superuser, false)
  assert.equal(me.role, 'member')
  assert.ok(prototypeIsClean())
})
