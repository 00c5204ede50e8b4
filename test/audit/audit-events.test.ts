import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { bearer, PASSWORD, signUp, uniqueEmail } from '../helpers/factories.js'
import { createTestDatabaseUrl } from '../helpers/test-db.js'

const UA = { 'user-agent': 'audit-test/1.0' }

async function setup (t: Parameters<typeof buildTestApp>[0], env: Record<string, string> = {}) {
  const url = await createTestDatabaseUrl(t)
  const app = await buildTestApp(t, { DATABASE_URL: url, ...env })
  const db = openDirectDb(t, url)
  const admin = await signUp(app)
  await db.updateTable('users').set({ is_superuser: 1 }).where('id', '=', admin.userId).execute()
  const list = async (query: string) => {
    const response = await app.inject({ method: 'GET', url: `/api/v1/audit-events${query}`, headers: bearer(admin.accessToken) })
    assert.equal(response.statusCode, 200, response.body)
    return response.json() as { items: Array<Record<string, any>>, total: number, limit: number, offset: number }
  }
  return { app, db, url, admin, list }
}

test('security events are recorded with user, IP, user agent and time, and read by a superuser', async (t) => {
  const { app, list } = await setup(t, { RATE_LIMITS: 'on', RATE_LIMIT_SIGNIN_PER_ACCOUNT: '2/900' })
  const user = await signUp(app)
  const signin = (email: string, password: string) => app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email, password }, headers: UA, remoteAddress: '203.0.113.7' })

  assert.equal((await signin(uniqueEmail(), 'wrong password')).statusCode, 401)
  assert.equal((await signin(user.email, 'wrong password')).statusCode, 401)
  const good = await signin(user.email, PASSWORD)
  assert.equal(good.statusCode, 200)
  const session = good.json()
  // Refresh reuse: rotate once, then present the spent token again.
  const rotated = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: session.refresh_token }, headers: UA })
  assert.equal(rotated.statusCode, 200)
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: session.refresh_token }, headers: UA })).statusCode, 401)
  // Lockout: two failures on one email, then the third attempt is refused.
  const lockedEmail = uniqueEmail()
  await signin(lockedEmail, 'x1')
  await signin(lockedEmail, 'x2')
  assert.equal((await signin(lockedEmail, 'x3')).statusCode, 429)
  assert.equal((await signin(lockedEmail, 'x4')).statusCode, 429)
  // Session revoked, password changed, logout.
  const other = await signin(user.email, PASSWORD)
  assert.equal((await app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${other.json().refresh_token.split('.')[0]}`, headers: { ...bearer(user.accessToken), ...UA } })).statusCode, 204)
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/auth/change-password', payload: { old_password: 'wrong one', new_password: 'another long passphrase 7' }, headers: { ...bearer(user.accessToken), ...UA } })).statusCode, 400)
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/auth/change-password', payload: { old_password: PASSWORD, new_password: 'another long passphrase 7' }, headers: { ...bearer(user.accessToken), ...UA } })).statusCode, 200)
  const again = await signin(user.email, 'another long passphrase 7')
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { ...bearer(again.json().access_token), ...UA } })).statusCode, 204)

  const mine = await list(`?user_id=${user.userId}&limit=100`)
  const types = mine.items.map((e) => e.type).reverse()
  assert.deepEqual(types, [
    'signin.failure', 'signin.success', 'refresh.reuse_detected', 'signin.success', 'session.revoked',
    'password.changed', 'password.changed', 'signin.success', 'logout'
  ])
  const failure = mine.items.find((e) => e.type === 'signin.failure')!
  assert.equal(failure.ip, '203.0.113.7')
  assert.equal(failure.user_agent, 'audit-test/1.0')
  assert.equal(failure.details.reason, 'wrong_password')
  assert.ok(Date.now() - Date.parse(failure.created_at) < 60_000)
  assert.deepEqual(mine.items.filter((e) => e.type === 'password.changed').map((e) => e.details.outcome).sort(), ['changed', 'incorrect_password'])

  const locked = await list('?type=signin.locked_out')
  assert.equal(locked.total, 1, 'one lockout event per key and window, however many refusals')
  assert.equal(locked.items[0]!.user_id, null)
  assert.equal(locked.items[0]!.details.email, lockedEmail)
  const unknown = (await list('?type=signin.failure')).items.filter((e) => e.user_id === null)
  assert.ok(unknown.some((e) => e.details.reason === 'unknown_email'))

  // Nothing secret in the trail.
  const everything = JSON.stringify((await list('?limit=100')).items)
  for (const secret of [PASSWORD, 'another long passphrase 7', session.access_token, session.refresh_token, rotated.json().refresh_token]) {
    assert.ok(!everything.includes(secret))
  }
  assert.doesNotMatch(everything, /\$argon2/)
})

test('paginated newest first, filtered by type; validated query', async (t) => {
  const { app, list, admin } = await setup(t)
  for (let i = 0; i < 5; i++) await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: uniqueEmail(), password: 'nope' } })
  const first = await list('?type=signin.failure&limit=2')
  assert.equal(first.total, 5)
  assert.equal(first.items.length, 2)
  assert.equal(first.limit, 2)
  const rest = await list('?type=signin.failure&limit=2&offset=2')
  const last = await list('?type=signin.failure&limit=2&offset=4')
  const ids = [...first.items, ...rest.items, ...last.items].map((e) => e.id)
  assert.equal(new Set(ids).size, 5)
  const times = [...first.items, ...rest.items, ...last.items].map((e) => e.created_at)
  assert.deepEqual(times, [...times].sort().reverse())
  for (const bad of ['?limit=0', '?limit=101', '?offset=-1', '?limit=abc']) {
    const response = await app.inject({ method: 'GET', url: `/api/v1/audit-events${bad}`, headers: bearer(admin.accessToken) })
    assert.equal(response.statusCode, 422, bad)
    assert.equal(response.json().code, 'validation_error')
  }
})

test('only superusers read the audit log', async (t) => {
  const { app } = await setup(t)
  const member = await signUp(app)
  const forbidden = await app.inject({ method: 'GET', url: '/api/v1/audit-events', headers: bearer(member.accessToken) })
  assert.equal(forbidden.statusCode, 403)
  assert.deepEqual(forbidden.json(), { detail: 'Superuser privileges required', code: 'forbidden' })
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/audit-events' })).statusCode, 401)
})

test('events older than AUDIT_RETENTION_DAYS are deleted', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const db = openDirectDb(t, url)
  await buildTestApp(t, { DATABASE_URL: url, AUDIT_RETENTION_DAYS: '30' })
  const old = new Date(Date.now() - 31 * 86_400_000).toISOString()
  const recent = new Date(Date.now() - 29 * 86_400_000).toISOString()
  await db.insertInto('audit_events').values([
    { id: '00000000-0000-7000-8000-000000000001', type: 'signin.failure', actor_id: null, user_id: null, ip: null, user_agent: null, details: null, created_at: old },
    { id: '00000000-0000-7000-8000-000000000002', type: 'signin.failure', actor_id: null, user_id: null, ip: null, user_agent: null, details: null, created_at: recent }
  ]).execute()
  // The retention pass runs at start (then hourly).
  await buildTestApp(t, { DATABASE_URL: url, AUDIT_RETENTION_DAYS: '30' })
  const left = await db.selectFrom('audit_events').select('id').execute()
  assert.deepEqual(left.map((r) => r.id), ['00000000-0000-7000-8000-000000000002'])
})
