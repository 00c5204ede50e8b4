import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp, waitUntilReady } from '../helpers/build-test-app.js'

test('/healthz and /readyz answer 200 while the database answers', async (t) => {
  const app = await buildTestApp(t)
  const health = await app.inject({ method: 'GET', url: '/healthz' })
  assert.equal(health.statusCode, 200)
  assert.equal(health.json().status, 'ok')
  const ready = await app.inject({ method: 'GET', url: '/readyz' })
  assert.equal(ready.statusCode, 200)
  assert.equal(ready.json().checks.database, 'ok')
})

test('/readyz is 503 when Redis does not answer', async (t) => {
  // Port 1 on loopback: nothing listens there, so the connection is refused at once.
  const app = await buildTestApp(t, { REDIS_URL: 'redis://127.0.0.1:1' })
  const ready = await app.inject({ method: 'GET', url: '/readyz' })
  assert.equal(ready.statusCode, 503)
  assert.equal(ready.json().checks.redis, 'unavailable')
})

test('/openapi.json documents every auth endpoint; /docs serves the browser UI', async (t) => {
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/openapi.json' })
  assert.equal(res.statusCode, 200)
  const doc = res.json()
  assert.equal(doc.openapi, '3.1.0')
  for (const path of ['signup', 'signin', 'login', 'token', 'refresh', 'logout', 'logout-all', 'me', 'change-password', 'sessions', 'sessions/{id}']) {
    assert.ok(doc.paths[`/api/v1/auth/${path}`], path)
  }
  assert.ok(doc.paths['/api/v1/auth/me'].patch)
  const docs = await app.inject({ method: 'GET', url: '/docs' })
  assert.ok([200, 302].includes(docs.statusCode))
})

test('with Redis, /readyz reports the revocation channel and is 200 once subscribed', async (t) => {
  const app = await buildTestApp(t, { REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', REDIS_KEY_PREFIX: `ready-${Date.now()}:` })
  await waitUntilReady(app)
  const ready = await app.inject({ method: 'GET', url: '/readyz' })
  assert.deepEqual(ready.json().checks, { database: 'ok', redis: 'ok', revocations: 'ok' })
})
