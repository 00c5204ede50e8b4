import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp, buildTestAppWithDatabase } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { bearer, signUp } from '../helpers/factories.js'

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
