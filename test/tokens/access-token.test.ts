import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose'
import { buildTestApp } from '../helpers/build-test-app.js'
import { createTestDatabaseUrl } from '../helpers/test-db.js'
import { bearer, signUp } from '../helpers/factories.js'

const ME = '/api/v1/auth/me'

function b64 (value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

test('the access token carries the contract\'s claims under a pinned algorithm', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const header = decodeProtectedHeader(user.accessToken)
  assert.equal(header.alg, 'EdDSA')
  assert.ok(header.kid)
  const claims = decodeJwt(user.accessToken)
  for (const claim of ['sub', 'sid', 'jti', 'iat', 'exp', 'iss', 'role', 'email']) assert.ok(claim in claims, claim)
  assert.equal(claims.sub, user.userId)
  assert.equal(claims.role, 'member')
  assert.equal(claims.email, user.email)
  assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 900)
})

test('alg "none", a tampered payload and an HS256 token are refused', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const [header, payload, signature] = user.accessToken.split('.') as [string, string, string]
  const claims = decodeJwt(user.accessToken)
  const escalated = b64({ ...claims, role: 'admin' })
  const forged = [
    `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`,
    `${header}.${escalated}.${signature}`,
    await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256', kid: decodeProtectedHeader(user.accessToken).kid }).sign(new TextEncoder().encode('x'.repeat(32)))
  ]
  for (const token of forged) {
    const res = await app.inject({ method: 'GET', url: ME, headers: bearer(token) })
    assert.equal(res.statusCode, 401, token)
    assert.equal(res.json().code, 'invalid_token')
  }
})

test('with JWT_SECRET, tokens are HS256 and verify', async (t) => {
  const app = await buildTestApp(t, { JWT_SECRET: 's'.repeat(40) })
  const user = await signUp(app)
  assert.equal(decodeProtectedHeader(user.accessToken).alg, 'HS256')
  assert.equal((await app.inject({ method: 'GET', url: ME, headers: bearer(user.accessToken) })).statusCode, 200)
})

test('a token issued before a restart still works after it, on the same database', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const first = await buildTestApp(t, { DATABASE_URL: url })
  const user = await signUp(first)
  await first.close()

  const second = await buildTestApp(t, { DATABASE_URL: url })
  const me = await second.inject({ method: 'GET', url: ME, headers: bearer(user.accessToken) })
  assert.equal(me.statusCode, 200)
  assert.equal(me.json().id, user.userId)
  const refreshed = await second.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: user.refreshToken } })
  assert.equal(refreshed.statusCode, 200)
  const jwks = await second.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  assert.equal(jwks.json().keys.length, 1, 'no new key was generated on restart')
})
