import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp, buildTestAppWithDatabase } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { bearer, signUp } from '../helpers/factories.js'
import { fakeClock } from '../helpers/fake-clock.js'
import { enableTotp, mfaTokenFor, verify } from '../helpers/mfa.js'
import { totpCode } from '../helpers/totp.js'
import { SoftwareAuthenticator } from '../helpers/webauthn.js'

const AUTH = '/api/v1/auth'

test('MAX_SESSIONS_PER_USER: a sign-in past the cap ends the oldest sessions, at once', async (t) => {
  const app = await buildTestApp(t, { MAX_SESSIONS_PER_USER: '3' })
  const user = await signUp(app)
  const sessions = [{ access: user.accessToken, refresh: user.refreshToken }]
  for (let i = 0; i < 4; i++) {
    const signin = await app.inject({ method: 'POST', url: `${AUTH}/signin`, payload: { email: user.email, password: user.password } })
    assert.equal(signin.statusCode, 200)
    sessions.push({ access: signin.json().access_token, refresh: signin.json().refresh_token })
  }
  const me = async (token: string) => (await app.inject({ method: 'GET', url: `${AUTH}/me`, headers: bearer(token) })).statusCode
  // Five sign-ins, three kept: the two oldest are refused on the very next request.
  assert.deepEqual(await Promise.all(sessions.map((s) => me(s.access))), [401, 401, 200, 200, 200])
  const oldest = await app.inject({ method: 'POST', url: `${AUTH}/refresh`, payload: { refresh_token: sessions[0]!.refresh } })
  assert.equal(oldest.statusCode, 401)
  const list = await app.inject({ method: 'GET', url: `${AUTH}/sessions`, headers: bearer(sessions[4]!.access) })
  assert.equal(list.json().length, 3)
})

/** Answers within `ms`, or fails the test (instead of hanging it) naming what hung. */
async function within<T> (ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms) })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

test('MAX_SESSIONS_PER_USER also holds for sign-ins that end in a transaction of their own (second step, passkey), which must not hang', async (t) => {
  // On SQLite the session cap used to revoke through the database's one connection while the
  // second step's transaction held it: the sign-in past the cap never answered, and neither
  // did any request after it.
  const clock = fakeClock()
  const { app } = await buildTestAppWithDatabase(t, { MAX_SESSIONS_PER_USER: '2' }, { clock })
  const user = await signUp(app)
  const { secret } = await enableTotp(app, user.accessToken, user.password, clock.now())
  const tokens: string[] = [user.accessToken]
  for (let i = 0; i < 3; i++) {
    clock.advance(30) // a new time step: each TOTP code is accepted once
    const mfaToken = await mfaTokenFor(app, user.email, user.password)
    const answer = await within(5000, `second step ${i + 1}`, verify(app, mfaToken, totpCode(secret, clock.now())))
    assert.equal(answer.statusCode, 200, answer.body)
    tokens.push(answer.json().access_token)
  }
  const me = async (token: string) => (await within(5000, 'GET /me', app.inject({ method: 'GET', url: `${AUTH}/me`, headers: bearer(token) }))).statusCode
  assert.deepEqual(await Promise.all(tokens.map(me)), [401, 401, 200, 200])

  // Passkeys: the same cap, the same path.
  const authenticator = new SoftwareAuthenticator({ origin: 'http://localhost:8000' })
  const options = (await app.inject({ method: 'POST', url: `${AUTH}/passkeys/register/options`, headers: bearer(tokens[3]!) })).json()
  const registered = await app.inject({ method: 'POST', url: `${AUTH}/passkeys/register`, headers: bearer(tokens[3]!), payload: { response: authenticator.createCredential(options) } })
  assert.equal(registered.statusCode, 201, registered.body)
  for (let i = 0; i < 2; i++) {
    const challenge = (await app.inject({ method: 'POST', url: `${AUTH}/passkeys/signin/options`, payload: {} })).json()
    const answer = await within(5000, `passkey sign-in ${i + 1}`, app.inject({ method: 'POST', url: `${AUTH}/passkeys/signin`, payload: { response: authenticator.getAssertion(challenge) } }))
    assert.equal(answer.statusCode, 200, answer.body)
    tokens.push(answer.json().access_token)
  }
  assert.deepEqual(await Promise.all(tokens.map(me)), [401, 401, 401, 401, 200, 200])
})

test('MAX_SESSIONS_PER_USER defaults to 100 and must be a positive whole number', async () => {
  const { loadConfig, ConfigError } = await import('../../src/config/index.js')
  assert.equal(loadConfig({}).sessions.maxPerUser, 100)
  assert.throws(() => loadConfig({ MAX_SESSIONS_PER_USER: '0' }), ConfigError)
  assert.throws(() => loadConfig({ MAX_SESSIONS_PER_USER: 'many' }), /MAX_SESSIONS_PER_USER/)
})

test('housekeeping deletes sessions expired or revoked before the retention period, with their rotated-out tokens; live ones stay', async (t) => {
  let offsetMs = 0
  const clock = { now: () => new Date(Date.now() + offsetMs) }
  const { app, databaseUrl } = await buildTestAppWithDatabase(t, { OUTBOX_RETENTION_HOURS: '24', OUTBOX_POLL_MS: '20', REFRESH_TOKEN_TTL: String(3600), SESSION_MAX_AGE: String(90 * 24 * 3600) }, { clock })
  const db = openDirectDb(t, databaseUrl)
  const revoked = await signUp(app)
  const rotated = (await app.inject({ method: 'POST', url: `${AUTH}/refresh`, payload: { refresh_token: revoked.refreshToken } })).json()
  assert.equal((await app.inject({ method: 'POST', url: `${AUTH}/logout`, headers: bearer(rotated.access_token) })).statusCode, 204)
  await signUp(app) // its session expires within the hour and is never refreshed
  assert.equal((await db.selectFrom('rotated_refresh_tokens').selectAll().execute()).length, 1)

  // Two days on: the revoked session and the expired one are past the retention period. A
  // session signed in now (and refreshed, so its expiry is current) stays.
  offsetMs = 48 * 3600_000
  const sessionIds = async () => (await db.selectFrom('sessions').select('user_id').execute()).map((r) => r.user_id).sort()
  assert.equal((await sessionIds()).length, 2)
  const live = await signUp(app)
  const deadline = Date.now() + 20_000
  while ((await sessionIds()).length > 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  assert.deepEqual(await sessionIds(), [live.userId])
  assert.equal((await db.selectFrom('rotated_refresh_tokens').selectAll().execute()).length, 0, 'the family went with its session')
  // The live session still works.
  assert.equal((await app.inject({ method: 'GET', url: `${AUTH}/me`, headers: bearer(live.accessToken) })).statusCode, 200)
})
