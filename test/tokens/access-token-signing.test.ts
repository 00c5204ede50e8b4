import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import { buildTestApp } from '../helpers/build-test-app.js'
import { bearer, signUp } from '../helpers/factories.js'

const SECRET = 'a shared secret that is at least thirty-two bytes long'

for (const [alg, env] of [
  ['EdDSA', {}],
  ['RS256', { JWT_ALGORITHM: 'RS256' }],
  ['HS256', { JWT_SECRET: SECRET }]
] as const) {
  test(`${alg} access tokens verify with a standard JOSE library and carry the contract's claims`, async (t) => {
    const app = await buildTestApp(t, env)
    const user = await signUp(app)
    const header = decodeProtectedHeader(user.accessToken)
    assert.equal(header.alg, alg)
    assert.equal(header.typ, 'at+jwt')
    assert.equal(typeof header.kid, 'string')

    const key = alg === 'HS256'
      ? new TextEncoder().encode(SECRET)
      : createLocalJWKSet((await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json())
    const { payload } = await jwtVerify(user.accessToken, key as Parameters<typeof jwtVerify>[1], { algorithms: [alg] })
    assert.equal(payload.sub, user.userId)
    assert.equal(payload.email, user.email)
    assert.equal(payload.role, 'member')
    for (const claim of ['sid', 'jti', 'iss']) assert.equal(typeof payload[claim], 'string', claim)
    assert.equal((payload.exp as number) - (payload.iat as number), 900)

    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(user.accessToken) })).statusCode, 200)
    // One flipped signature character: refused.
    const last = user.accessToken.at(-2) === 'A' ? 'B' : 'A'
    const tampered = `${user.accessToken.slice(0, -2)}${last}${user.accessToken.at(-1)}`
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(tampered) })).statusCode, 401)
  })
}
