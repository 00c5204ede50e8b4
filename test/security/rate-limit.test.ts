import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { Redis } from 'ioredis'
import { buildTestApp, waitUntilReady } from '../helpers/build-test-app.js'
import { PASSWORD, signUp, uniqueEmail } from '../helpers/factories.js'
import { createTestDatabaseUrl } from '../helpers/test-db.js'

const SIGNIN = '/api/v1/auth/signin'
const REDIS_URL = 'redis://127.0.0.1:6379'

function signin (app: Awaited<ReturnType<typeof buildTestApp>>, email: string, password: string, remoteAddress = '192.0.2.1', headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: SIGNIN, payload: { email, password }, remoteAddress, headers })
}

test('sign-in is limited per client IP: 429 rate_limited with Retry-After', async (t) => {
  const app = await buildTestApp(t, { RATE_LIMITS: 'on', RATE_LIMIT_SIGNIN_PER_IP: '3/60' })
  for (let i = 0; i < 3; i++) {
    assert.equal((await signin(app, uniqueEmail(), 'wrong password')).statusCode, 401)
  }
  const limited = await signin(app, uniqueEmail(), 'wrong password')
  assert.equal(limited.statusCode, 429)
  assert.deepEqual(limited.json(), { detail: 'Too many requests', code: 'rate_limited' })
  const retryAfter = Number(limited.headers['retry-after'])
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`)
  // Another client is not affected.
  assert.equal((await signin(app, uniqueEmail(), 'wrong password', '192.0.2.2')).statusCode, 401)
})

test('failed sign-ins are limited per account, alike for known and unknown emails', async (t) => {
  const app = await buildTestApp(t, { RATE_LIMITS: 'on', RATE_LIMIT_SIGNIN_PER_ACCOUNT: '3/900' })
  const known = await signUp(app)
  const unknown = uniqueEmail()
  const answers: Record<string, Array<[number, string, string | undefined]>> = { known: [], unknown: [] }
  for (const [label, email] of [['known', known.email], ['unknown', unknown]] as const) {
    for (let i = 0; i < 5; i++) {
      // A new IP each time: only the per-account limit can apply.
      const response = await signin(app, email, 'wrong password', `198.51.100.${i + 1}`)
      answers[label]!.push([response.statusCode, response.body, response.headers['retry-after'] === undefined ? undefined : 'set'])
    }
  }
  assert.deepEqual(answers.known!.map((a) => a[0]), [401, 401, 401, 429, 429])
  assert.deepEqual(answers.known, answers.unknown, 'known and unknown emails must be answered identically')
  // Once locked, even the right password waits: the limit is what stops guessing.
  const right = await signin(app, known.email, PASSWORD, '198.51.100.99')
  assert.equal(right.statusCode, 429)
  // The email is matched case-insensitively and trimmed, so case changes do not reset it.
  assert.equal((await signin(app, known.email.toUpperCase(), 'wrong password', '198.51.100.98')).statusCode, 429)
})

test('a successful sign-in clears the account failure counter', async (t) => {
  const app = await buildTestApp(t, { RATE_LIMITS: 'on', RATE_LIMIT_SIGNIN_PER_ACCOUNT: '3/900' })
  const user = await signUp(app)
  for (let i = 0; i < 2; i++) assert.equal((await signin(app, user.email, 'wrong password')).statusCode, 401)
  assert.equal((await signin(app, user.email, PASSWORD)).statusCode, 200)
  for (let i = 0; i < 2; i++) assert.equal((await signin(app, user.email, 'wrong password')).statusCode, 401)
  assert.equal((await signin(app, user.email, PASSWORD)).statusCode, 200)
})

test('/login and the password grant of /token share the sign-in limits', async (t) => {
  const app = await buildTestApp(t, { RATE_LIMITS: 'on', RATE_LIMIT_SIGNIN_PER_IP: '2/60' })
  const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: `username=${encodeURIComponent(uniqueEmail())}&password=wrong+password`, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  assert.equal(login.statusCode, 401)
  const token = () => app.inject({ method: 'POST', url: '/api/v1/auth/token', payload: `grant_type=password&username=${encodeURIComponent(uniqueEmail())}&password=wrong+password`, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  assert.equal((await token()).statusCode, 400)
  const limited = await token()
  assert.equal(limited.statusCode, 429)
  assert.equal(limited.json().code, 'rate_limited')
  assert.ok(limited.headers['retry-after'])
})

test('sign-up is limited per client IP', async (t) => {
  const app = await buildTestApp(t, { RATE_LIMITS: 'on', RATE_LIMIT_SIGNUP_PER_IP: '2/3600' })
  await signUp(app)
  await signUp(app)
  const response = await app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload: { email: uniqueEmail(), username: `u_${randomBytes(4).toString('hex')}`, password: PASSWORD } })
  assert.equal(response.statusCode, 429)
  assert.equal(response.json().code, 'rate_limited')
})

test('X-Forwarded-For is ignored unless TRUST_PROXY names the proxy', async (t) => {
  const direct = await buildTestApp(t, { RATE_LIMITS: 'on', RATE_LIMIT_SIGNIN_PER_IP: '1/60' })
  assert.equal((await signin(direct, uniqueEmail(), 'x', '127.0.0.1', { 'x-forwarded-for': '203.0.113.1' })).statusCode, 401)
  // A spoofed header does not buy a fresh counter.
  assert.equal((await signin(direct, uniqueEmail(), 'x', '127.0.0.1', { 'x-forwarded-for': '203.0.113.2' })).statusCode, 429)

  const proxied = await buildTestApp(t, { RATE_LIMITS: 'on', RATE_LIMIT_SIGNIN_PER_IP: '1/60', TRUST_PROXY: '127.0.0.1' })
  assert.equal((await signin(proxied, uniqueEmail(), 'x', '127.0.0.1', { 'x-forwarded-for': '203.0.113.1' })).statusCode, 401)
  assert.equal((await signin(proxied, uniqueEmail(), 'x', '127.0.0.1', { 'x-forwarded-for': '203.0.113.2' })).statusCode, 401)
  assert.equal((await signin(proxied, uniqueEmail(), 'x', '127.0.0.1', { 'x-forwarded-for': '203.0.113.1' })).statusCode, 429)
})

test('RATE_LIMITS=off lets every attempt through', async (t) => {
  const app = await buildTestApp(t, { RATE_LIMITS: 'off', RATE_LIMIT_SIGNIN_PER_IP: '1/60', RATE_LIMIT_SIGNIN_PER_ACCOUNT: '1/60' })
  const email = uniqueEmail()
  for (let i = 0; i < 4; i++) assert.equal((await signin(app, email, 'wrong password')).statusCode, 401)
})

test('with REDIS_URL the counters live in Redis and are shared by instances', async (t) => {
  const prefix = `test-${randomBytes(6).toString('hex')}:`
  const redis = new Redis(REDIS_URL)
  t.after(async () => {
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.del(...keys)
    await redis.quit()
  })
  const url = await createTestDatabaseUrl(t)
  const env = { RATE_LIMITS: 'on', RATE_LIMIT_SIGNIN_PER_IP: '2/60', REDIS_URL, REDIS_KEY_PREFIX: prefix, DATABASE_URL: url }
  const first = await buildTestApp(t, env)
  const second = await buildTestApp(t, env)
  // Both connected (before that, each would count in-process: the documented fallback).
  for (const app of [first, second]) await waitUntilReady(app)
  assert.equal((await signin(first, uniqueEmail(), 'x')).statusCode, 401)
  assert.equal((await signin(second, uniqueEmail(), 'x')).statusCode, 401)
  assert.equal((await signin(first, uniqueEmail(), 'x')).statusCode, 429)
  const keys = await redis.keys(`${prefix}rl:signin-ip:*`)
  assert.equal(keys.length, 1)
  assert.equal(await redis.get(keys[0]!), '3')
  const ttl = await redis.pttl(keys[0]!)
  assert.ok(ttl > 0 && ttl <= 60_000, 'every counter carries its window as an expiry')
  // No email or IP in clear in the shared store.
  assert.ok(!keys[0]!.includes('192.0.2.1'))
})

for (const store of ['memory', 'redis'] as const) {
  test(`concurrent attempts are all counted (${store}): exactly the limit gets through`, async (t) => {
    const env: Record<string, string> = { RATE_LIMITS: 'on', RATE_LIMIT_SIGNIN_PER_IP: '5/60' }
    if (store === 'redis') {
      const prefix = `test-${randomBytes(6).toString('hex')}:`
      Object.assign(env, { REDIS_URL, REDIS_KEY_PREFIX: prefix })
      const redis = new Redis(REDIS_URL)
      t.after(async () => {
        const keys = await redis.keys(`${prefix}*`)
        if (keys.length > 0) await redis.del(...keys)
        await redis.quit()
      })
    }
    const app = await buildTestApp(t, env)
    if (store === 'redis') await waitUntilReady(app)
    const statuses = await Promise.all(Array.from({ length: 20 }, () => signin(app, uniqueEmail(), 'wrong password')))
    const counts = statuses.reduce<Record<number, number>>((acc, r) => ({ ...acc, [r.statusCode]: (acc[r.statusCode] ?? 0) + 1 }), {})
    assert.deepEqual(counts, { 401: 5, 429: 15 })
  })
}

test('a burst of parallel guesses at one account from many IPs gets exactly the account limit through', async (t) => {
  const app = await buildTestApp(t, { RATE_LIMITS: 'on', RATE_LIMIT_SIGNIN_PER_ACCOUNT: '5/900' })
  const user = await signUp(app)
  const statuses = await Promise.all(Array.from({ length: 20 }, (_, i) => signin(app, user.email, `guess number ${i}`, `198.18.0.${i + 1}`)))
  const counts = statuses.reduce<Record<number, number>>((acc, r) => ({ ...acc, [r.statusCode]: (acc[r.statusCode] ?? 0) + 1 }), {})
  assert.deepEqual(counts, { 401: 5, 429: 15 })
})
