import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp } from '../helpers/build-test-app.js'
import { signUp, uniqueEmail } from '../helpers/factories.js'

const SIGNUP = '/api/v1/auth/signup'

test('malformed JSON is 400 invalid_json and creates nothing', async (t) => {
  const app = await buildTestApp(t)
  for (const payload of ['{bad', '{"email": "a@b.co",', 'nul']) {
    const res = await app.inject({ method: 'POST', url: SIGNUP, payload, headers: { 'content-type': 'application/json' } })
    assert.equal(res.statusCode, 400)
    assert.deepEqual(Object.keys(res.json()).sort(), ['code', 'detail'])
    assert.equal(res.json().code, 'invalid_json')
  }
})

test('prototype-pollution keys are refused as invalid JSON', async (t) => {
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'POST', url: SIGNUP, payload: `{"email":"${uniqueEmail()}","username":"proto_1","password":"a fine long passphrase","__proto__":{"is_superuser":true}}`, headers: { 'content-type': 'application/json' } })
  assert.equal(res.statusCode, 400)
  assert.equal(res.json().code, 'invalid_json')
})

test('a body over 64 KiB is 413 in the error shape', async (t) => {
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'POST', url: SIGNUP, payload: JSON.stringify({ email: 'a@b.co', name: 'x'.repeat(70 * 1024) }), headers: { 'content-type': 'application/json' } })
  assert.equal(res.statusCode, 413)
  assert.equal(res.json().code, 'payload_too_large')
  assert.equal(typeof res.json().detail, 'string')
})

test('an unsupported content type is 415 in the error shape', async (t) => {
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'POST', url: SIGNUP, payload: 'hello', headers: { 'content-type': 'text/xml' } })
  assert.equal(res.statusCode, 415)
  assert.equal(res.json().code, 'unsupported_media_type')
})

test('an unknown route is 404 not_found', async (t) => {
  const app = await buildTestApp(t)
  for (const [method, url] of [['GET', '/nope'], ['POST', '/api/v1/auth/nope'], ['DELETE', '/api/v1/auth/me']] as const) {
    const res = await app.inject({ method, url })
    assert.equal(res.statusCode, 404, `${method} ${url}`)
    assert.deepEqual(res.json(), { detail: 'Not found', code: 'not_found' })
  }
})

test('an unexpected error is a bare 500 internal_error: no message, no stack', async (t) => {
  const app = await buildTestApp(t)
  app.get('/test-explodes', async () => { throw new Error('SELECT secret FROM users failed at /srv/app.ts:12') })
  const res = await app.inject({ method: 'GET', url: '/test-explodes' })
  assert.equal(res.statusCode, 500)
  assert.deepEqual(res.json(), { detail: 'Internal server error', code: 'internal_error' })
  assert.ok(res.headers['x-request-id'])
})

test('every response carries x-request-id, echoing a sane incoming one only', async (t) => {
  const app = await buildTestApp(t)
  const echoed = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'abc-123_x.y:z' } })
  assert.equal(echoed.headers['x-request-id'], 'abc-123_x.y:z')
  const insane = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'bad id <script>' } })
  assert.match(String(insane.headers['x-request-id']), /^[0-9a-f-]{36}$/)
  const generated = await app.inject({ method: 'GET', url: '/nope' })
  assert.match(String(generated.headers['x-request-id']), /^[0-9a-f-]{36}$/)
  const user = await signUp(app)
  const error = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: 'Bearer x' } })
  assert.ok(error.headers['x-request-id'])
  assert.ok(user.response.headers['x-request-id'])
})
