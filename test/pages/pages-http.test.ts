import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { buildTestApp, buildTestAppWithDatabase } from '../helpers/build-test-app.js'
import { bearer, cookiesOf, PASSWORD, signUp, uniqueEmail, uniqueUsername } from '../helpers/factories.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { wrongTotpCode } from '../helpers/totp.js'
import { SoftwareAuthenticator } from '../helpers/webauthn.js'

const PAGES = ['/signin', '/signup', '/forgot-password', '/reset-password?token=abc', '/verify-email?token=abc']

interface Browserish { cookie: string, csrf: string }

/** What a browser holds after opening a page: its cookies and the form's CSRF token. */
async function openForm (app: FastifyInstance, url = '/signin', cookie = ''): Promise<Browserish> {
  const response = await app.inject({ method: 'GET', url, headers: { accept: 'text/html', ...(cookie ? { cookie } : {}) } })
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(response.body)?.[1]
  assert.ok(csrf, `no CSRF token on ${url}: ${response.statusCode}`)
  const set = response.cookies.find((c) => c.name === 'authd_csrf')
  return { cookie: [cookie, set ? `authd_csrf=${set.value}` : ''].filter(Boolean).join('; '), csrf }
}

function form (fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString()
}

/** A form post as our own page sends it: same-origin fetch metadata, `Origin: null` (no-referrer). */
async function post (app: FastifyInstance, url: string, who: Browserish, fields: Record<string, string>, headers: Record<string, string> = { 'sec-fetch-site': 'same-origin', origin: 'null' }): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url,
    headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded', cookie: who.cookie, ...headers },
    payload: form({ csrf_token: who.csrf, ...fields })
  })
}

async function signedInBrowser (app: FastifyInstance, email: string, password = PASSWORD): Promise<Browserish> {
  const who = await openForm(app)
  const response = await post(app, '/signin', who, { email, password })
  assert.equal(response.statusCode, 303, response.body)
  const access = response.cookies.find((c) => c.name === 'access_token')
  assert.ok(access)
  return { ...who, cookie: `${who.cookie}; access_token=${access.value}` }
}

test('every page: HTML with a strict CSP, no referrer, never cached, configured branding', async (t) => {
  const app = await buildTestApp(t, { PAGES_PRODUCT_NAME: 'Acme <ID>', PAGES_ACCENT_COLOR: '#7C2D12', PAGES_LOGO_URL: '/brand/logo.svg' })
  for (const url of PAGES) {
    const response = await app.inject({ method: 'GET', url, headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } })
    assert.ok([200, 400].includes(response.statusCode), url)
    assert.match(String(response.headers['content-type']), /^text\/html; charset=utf-8/)
    const csp = String(response.headers['content-security-policy'])
    assert.match(csp, /default-src 'none'/)
    assert.match(csp, /script-src 'self'(;|$)/)
    assert.match(csp, /style-src 'self'(;|$)/)
    assert.match(csp, /frame-ancestors 'none'/)
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|nonce-|\*/)
    assert.equal(response.headers['referrer-policy'], 'no-referrer')
    assert.equal(response.headers['cache-control'], 'no-store')
    // No inline script or style anywhere, and nothing from another origin.
    assert.doesNotMatch(response.body, /<script(?![^>]*\bsrc="\/assets\/)/)
    assert.doesNotMatch(response.body, /<style|\sstyle=|\son[a-z]+=/i)
    assert.doesNotMatch(response.body, /(src|href)="(https?:)?\/\//)
    assert.match(response.body, /<title>[^<]* · Acme &lt;ID&gt;<\/title>/)
    assert.match(response.body, /<img src="\/brand\/logo.svg" alt=""/)
  }
  const page = await app.inject({ method: 'GET', url: '/signin' })
  const stylesheet = /<link rel="stylesheet" href="([^"]+)"/.exec(page.body)![1]!
  const css = await app.inject({ method: 'GET', url: stylesheet })
  assert.equal(css.statusCode, 200)
  assert.match(String(css.headers['content-type']), /^text\/css/)
  assert.match(css.body, /--accent: #7c2d12;/)
  const module = await app.inject({ method: 'GET', url: '/assets/webauthn/index.js' })
  assert.equal(module.statusCode, 200)
  assert.match(String(module.headers['content-type']), /^text\/javascript/)
  assert.match(module.body, /startRegistration/)
})

test('a JSON client at the pages gets the API\'s JSON answers, never HTML', async (t) => {
  const app = await buildTestApp(t)
  for (const url of [...PAGES, '/account']) {
    const response = await app.inject({ method: 'GET', url, headers: { accept: 'application/json' } })
    assert.equal(response.statusCode, 406, url)
    assert.deepEqual(response.json(), { detail: 'This path serves HTML pages only', code: 'not_acceptable' })
  }
  const json = await app.inject({ method: 'POST', url: '/signin', headers: { accept: 'text/html' }, payload: { email: 'a@b.co', password: 'x' } })
  assert.equal(json.statusCode, 415)
  assert.equal(json.json().code, 'unsupported_media_type')
  const missing = await app.inject({ method: 'GET', url: '/assets/../../package.json' })
  assert.equal(missing.statusCode, 404)
  assert.equal(missing.json().code, 'not_found')
  const unknownAsset = await app.inject({ method: 'GET', url: '/assets/nothing.js' })
  assert.equal(unknownAsset.json().code, 'not_found')
})

test('page form posts refuse cross-site and token-less requests, and change nothing', async (t) => {
  const { app, databaseUrl } = await buildTestAppWithDatabase(t)
  const user = await signUp(app)
  const who = await openForm(app)
  const credentials = { email: user.email, password: PASSWORD }
  const refusals: Array<[string, Browserish, Record<string, string>]> = [
    ['no token', { ...who, csrf: '' }, { 'sec-fetch-site': 'same-origin' }],
    ['a wrong token', { ...who, csrf: 'x'.repeat(43) }, { 'sec-fetch-site': 'same-origin' }],
    ['no token cookie', { cookie: '', csrf: who.csrf }, { 'sec-fetch-site': 'same-origin' }],
    ['a cross-site post', who, { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }],
    ['a same-site sibling', who, { 'sec-fetch-site': 'same-site', origin: 'https://sub.localhost:8000' }],
    ['a foreign Origin without fetch metadata', who, { origin: 'https://evil.example' }]
  ]
  for (const [name, browser, headers] of refusals) {
    const response = await post(app, '/signin', browser, credentials, headers)
    assert.equal(response.statusCode, 403, name)
    assert.match(response.body, /This form was sent from another site or has expired/, name)
    assert.equal(response.cookies.find((c) => c.name === 'access_token'), undefined, name)
  }
  // Our own page under no-referrer: fetch metadata says same-origin, Origin is "null".
  assert.equal((await post(app, '/signin', who, credentials)).statusCode, 303)
  // An old browser sending neither header relies on the token alone.
  assert.equal((await post(app, '/signin', who, credentials, {})).statusCode, 303)

  // Signed-in forms: a cross-site "sign out everywhere" or profile change does nothing.
  const signedIn = await signedInBrowser(app, user.email)
  const evil = { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }
  assert.equal((await post(app, '/account/signout-all', signedIn, {}, evil)).statusCode, 403)
  assert.equal((await post(app, '/account/profile', signedIn, { name: 'Hacked', username: 'hacked_name' }, evil)).statusCode, 403)
  assert.equal((await post(app, '/account/signout-all', { ...signedIn, csrf: '' }, {})).statusCode, 403)
  const me = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(user.accessToken) })
  assert.equal(me.statusCode, 200, 'the sessions are still live')
  assert.notEqual(me.json().name, 'Hacked')
  const db = openDirectDb(t, databaseUrl)
  const row = await db.selectFrom('users').select('username').where('email', '=', user.email).executeTakeFirstOrThrow()
  assert.equal(row.username, user.username)
})

test('user data never reaches the HTML unescaped', async (t) => {
  const app = await buildTestApp(t)
  const markup = '<script>alert(1)</script><img src=x onerror=alert(2)>"\''
  const user = await signUp(app, { name: markup })
  const who = await signedInBrowser(app, user.email)
  const page = await app.inject({ method: 'GET', url: '/account', headers: { accept: 'text/html', cookie: who.cookie } })
  assert.equal(page.statusCode, 200)
  assert.ok(page.body.includes('value="&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&quot;&#39;"'), 'the name is escaped in its field')
  assert.ok(!page.body.includes('<script>alert(1)'))
  assert.ok(!page.body.includes('<img src=x'))
  // A user agent is user data too (shown in the sessions list).
  const agent = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', headers: { 'user-agent': '<b>bold</b>' }, payload: { email: user.email, password: PASSWORD } })
  assert.equal(agent.statusCode, 200)
  const again = await app.inject({ method: 'GET', url: '/account', headers: { accept: 'text/html', cookie: who.cookie } })
  assert.ok(again.body.includes('&lt;b&gt;bold&lt;/b&gt;'))
  assert.ok(!again.body.includes('<b>bold</b>'))
})

test('the pages give the API\'s messages, next to the field, and the API\'s cookies', async (t) => {
  const app = await buildTestApp(t)
  const taken = await signUp(app)
  const weak = await app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload: { email: uniqueEmail(), username: uniqueUsername(), password: 'password' } })
  assert.equal(weak.statusCode, 422)
  const weakMessage = weak.json().errors[0].message as string

  const who = await openForm(app, '/signup')
  const page = await post(app, '/signup', who, { email: uniqueEmail(), username: uniqueUsername(), password: 'password', name: '' })
  assert.equal(page.statusCode, 422)
  assert.match(page.body, new RegExp(`<p class="field__error" id="f-password-error">${weakMessage}</p>`))
  assert.match(page.body, /id="f-password"[^>]*aria-describedby="f-password-hint f-password-error" aria-invalid="true"/)
  assert.match(page.body, /role="alert"/)

  const emailTaken = await post(app, '/signup', who, { email: taken.email, username: uniqueUsername(), password: PASSWORD })
  assert.equal(emailTaken.statusCode, 409)
  assert.match(emailTaken.body, /id="f-email-error">Email already registered</)
  const usernameTaken = await post(app, '/signup', who, { email: uniqueEmail(), username: taken.username, password: PASSWORD })
  assert.match(usernameTaken.body, /id="f-username-error">Username already taken</)
  const badEmail = await post(app, '/signup', who, { email: 'not-an-email', username: uniqueUsername(), password: PASSWORD })
  assert.equal(badEmail.statusCode, 422)
  assert.match(badEmail.body, /id="f-email-error">/)

  const email = uniqueEmail()
  const created = await post(app, '/signup', who, { email, username: uniqueUsername(), password: PASSWORD, return_to: '/account' })
  assert.equal(created.statusCode, 303)
  const api = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email, password: PASSWORD } })
  const strip = (c: Record<string, unknown>) => ({ ...c, value: undefined, expires: undefined })
  assert.deepEqual(
    Object.fromEntries(Object.entries(cookiesOf(created)).filter(([name]) => name !== 'authd_csrf').map(([n, c]) => [n, strip(c)])),
    Object.fromEntries(Object.entries(cookiesOf(api)).map(([n, c]) => [n, strip(c)]))
  )
})

test('sign-in page: the API\'s rate limits, and a 429 that says when to try again', async (t) => {
  const app = await buildTestApp(t, { RATE_LIMITS: 'on', RATE_LIMIT_SIGNIN_PER_ACCOUNT: '2/900', RATE_LIMIT_FORGOT_PASSWORD_PER_EMAIL: '1/3600' })
  const user = await signUp(app)
  const who = await openForm(app)
  for (let i = 0; i < 2; i++) {
    const wrong = await post(app, '/signin', who, { email: user.email, password: 'wrong password here' })
    assert.equal(wrong.statusCode, 401)
    assert.match(wrong.body, /role="alert">Invalid email or password</)
  }
  const limited = await post(app, '/signin', who, { email: user.email, password: PASSWORD })
  assert.equal(limited.statusCode, 429)
  assert.ok(Number(limited.headers['retry-after']) > 800)
  assert.match(limited.body, /role="alert">Too many requests. Try again in 15 minutes.</)
  assert.equal(limited.cookies.find((c) => c.name === 'access_token'), undefined)
  // The page and the API count against the same counter.
  const api = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: user.email, password: PASSWORD } })
  assert.equal(api.statusCode, 429)

  const forgot = await openForm(app, '/forgot-password')
  assert.equal((await post(app, '/forgot-password', forgot, { email: 'nobody@example.com' })).statusCode, 200)
  const second = await post(app, '/forgot-password', forgot, { email: 'nobody@example.com' })
  assert.equal(second.statusCode, 429)
  assert.match(second.body, /Try again in 60 minutes/)
})

test('return_to over HTTP: only allowed origins, everything else lands on /account', async (t) => {
  const app = await buildTestApp(t, { PUBLIC_URL: 'http://localhost:8000', ALLOWED_ORIGINS: 'http://localhost:8000,https://app.example.com' })
  const user = await signUp(app)
  const cases: Array<[string | undefined, string]> = [
    ['https://app.example.com/after', 'https://app.example.com/after'],
    ['/account?tab=x', 'http://localhost:8000/account?tab=x'],
    [undefined, '/account'],
    ['https://evil.example/', '/account'],
    ['//evil.example', '/account'],
    ['/\\evil.example', '/account'],
    ['javascript:alert(document.cookie)', '/account'],
    ['https://app.example.com@evil.example/', '/account'],
    ['https://app.example.com.evil.example/', '/account']
  ]
  for (const [returnTo, expected] of cases) {
    const who = await openForm(app)
    const response = await post(app, '/signin', who, { email: user.email, password: PASSWORD, ...(returnTo === undefined ? {} : { return_to: returnTo }) })
    assert.equal(response.statusCode, 303, String(returnTo))
    assert.equal(response.headers.location, expected, String(returnTo))
  }
})

test('links from mails: opening them spends nothing; an unusable link says so', async (t) => {
  const app = await buildTestApp(t)
  for (const url of ['/reset-password', '/verify-email']) {
    const response = await app.inject({ method: 'GET', url, headers: { accept: 'text/html' } })
    assert.equal(response.statusCode, 400)
    assert.match(response.body, /role="alert">Invalid or expired token</)
  }
  const who = await openForm(app, '/reset-password?token=' + 'a'.repeat(43))
  const bad = await post(app, '/reset-password', who, { token: 'a'.repeat(43), new_password: 'a brand new passphrase 1' })
  assert.equal(bad.statusCode, 400)
  assert.match(bad.body, /Invalid or expired token/)
  assert.match(bad.body, /href="\/forgot-password">Request a new link/)
})

test('an expired access cookie on /account is renewed once from the refresh cookie, else sign-in', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const who = await openForm(app)
  const signin = await post(app, '/signin', who, { email: user.email, password: PASSWORD })
  const refresh = signin.cookies.find((c) => c.name === 'refresh_token')!
  assert.equal(refresh.path, '/api/v1/auth')

  const expired = await app.inject({ method: 'GET', url: '/account', headers: { accept: 'text/html', cookie: 'access_token=expired.or.forged' } })
  assert.equal(expired.statusCode, 303)
  assert.equal(expired.headers.location, '/api/v1/auth/renew')

  const crossSite = await app.inject({ method: 'GET', url: '/api/v1/auth/renew', headers: { accept: 'text/html', cookie: `refresh_token=${refresh.value}`, 'sec-fetch-site': 'cross-site' } })
  assert.equal(crossSite.headers.location, '/signin?return_to=%2Faccount&notice=session_expired')
  assert.equal(crossSite.cookies.length, 0)

  const renewed = await app.inject({ method: 'GET', url: '/api/v1/auth/renew', headers: { accept: 'text/html', cookie: `refresh_token=${refresh.value}`, 'sec-fetch-site': 'same-origin' } })
  assert.equal(renewed.statusCode, 303)
  assert.equal(renewed.headers.location, '/account?renewed=1')
  const access = renewed.cookies.find((c) => c.name === 'access_token')!
  const page = await app.inject({ method: 'GET', url: '/account?renewed=1', headers: { accept: 'text/html', cookie: `access_token=${access.value}` } })
  assert.equal(page.statusCode, 200)
  assert.match(page.body, new RegExp(`Signed in as <strong>${user.email}</strong>`))

  // The refresh token was rotated: the old one is spent (and its reuse revokes the session).
  const again = await app.inject({ method: 'GET', url: '/api/v1/auth/renew', headers: { accept: 'text/html', cookie: `refresh_token=${refresh.value}` } })
  assert.equal(again.headers.location, '/signin?return_to=%2Faccount&notice=session_expired')
  // Renewed once and still refused: no loop, sign-in.
  const loop = await app.inject({ method: 'GET', url: '/account?renewed=1', headers: { accept: 'text/html', cookie: 'access_token=expired.or.forged' } })
  assert.equal(loop.headers.location, '/signin?return_to=%2Faccount&notice=session_expired')
})

/** Text as the pages' templates write it (Eta's autoEscape). */
function escapeHtml (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')
}

/** Names the API refuses (422): line breaks, TAB, ESC, DEL, C1, U+2028/9, over 100 characters. */
const REFUSED_NAMES = ['Eve\r\nBcc: victim@example.net', 'cr\ronly', 'tab\there', 'esc \u001b[2J', 'del \u007f', 'C1 \u0085 next line', 'line \u2028 separator', 'paragraph \u2029 separator', 'x'.repeat(101)]

/** @see red-team findings, round 3, F4: the profile form stored names with CR/LF, C1 and U+2028. */
test('the profile and sign-up forms take exactly the names the API takes, and say why in the API\'s words', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app, { name: 'Eve' })
  const who = await signedInBrowser(app, user.email)
  const signupForm = await openForm(app, '/signup')
  for (const name of REFUSED_NAMES) {
    const what = JSON.stringify(name)
    const api = await app.inject({ method: 'PATCH', url: '/api/v1/auth/me', headers: bearer(user.accessToken), payload: { name } })
    assert.equal(api.statusCode, 422, what)
    const message = api.json().errors[0].message as string
    const page = await post(app, '/account/profile', who, { name, username: user.username })
    assert.equal(page.statusCode, 422, what)
    assert.ok(page.body.includes(`<p class="field__error" id="f-name-error">${escapeHtml(message)}</p>`), what)
    const apiSignup = await app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload: { email: uniqueEmail(), username: uniqueUsername(), password: PASSWORD, name } })
    assert.equal(apiSignup.statusCode, 422, what)
    const pageSignup = await post(app, '/signup', signupForm, { email: uniqueEmail(), username: uniqueUsername(), password: PASSWORD, name })
    assert.equal(pageSignup.statusCode, 422, what)
    assert.ok(pageSignup.body.includes(`<p class="field__error" id="f-name-error">${escapeHtml(apiSignup.json().errors[0].message as string)}</p>`), what)
  }
  const nameNow = async () => (await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(user.accessToken) })).json().name
  assert.equal(await nameNow(), 'Eve')
  // What the API takes, the page takes: any one line of text; an empty field is no name.
  const saved = await post(app, '/account/profile', who, { name: 'Zoë Ó Briain — 日本語 😀', username: user.username })
  assert.equal(saved.statusCode, 303)
  assert.equal(await nameNow(), 'Zoë Ó Briain — 日本語 😀')
  assert.equal((await post(app, '/account/profile', who, { name: '', username: user.username })).statusCode, 303)
  assert.equal(await nameNow(), null)
})

/** @see red-team findings, round 3, F5: the page rename skipped the API's rules for passkey names. */
test('the passkey rename form takes exactly the names PATCH /passkeys/{id} takes', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const who = await signedInBrowser(app, user.email)
  const authenticator = new SoftwareAuthenticator({ origin: 'http://localhost:8000' })
  const options = await app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/register/options', headers: bearer(user.accessToken) })
  const created = await app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/register', headers: bearer(user.accessToken), payload: { response: authenticator.createCredential(options.json()), name: 'Laptop' } })
  assert.equal(created.statusCode, 201, created.body)
  const id = created.json().id as string
  const names = async () => (await app.inject({ method: 'GET', url: '/api/v1/auth/passkeys', headers: bearer(user.accessToken) })).json().map((key: { name: string }) => key.name)
  for (const name of [...REFUSED_NAMES, 'y'.repeat(65), '']) {
    const what = JSON.stringify(name)
    const api = await app.inject({ method: 'PATCH', url: `/api/v1/auth/passkeys/${id}`, headers: bearer(user.accessToken), payload: { name } })
    assert.equal(api.statusCode, 422, what)
    const page = await post(app, `/account/passkeys/${id}/rename`, who, { name })
    assert.equal(page.statusCode, 422, what)
    assert.ok(page.body.includes(`<p class="alert" role="alert">${escapeHtml(api.json().errors[0].message as string)}</p>`), what)
  }
  assert.deepEqual(await names(), ['Laptop'])
  const renamed = await post(app, `/account/passkeys/${id}/rename`, who, { name: 'Work laptop — 2' })
  assert.equal(renamed.statusCode, 303)
  assert.deepEqual(await names(), ['Work laptop — 2'])
})

/** @see red-team findings, round 3, informational: the page re-rendered whatever otpauth_uri was posted. */
test('a wrong code at /account/mfa/confirm shows the pending set-up again, never a posted otpauth URI', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const who = await signedInBrowser(app, user.email)
  const keyOf = (body: string) => /id="totp-secret">([^<]+)</.exec(body)?.[1]
  // Nothing pending yet: the set-up starts over, whatever the form sends.
  const forged = 'otpauth://totp/Forged:eve?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Forged'
  const early = await post(app, '/account/mfa/confirm', who, { code: '123456', otpauth_uri: forged })
  assert.equal(early.statusCode, 400)
  assert.equal(keyOf(early.body), undefined)
  assert.match(early.body, /action="\/account\/mfa\/setup"/)

  const setup = await post(app, '/account/mfa/setup', who, { password: PASSWORD })
  assert.equal(setup.statusCode, 200, setup.body)
  const key = keyOf(setup.body)
  assert.ok(key)
  assert.ok(!setup.body.includes('name="otpauth_uri"'), 'the page posts no URI of its own')
  const wrong = await post(app, '/account/mfa/confirm', who, { code: wrongTotpCode(key.replace(/ /g, ''), new Date()), otpauth_uri: forged })
  assert.equal(wrong.statusCode, 400)
  assert.match(wrong.body, /id="f-confirm-code-error">Invalid verification code</)
  assert.equal(keyOf(wrong.body), key, 'the pending key, as the set-up showed it')
  assert.ok(!wrong.body.includes('Forged') && !wrong.body.includes('JBSW Y3DP'))
})
