import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp } from '../helpers/build-test-app.js'
import { bearer, cookiesOf, signUp } from '../helpers/factories.js'
import { fakeClock } from '../helpers/fake-clock.js'

const A = '/api/v1/auth'

test('refresh with a body rotates the pair and answers 200 TokenResponse', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const res = await app.inject({ method: 'POST', url: `${A}/refresh`, payload: { refresh_token: user.refreshToken } })
  assert.equal(res.statusCode, 200)
  const body = res.json()
  assert.notEqual(body.refresh_token, user.refreshToken)
  assert.equal(body.user.id, user.userId)
  assert.equal(res.headers['set-cookie'], undefined, 'body in → body out, no cookies')
  const me = await app.inject({ method: 'GET', url: `${A}/me`, headers: bearer(body.access_token) })
  assert.equal(me.statusCode, 200)
})

test('refresh from the cookie answers 204 with new cookies', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const res = await app.inject({ method: 'POST', url: `${A}/refresh`, cookies: { refresh_token: user.refreshToken } })
  assert.equal(res.statusCode, 204)
  const cookies = cookiesOf(res)
  assert.ok(cookies.access_token?.value)
  assert.ok(cookies.refresh_token?.value && cookies.refresh_token.value !== user.refreshToken)
  // A JSON content type with an empty body is "no body", not a parse error.
  const again = await app.inject({ method: 'POST', url: `${A}/refresh`, headers: { 'content-type': 'application/json' }, cookies: { refresh_token: cookies.refresh_token!.value } })
  assert.equal(again.statusCode, 204)
})

test('reusing a rotated refresh token revokes the whole session', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const first = await app.inject({ method: 'POST', url: `${A}/refresh`, payload: { refresh_token: user.refreshToken } })
  assert.equal(first.statusCode, 200)
  const { access_token: newAccess, refresh_token: newRefresh } = first.json()

  const reuse = await app.inject({ method: 'POST', url: `${A}/refresh`, payload: { refresh_token: user.refreshToken } })
  assert.equal(reuse.statusCode, 401)
  assert.deepEqual(reuse.json(), { detail: 'Invalid or expired refresh token', code: 'invalid_token' })

  // Every token issued from that sign-in is now dead: the newest refresh and access tokens too.
  const stolen = await app.inject({ method: 'POST', url: `${A}/refresh`, payload: { refresh_token: newRefresh } })
  assert.equal(stolen.statusCode, 401)
  const me = await app.inject({ method: 'GET', url: `${A}/me`, headers: bearer(newAccess) })
  assert.equal(me.statusCode, 401)
  assert.equal(me.json().code, 'invalid_token')
  const original = await app.inject({ method: 'GET', url: `${A}/me`, headers: bearer(user.accessToken) })
  assert.equal(original.statusCode, 401)
})

test('20 concurrent refreshes of one token: at most one succeeds', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const responses = await Promise.all(Array.from({ length: 20 }, () =>
    app.inject({ method: 'POST', url: `${A}/refresh`, payload: { refresh_token: user.refreshToken } })))
  const statuses = responses.map((r) => r.statusCode)
  assert.ok(statuses.filter((s) => s === 200).length <= 1, statuses.join(','))
  assert.ok(statuses.every((s) => s === 200 || s === 401), statuses.join(','))
})

test('missing, malformed and forged refresh tokens are 401 invalid_token', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const [sessionId] = user.refreshToken.split('.')
  for (const payload of [{}, { refresh_token: '' }, { refresh_token: 'nope' }, { refresh_token: `${sessionId}.${'A'.repeat(43)}` }]) {
    const res = await app.inject({ method: 'POST', url: `${A}/refresh`, payload })
    assert.equal(res.statusCode, 401, JSON.stringify(payload))
    assert.equal(res.json().code, 'invalid_token')
  }
  const wrongType = await app.inject({ method: 'POST', url: `${A}/refresh`, payload: { refresh_token: 42 } })
  assert.equal(wrongType.statusCode, 422)
})

test('a refresh token expires after REFRESH_TOKEN_TTL; an access token after ACCESS_TOKEN_TTL', async (t) => {
  const clock = fakeClock()
  const app = await buildTestApp(t, { ACCESS_TOKEN_TTL: '60', REFRESH_TOKEN_TTL: '120' }, { clock })
  const user = await signUp(app)
  clock.advance(61)
  const me = await app.inject({ method: 'GET', url: `${A}/me`, headers: bearer(user.accessToken) })
  assert.equal(me.statusCode, 401)
  assert.equal(me.json().code, 'invalid_token')
  clock.advance(60)
  const res = await app.inject({ method: 'POST', url: `${A}/refresh`, payload: { refresh_token: user.refreshToken } })
  assert.equal(res.statusCode, 401)
})

test('refresh after logout is refused', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  assert.equal((await app.inject({ method: 'POST', url: `${A}/logout`, headers: bearer(user.accessToken) })).statusCode, 204)
  const res = await app.inject({ method: 'POST', url: `${A}/refresh`, payload: { refresh_token: user.refreshToken } })
  assert.equal(res.statusCode, 401)
})

test('SESSION_MAX_AGE ends a session however often it is refreshed', async (t) => {
  const clock = fakeClock()
  const app = await buildTestApp(t, { REFRESH_TOKEN_TTL: '100', SESSION_MAX_AGE: '150' }, { clock })
  const user = await signUp(app)
  let refreshToken = user.refreshToken
  for (const step of [60, 60]) {
    clock.advance(step)
    const res = await app.inject({ method: 'POST', url: `${A}/refresh`, payload: { refresh_token: refreshToken } })
    assert.equal(res.statusCode, 200, `still within the maximum age at +${step}`)
    refreshToken = res.json().refresh_token
  }
  clock.advance(40) // 160 s after sign-in: past the 150 s maximum, though within the 100 s idle window
  const res = await app.inject({ method: 'POST', url: `${A}/refresh`, payload: { refresh_token: refreshToken } })
  assert.equal(res.statusCode, 401)
})

test('a refresh token works only for the client it was issued to; the default client\'s also without a client id', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const form = (fields: Record<string, string>) => ({ method: 'POST' as const, url: `${A}/token`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(fields).toString() })
  const issued = await app.inject(form({ grant_type: 'password', username: user.email, password: user.password, client_id: 'app-a' }))
  assert.equal(issued.statusCode, 200, issued.body)
  const appA = issued.json().refresh_token as string

  const byOther = await app.inject(form({ grant_type: 'refresh_token', refresh_token: appA, client_id: 'app-b' }))
  assert.equal(byOther.statusCode, 400)
  assert.equal(byOther.json().error, 'invalid_grant')
  const byDefault = await app.inject(form({ grant_type: 'refresh_token', refresh_token: appA, client_id: 'authd' }))
  assert.equal(byDefault.statusCode, 400, 'the default client is another client too')
  const byOwner = await app.inject(form({ grant_type: 'refresh_token', refresh_token: appA, client_id: 'app-a' }))
  assert.equal(byOwner.statusCode, 200, 'refused attempts rotated nothing: the token still works for its client')

  // /signin's session belongs to the default client: /refresh (no client id) and /token
  // naming the default client rotate it; another client's name does not.
  const defaultToken = user.refreshToken
  assert.equal((await app.inject(form({ grant_type: 'refresh_token', refresh_token: defaultToken, client_id: 'app-a' }))).statusCode, 400)
  const viaToken = await app.inject(form({ grant_type: 'refresh_token', refresh_token: defaultToken, client_id: 'authd' }))
  assert.equal(viaToken.statusCode, 200, viaToken.body)
  const viaRefresh = await app.inject({ method: 'POST', url: `${A}/refresh`, payload: { refresh_token: viaToken.json().refresh_token } })
  assert.equal(viaRefresh.statusCode, 200, viaRefresh.body)
})
