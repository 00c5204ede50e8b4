import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { buildTestAppWithDatabase, buildTestApp } from '../helpers/build-test-app.js'
import { bearer, PASSWORD, signUp } from '../helpers/factories.js'
import { fakeClock } from '../helpers/fake-clock.js'

/** @see issue 15 item 19 and issue 14 (RFC 9068 access tokens) */

test('access tokens carry the RFC 9068 claims: typ at+jwt, iss, sub, aud, client_id, iat, exp, jti, amr', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  assert.equal(decodeProtectedHeader(user.accessToken).typ, 'at+jwt')
  const claims = decodeJwt(user.accessToken)
  assert.equal(claims.iss, 'http://127.0.0.1:8000')
  assert.equal(claims.aud, 'http://127.0.0.1:8000', 'JWT_AUDIENCE defaults to the issuer')
  assert.equal(claims.sub, user.userId)
  assert.equal(claims.client_id, 'authd')
  assert.deepEqual(claims.amr, ['pwd'])
  assert.equal(typeof claims.jti, 'string')
  assert.equal(claims.exp! - claims.iat!, 900)
})

test('the verifier refuses a token for another audience, signed with our own key', async (t) => {
  const { app: api, databaseUrl } = await buildTestAppWithDatabase(t, { JWT_AUDIENCE: 'https://api.example.com' })
  // Another deployment on the same keys (database) that serves another audience.
  const other = await buildTestApp(t, { DATABASE_URL: databaseUrl, JWT_AUDIENCE: 'https://other.example.com' })
  const user = await signUp(api)
  const signin = await other.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: user.email, password: PASSWORD } })
  const foreign = signin.json().access_token as string
  assert.equal(decodeProtectedHeader(foreign).kid, decodeProtectedHeader(user.accessToken).kid, 'the same signing key')
  assert.equal((await api.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(user.accessToken) })).statusCode, 200)
  const refused = await api.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(foreign) })
  assert.equal(refused.statusCode, 401)
  assert.equal(refused.json().code, 'invalid_token')
})

test('the verifier refuses an iat in the future beyond 30 s of skew, and tolerates a little', async (t) => {
  const { app, databaseUrl } = await buildTestAppWithDatabase(t)
  const user = await signUp(app)
  // Instances on the same database whose clocks run ahead of this one's.
  for (const [aheadSeconds, expected] of [[10, 200], [120, 401]] as const) {
    const clock = fakeClock(new Date(Date.now() + aheadSeconds * 1000))
    const fast = await buildTestApp(t, { DATABASE_URL: databaseUrl }, { clock })
    const signin = await fast.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: user.email, password: PASSWORD } })
    assert.equal(signin.statusCode, 200)
    const me = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(signin.json().access_token) })
    assert.equal(me.statusCode, expected, `iat ${aheadSeconds} s ahead`)
  }
})

test('a token whose signature is spelled another way (the unused bits of its last character) is refused', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const last = user.accessToken.at(-1)!
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  // An EdDSA signature (64 bytes) leaves 4 unused bits in its last character: these 15 other
  // characters decode to the very same bytes.
  const index = alphabet.indexOf(last)
  const sameBytes = [...alphabet].filter((c, i) => c !== last && (i >> 4) === (index >> 4))
  assert.equal(sameBytes.length, 15)
  for (const c of sameBytes) {
    const respelled = user.accessToken.slice(0, -1) + c
    assert.deepEqual(Buffer.from(respelled.split('.')[2]!, 'base64url'), Buffer.from(user.accessToken.split('.')[2]!, 'base64url'))
    const response = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(respelled) })
    assert.equal(response.statusCode, 401, c)
  }
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(user.accessToken) })).statusCode, 200)
})
