import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { buildTestApp } from '../helpers/build-test-app.js'
import { bearer, signUp } from '../helpers/factories.js'

const refresh = (app: Awaited<ReturnType<typeof buildTestApp>>, token: string) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: token } })

test('presenting a rotated-out refresh token revokes the whole session', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const rotated = await refresh(app, user.refreshToken)
  assert.equal(rotated.statusCode, 200)
  const reuse = await refresh(app, user.refreshToken)
  assert.equal(reuse.statusCode, 401)
  assert.equal(reuse.json().code, 'invalid_token')
  // Every token of that sign-in is dead now, including the newest pair.
  assert.equal((await refresh(app, rotated.json().refresh_token)).statusCode, 401)
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(rotated.json().access_token) })).statusCode, 401)
})

test('a guessed secret for a known session id is refused and revokes nothing (no forced logout)', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  // The session id is not secret: it is the `sid` claim of every access token.
  const sid = JSON.parse(Buffer.from(user.accessToken.split('.')[1]!, 'base64url').toString()).sid as string
  assert.equal(user.refreshToken.split('.')[0], sid)
  for (let i = 0; i < 3; i++) {
    const guess = await refresh(app, `${sid}.${randomBytes(32).toString('base64url')}`)
    assert.equal(guess.statusCode, 401)
  }
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(user.accessToken) })).statusCode, 200)
  assert.equal((await refresh(app, user.refreshToken)).statusCode, 200)
})
