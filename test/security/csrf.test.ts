import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp } from '../helpers/build-test-app.js'
import { bearer, cookiesOf, PASSWORD, signUp } from '../helpers/factories.js'

const ORIGIN = 'https://app.example.com'
const EVIL = 'https://evil.example.net'
const env = { PUBLIC_URL: 'https://auth.example.com', ALLOWED_ORIGINS: `https://auth.example.com,${ORIGIN}` }

async function setup (t: Parameters<typeof buildTestApp>[0]) {
  const app = await buildTestApp(t, env)
  const user = await signUp(app)
  const cookie = `access_token=${user.accessToken}`
  return { app, user, cookie }
}

test('a cookie-authenticated POST from a foreign Origin is refused and changes nothing', async (t) => {
  const { app, cookie } = await setup(t)
  const refused = await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie, origin: EVIL } })
  assert.equal(refused.statusCode, 403)
  assert.deepEqual(refused.json(), { detail: 'Cross-site request refused', code: 'csrf_failed' })
  // The session survived: the logout did not happen.
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } })).statusCode, 200)
})

test('Sec-Fetch-Site: cross-site, or a foreign Referer without Origin, is refused too', async (t) => {
  const { app, cookie } = await setup(t)
  const fetchSite = await app.inject({ method: 'PATCH', url: '/api/v1/auth/me', headers: { cookie, 'sec-fetch-site': 'cross-site' }, payload: { name: 'Mallory' } })
  assert.equal(fetchSite.statusCode, 403)
  assert.equal(fetchSite.json().code, 'csrf_failed')
  const referer = await app.inject({ method: 'PATCH', url: '/api/v1/auth/me', headers: { cookie, referer: `${EVIL}/page` }, payload: { name: 'Mallory' } })
  assert.equal(referer.statusCode, 403)
  const me = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } })
  assert.equal(me.json().name, null)
})

test('allowed origins, same-site fetches and clients without Origin pass', async (t) => {
  const { app, cookie } = await setup(t)
  const allowed = await app.inject({ method: 'PATCH', url: '/api/v1/auth/me', headers: { cookie, origin: ORIGIN, 'sec-fetch-site': 'same-site' }, payload: { name: 'Alice' } })
  assert.equal(allowed.statusCode, 200)
  const viaReferer = await app.inject({ method: 'PATCH', url: '/api/v1/auth/me', headers: { cookie, referer: `${ORIGIN}/settings` }, payload: { name: 'Alice B' } })
  assert.equal(viaReferer.statusCode, 200)
  const noOrigin = await app.inject({ method: 'PATCH', url: '/api/v1/auth/me', headers: { cookie }, payload: { name: 'Alice C' } })
  assert.equal(noOrigin.statusCode, 200)
  // Reads are not state-changing: no check.
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie, origin: EVIL } })).statusCode, 200)
})

test('bearer-authenticated requests are not affected', async (t) => {
  const { app, user } = await setup(t)
  const response = await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { ...bearer(user.accessToken), origin: EVIL, 'sec-fetch-site': 'cross-site' } })
  assert.equal(response.statusCode, 204)
})

test('login CSRF: the cookie-setting endpoints refuse a foreign page and set no cookie', async (t) => {
  const { app, user } = await setup(t)
  const signin = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', headers: { origin: EVIL }, payload: { email: user.email, password: PASSWORD } })
  assert.equal(signin.statusCode, 403)
  assert.equal(signin.json().code, 'csrf_failed')
  assert.equal(signin.headers['set-cookie'], undefined)
  const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'sec-fetch-site': 'cross-site', 'content-type': 'application/x-www-form-urlencoded' }, payload: `username=${encodeURIComponent(user.email)}&password=${encodeURIComponent(PASSWORD)}` })
  assert.equal(login.statusCode, 403)
  const signup = await app.inject({ method: 'POST', url: '/api/v1/auth/signup', headers: { origin: 'null' }, payload: { email: 'x@example.com', username: 'someone_new', password: PASSWORD } })
  assert.equal(signup.statusCode, 403)
  const refresh = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', headers: { origin: EVIL, cookie: `refresh_token=${user.refreshToken}` } })
  assert.equal(refresh.statusCode, 403)
  // The refresh token was not spent: it still rotates from an allowed origin.
  const ok = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', headers: { origin: ORIGIN, cookie: `refresh_token=${user.refreshToken}` }, payload: {} })
  assert.equal(ok.statusCode, 204)
  assert.ok(cookiesOf(ok).access_token)
  const own = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', headers: { origin: ORIGIN }, payload: { email: user.email, password: PASSWORD } })
  assert.equal(own.statusCode, 200)
})

test('CORS answers allowed origins with credentials and nobody else', async (t) => {
  const app = await buildTestApp(t, env)
  const preflight = await app.inject({ method: 'OPTIONS', url: '/api/v1/auth/signin', headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } })
  assert.equal(preflight.statusCode, 204)
  assert.equal(preflight.headers['access-control-allow-origin'], ORIGIN)
  assert.equal(preflight.headers['access-control-allow-credentials'], 'true')
  const foreign = await app.inject({ method: 'OPTIONS', url: '/api/v1/auth/signin', headers: { origin: EVIL, 'access-control-request-method': 'POST' } })
  assert.equal(foreign.headers['access-control-allow-origin'], undefined)
  const simple = await app.inject({ method: 'GET', url: '/healthz', headers: { origin: EVIL } })
  assert.equal(simple.headers['access-control-allow-origin'], undefined)
})

test('security headers on every response; /docs gets the policy Swagger UI needs', async (t) => {
  const app = await buildTestApp(t, env)
  for (const url of ['/healthz', '/api/v1/nowhere', '/.well-known/jwks.json']) {
    const response = await app.inject({ method: 'GET', url })
    assert.equal(response.headers['x-content-type-options'], 'nosniff', url)
    assert.equal(response.headers['x-frame-options'], 'DENY', url)
    assert.match(String(response.headers['content-security-policy']), /default-src 'none'/, url)
    assert.match(String(response.headers['content-security-policy']), /frame-ancestors 'none'/, url)
    assert.match(String(response.headers['strict-transport-security']), /max-age=31536000/, url)
    assert.equal(response.headers['referrer-policy'], 'no-referrer', url)
  }
  const docs = await app.inject({ method: 'GET', url: '/docs/' })
  assert.equal(docs.statusCode, 200)
  assert.match(docs.body, /swagger-ui-bundle\.js/)
  const csp = String(docs.headers['content-security-policy'])
  assert.match(csp, /script-src 'self'/)
  assert.match(csp, /style-src 'self' 'unsafe-inline'/)
  assert.doesNotMatch(csp, /default-src 'none'/)
  for (const asset of ['swagger-ui-bundle.js', 'swagger-initializer.js', 'swagger-ui.css']) {
    assert.equal((await app.inject({ method: 'GET', url: `/docs/static/${asset}` })).statusCode, 200, asset)
  }
})
