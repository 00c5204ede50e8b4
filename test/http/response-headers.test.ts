import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp } from '../helpers/build-test-app.js'
import { bearer, PASSWORD, signUp } from '../helpers/factories.js'
import { enableTotp } from '../helpers/mfa.js'

const env = { PUBLIC_URL: 'https://auth.example.com' }

/** What every response promises (API.md, SECURITY.md), JSON or HTML, success or error. */
function assertApiHeaders (headers: Record<string, unknown>, what: string): void {
  assert.equal(headers['x-content-type-options'], 'nosniff', what)
  assert.match(String(headers['content-security-policy']), /default-src 'none'/, what)
  assert.match(String(headers['content-security-policy']), /frame-ancestors 'none'/, what)
  assert.equal(headers['x-frame-options'], 'DENY', what)
  assert.equal(headers['referrer-policy'], 'no-referrer', what)
  assert.match(String(headers['strict-transport-security']), /max-age=31536000; includeSubDomains/, what)
  assert.match(String(headers['x-request-id']), /^[0-9a-f-]{36}$/, what)
}

/** Headers that only a rendered document uses. */
const DOCUMENT_ONLY = ['cross-origin-opener-policy', 'cross-origin-resource-policy', 'origin-agent-cluster', 'x-dns-prefetch-control',
  'x-download-options', 'x-permitted-cross-domain-policies', 'x-xss-protection']

test('API JSON answers carry the API set of security headers and none of the document-only ones', async (t) => {
  const app = await buildTestApp(t, env)
  const user = await signUp(app)
  const answers = {
    me: await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(user.accessToken) }),
    unauthenticated: await app.inject({ method: 'GET', url: '/api/v1/auth/me' }),
    invalidToken: await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer('not-a-token') }),
    refresh: await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: user.refreshToken } }),
    validation: await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: 'not an email' } }),
    notFound: await app.inject({ method: 'GET', url: '/api/v1/nowhere' }),
    health: await app.inject({ method: 'GET', url: '/healthz' })
  }
  assert.equal(answers.me.statusCode, 200)
  assert.equal(answers.unauthenticated.statusCode, 401)
  assert.equal(answers.invalidToken.statusCode, 401)
  assert.equal(answers.refresh.statusCode, 200)
  assert.equal(answers.validation.statusCode, 422)
  assert.equal(answers.notFound.statusCode, 404)
  for (const [what, answer] of Object.entries(answers)) {
    assert.match(String(answer.headers['content-type']), /^application\/json/, what)
    assertApiHeaders(answer.headers, what)
    for (const name of DOCUMENT_ONLY) assert.equal(answer.headers[name], undefined, `${what}: ${name}`)
  }
  // Token responses are never stored by a cache (RFC 6749 §5.1); /me is not a token response.
  assert.equal(answers.refresh.headers['cache-control'], 'no-store')
  assert.equal(answers.refresh.headers.pragma, 'no-cache')
  assert.equal(answers.unauthenticated.headers['www-authenticate'], 'Bearer')
})

/** @see red-team findings, round 3, informational: the 403 mfa_required carried its mfa_token without no-store. */
test('the 403 mfa_required of /signin, /login and /token carries its mfa_token with no-store, like every token answer', async (t) => {
  const app = await buildTestApp(t, env)
  const user = await signUp(app)
  await enableTotp(app, user.accessToken, PASSWORD, new Date())
  const form = { 'content-type': 'application/x-www-form-urlencoded' }
  const answers = {
    signin: await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: user.email, password: PASSWORD } }),
    login: await app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: form, payload: new URLSearchParams({ username: user.email, password: PASSWORD }).toString() }),
    token: await app.inject({ method: 'POST', url: '/api/v1/auth/token', headers: form, payload: new URLSearchParams({ grant_type: 'password', username: user.email, password: PASSWORD }).toString() })
  }
  for (const [what, answer] of Object.entries(answers)) {
    assert.equal(answer.statusCode, 403, what)
    assert.equal(typeof answer.json().mfa_token, 'string', what)
    assert.equal(answer.headers['cache-control'], 'no-store', what)
    assert.equal(answer.headers.pragma, 'no-cache', what)
  }
})

test('HTML (the docs) also carries the document-only headers, and keeps its own CSP', async (t) => {
  const app = await buildTestApp(t, env)
  const docs = await app.inject({ method: 'GET', url: '/docs/' })
  assert.equal(docs.statusCode, 200)
  assert.match(String(docs.headers['content-type']), /^text\/html/)
  assert.equal(docs.headers['x-content-type-options'], 'nosniff')
  assert.equal(docs.headers['x-frame-options'], 'DENY')
  assert.equal(docs.headers['referrer-policy'], 'no-referrer')
  assert.match(String(docs.headers['strict-transport-security']), /max-age=31536000/)
  assert.match(String(docs.headers['content-security-policy']), /script-src 'self'/)
  assert.equal(docs.headers['cross-origin-opener-policy'], 'same-origin')
  assert.equal(docs.headers['cross-origin-resource-policy'], 'same-origin')
  assert.equal(docs.headers['x-xss-protection'], '0')
  for (const name of DOCUMENT_ONLY) assert.ok(docs.headers[name] !== undefined, name)
})
