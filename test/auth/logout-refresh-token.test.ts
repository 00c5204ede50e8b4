import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp } from '../helpers/build-test-app.js'
import { bearer, cookiesOf, signUp } from '../helpers/factories.js'

const AUTH = '/api/v1/auth'

function assertBothCookiesCleared (response: Parameters<typeof cookiesOf>[0]): void {
  const cookies = cookiesOf(response)
  for (const name of ['access_token', 'refresh_token']) {
    assert.ok(cookies[name], `${name} is cleared`)
    assert.equal(cookies[name]!.value, '')
    assert.equal(cookies[name]!.maxAge, 0)
  }
}

/** @see issue 15, item 11: logout was impossible once the access token had expired. */
test('/logout with an expired access token and the refresh token in the body ends the session', async (t) => {
  const app = await buildTestApp(t, { ACCESS_TOKEN_TTL: '1' })
  const user = await signUp(app)
  await new Promise((resolve) => setTimeout(resolve, 2100))
  assert.equal((await app.inject({ method: 'GET', url: `${AUTH}/me`, headers: bearer(user.accessToken) })).statusCode, 401, 'the access token has expired')
  const out = await app.inject({ method: 'POST', url: `${AUTH}/logout`, headers: bearer(user.accessToken), payload: { refresh_token: user.refreshToken } })
  assert.equal(out.statusCode, 204)
  assertBothCookiesCleared(out)
  const refresh = await app.inject({ method: 'POST', url: `${AUTH}/refresh`, payload: { refresh_token: user.refreshToken } })
  assert.equal(refresh.statusCode, 401, 'the session is revoked')
})

test('/logout with only the refresh cookie (no access token at all) ends the session and clears both cookies', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const refreshCookie = cookiesOf(user.response).refresh_token!.value
  const out = await app.inject({ method: 'POST', url: `${AUTH}/logout`, cookies: { refresh_token: refreshCookie } })
  assert.equal(out.statusCode, 204)
  assertBothCookiesCleared(out)
  assert.equal((await app.inject({ method: 'GET', url: `${AUTH}/me`, headers: bearer(user.accessToken) })).statusCode, 401, 'its access token is refused at once')
  assert.equal((await app.inject({ method: 'POST', url: `${AUTH}/refresh`, cookies: { refresh_token: refreshCookie } })).statusCode, 401)
})

test('/logout by refresh token: a foreign page cannot use the cookie (CSRF); a wrong token ends nothing', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const refreshCookie = cookiesOf(user.response).refresh_token!.value
  const foreign = await app.inject({ method: 'POST', url: `${AUTH}/logout`, cookies: { refresh_token: refreshCookie }, headers: { origin: 'https://evil.example' } })
  assert.equal(foreign.statusCode, 403)
  assert.equal(foreign.json().code, 'csrf_failed')

  const sid = user.refreshToken.split('.')[0]!
  const guessed = await app.inject({ method: 'POST', url: `${AUTH}/logout`, payload: { refresh_token: `${sid}.${'A'.repeat(43)}` } })
  assert.equal(guessed.statusCode, 401)
  assert.equal(guessed.json().code, 'invalid_token')
  assert.equal((await app.inject({ method: 'GET', url: `${AUTH}/me`, headers: bearer(user.accessToken) })).statusCode, 200, 'a guess ends nothing')

  const nothing = await app.inject({ method: 'POST', url: `${AUTH}/logout` })
  assert.equal(nothing.statusCode, 401)
  assert.equal(nothing.json().code, 'not_authenticated')
  const badAccessNoRefresh = await app.inject({ method: 'POST', url: `${AUTH}/logout`, headers: bearer('not.a.token') })
  assert.equal(badAccessNoRefresh.statusCode, 401)
  assert.equal(badAccessNoRefresh.json().code, 'invalid_token')
  const tooLong = await app.inject({ method: 'POST', url: `${AUTH}/logout`, payload: { refresh_token: 'x'.repeat(300) } })
  assert.equal(tooLong.statusCode, 422)

  // The access token still works as before, and logs out only its own session.
  const second = await app.inject({ method: 'POST', url: `${AUTH}/signin`, payload: { email: user.email, password: user.password } })
  assert.equal((await app.inject({ method: 'POST', url: `${AUTH}/logout`, headers: bearer(user.accessToken) })).statusCode, 204)
  assert.equal((await app.inject({ method: 'GET', url: `${AUTH}/me`, headers: bearer(second.json().access_token) })).statusCode, 200)
})
