import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { ipRateLimitKey } from '../../src/rate-limits/rate-limit.js'
import { buildTestApp } from '../helpers/build-test-app.js'
import { uniqueEmail } from '../helpers/factories.js'

/** One failed sign-in for a fresh email (so only the per-IP limit can refuse it). */
const signinFrom = (app: FastifyInstance, remoteAddress: string, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/signin', remoteAddress, headers, payload: { email: uniqueEmail(), password: 'not the password at all' } })

test('the rate-limit key of a client address: IPv4 as is, IPv4-mapped as IPv4, IPv6 by /64', () => {
  assert.equal(ipRateLimitKey('192.0.2.7'), '192.0.2.7')
  assert.equal(ipRateLimitKey('::ffff:192.0.2.7'), '192.0.2.7')
  assert.equal(ipRateLimitKey('::FFFF:c000:207'), '192.0.2.7')
  assert.equal(ipRateLimitKey('2001:db8:1:2::1'), ipRateLimitKey('2001:0db8:0001:0002:ffff:eeee:dddd:cccc'))
  assert.notEqual(ipRateLimitKey('2001:db8:1:2::1'), ipRateLimitKey('2001:db8:1:3::1'))
  assert.equal(ipRateLimitKey('fe80::1%eth0'), ipRateLimitKey('fe80::2'))
})

/** @see issue 15, item 10: 200 sign-ins from one /64 all succeeded. */
test('per-IP sign-in limit over HTTP: every address of one IPv6 /64 shares a counter; another /64 has its own', async (t) => {
  const app = await buildTestApp(t, { RATE_LIMITS: 'on', RATE_LIMIT_SIGNIN_PER_IP: '3/60' })
  for (let i = 1; i <= 3; i++) assert.equal((await signinFrom(app, `2001:db8:aa:bb::${i.toString(16)}`)).statusCode, 401)
  const fourth = await signinFrom(app, '2001:db8:aa:bb:1234:5678:9abc:def0')
  assert.equal(fourth.statusCode, 429, 'a fresh address in the same /64 is still the same client')
  assert.ok(Number(fourth.headers['retry-after']) >= 1)
  assert.equal((await signinFrom(app, '2001:db8:aa:bc::1')).statusCode, 401, 'the next /64 is another client')
})

test('per-IP limit over HTTP: an IPv4-mapped IPv6 address counts as its IPv4 address', async (t) => {
  const app = await buildTestApp(t, { RATE_LIMITS: 'on', RATE_LIMIT_SIGNIN_PER_IP: '2/60' })
  assert.equal((await signinFrom(app, '198.51.100.20')).statusCode, 401)
  assert.equal((await signinFrom(app, '::ffff:198.51.100.20')).statusCode, 401)
  assert.equal((await signinFrom(app, '::ffff:198.51.100.20')).statusCode, 429)
  assert.equal((await signinFrom(app, '198.51.100.21')).statusCode, 401)
})

test('behind TRUST_PROXY, X-Forwarded-For addresses are keyed the same way (the sign-up limit)', async (t) => {
  const app = await buildTestApp(t, { RATE_LIMITS: 'on', TRUST_PROXY: '127.0.0.1', RATE_LIMIT_SIGNUP_PER_IP: '2/3600' })
  const signup = (xff: string) => app.inject({
    method: 'POST',
    url: '/api/v1/auth/signup',
    remoteAddress: '127.0.0.1',
    headers: { 'x-forwarded-for': xff },
    payload: { email: uniqueEmail(), username: `u_${Math.random().toString(36).slice(2, 10)}`, password: 'a long and unusual passphrase 42' }
  })
  assert.equal((await signup('2001:db8:5:6::a')).statusCode, 201)
  assert.equal((await signup('2001:db8:5:6::b')).statusCode, 201)
  assert.equal((await signup('2001:db8:5:6:7:8:9:c')).statusCode, 429)
  assert.equal((await signup('2001:db8:5:7::a')).statusCode, 201)
})
