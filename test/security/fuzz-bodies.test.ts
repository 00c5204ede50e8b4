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
    { method: 'DELETE', url: '/api/v1/auth/sessions/not-a-session', headers: auth }
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
  // /logout and /logout-all with credentials (without, every run would be the same 401): each
  // run has a fresh session of another user; the body is refused with a 4xx that changes
  // nothing, or ignored, and then the session is really over.
  const other = await signUp(app)
  for (const url of ['/api/v1/auth/logout', '/api/v1/auth/logout-all']) {
    await fc.assert(fc.asyncProperty(fuzzJsonBody, async (payload) => {
      const signin = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: other.email, password: other.password } })
      assert.equal(signin.statusCode, 200)
      const session = bearer(signin.json().access_token as string)
      const before = await snapshot(db)
      const response = await app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json', ...session } })
      if (response.statusCode === 204) {
        assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: session })).statusCode, 401, `${url} left the session live`)
        return
      }
      assert.ok(response.statusCode >= 400 && response.statusCode < 500, `${url} → ${response.statusCode} ${response.body.slice(0, 200)}`)
      assert.equal(typeof response.json().code, 'string')
      assert.equal(await snapshot(db), before, `${url} changed rows`)
      assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: session })).statusCode, 200, `${url} refused yet revoked`)
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

test('the audit-events query string never yields a 500', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const app = await buildTestApp(t, { DATABASE_URL: url })
  const db = openDirectDb(t, url)
  const admin = await signUp(app)
  await db.updateTable('users').set({ is_superuser: 1 }).where('id', '=', admin.userId).execute()
  const key = fc.constantFrom('user_id', 'type', 'limit', 'offset', '__proto__', 'constructor', 'x')
  const value = fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), fc.integer().map(String), fc.constantFrom('1e3', '-0', '0x10', '100', '101', '', '\u0000', 'a\u0000b'))
  await fc.assert(fc.asyncProperty(fc.array(fc.tuple(key, value), { maxLength: 5 }), async (pairs) => {
    const query = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')
    const response = await app.inject({ method: 'GET', url: `/api/v1/audit-events?${query}`, headers: bearer(admin.accessToken) })
    assert.ok([200, 422].includes(response.statusCode), `${query} → ${response.statusCode} ${response.body.slice(0, 200)}`)
  }), { numRuns: NUM_RUNS * 2 })
})

test('NUL characters anywhere in the input are a 422, on every dialect', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const app = await buildTestApp(t, { DATABASE_URL: url })
  const db = openDirectDb(t, url)
  const user = await signUp(app)
  const before = await snapshot(db)
  for (const request of [
    { method: 'PATCH' as const, url: '/api/v1/auth/me', payload: { name: 'a\u0000b' }, headers: bearer(user.accessToken) },
    { method: 'DELETE' as const, url: '/api/v1/auth/sessions/%00', headers: bearer(user.accessToken) },
    { method: 'GET' as const, url: '/api/v1/audit-events?type=a%00b', headers: bearer(user.accessToken) },
    { method: 'POST' as const, url: '/api/v1/auth/signup', payload: { email: 'nul@example.com', username: 'nul_user', password: 'a long pass\u0000phrase here' } }
  ]) {
    const response = await app.inject(request)
    assert.equal(response.statusCode, 422, `${request.url}: ${response.body}`)
    assert.equal(response.json().errors[0].message, 'must not contain NUL characters')
  }
  assert.equal(await snapshot(db), before)
})
