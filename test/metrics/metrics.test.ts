import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { registerOutboxDepth } from '../../src/metrics/metrics.js'
import { buildTestApp } from '../helpers/build-test-app.js'
import { bearer, signUp } from '../helpers/factories.js'

async function scrape (app: FastifyInstance): Promise<string> {
  const response = await app.inject({ method: 'GET', url: '/metrics' })
  assert.equal(response.statusCode, 200)
  assert.match(String(response.headers['content-type']), /^text\/plain/)
  return response.body
}

/** The value of one series (name plus exact label set), 0 when absent. */
function valueOf (body: string, series: string): number {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `))
  return line ? Number(line.slice(series.length + 1)) : 0
}

test('/metrics counts requests by route pattern and status, with latency', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const meSeries = 'http_request_duration_seconds_count{method="GET",route="/api/v1/auth/me",status_code="200"}'
  const unauthorizedSeries = 'http_request_duration_seconds_count{method="GET",route="/api/v1/auth/me",status_code="401"}'
  const before = await scrape(app)
  for (let i = 0; i < 3; i++) {
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(user.accessToken) })).statusCode, 200)
  }
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me' })).statusCode, 401)
  assert.equal((await app.inject({ method: 'GET', url: '/no/such/path/123' })).statusCode, 404)
  assert.equal((await app.inject({ method: 'HEAD', url: '/api/v1/auth/me', headers: bearer(user.accessToken) })).statusCode, 200)
  const unmatchedSeries = 'http_request_duration_seconds_count{method="GET",route="unmatched",status_code="404"}'
  const headSeries = 'http_request_duration_seconds_count{method="HEAD",route="/api/v1/auth/me",status_code="200"}'
  const after = await scrape(app)
  assert.equal(valueOf(after, meSeries) - valueOf(before, meSeries), 3)
  assert.equal(valueOf(after, unauthorizedSeries) - valueOf(before, unauthorizedSeries), 1)
  assert.match(after, /http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/api\/v1\/auth\/me",status_code="200"\}/)
  // Unknown paths share one series: raw URLs would make the label set unbounded.
  assert.equal(valueOf(after, unmatchedSeries) - valueOf(before, unmatchedSeries), 1)
  // Each request is observed once, also on the HEAD route Fastify derives from the GET.
  assert.equal(valueOf(after, headSeries) - valueOf(before, headSeries), 1)
  assert.doesNotMatch(after, /no\/such\/path/)
  assert.match(after, /process_resident_memory_bytes/)
})

test('/metrics counts sign-in successes and failures by outcome, and never shows a secret', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const before = await scrape(app)
  const signin = (password: string, email = user.email) => app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email, password } })
  assert.equal((await signin(user.password)).statusCode, 200)
  assert.equal((await signin('wrong password entirely')).statusCode, 401)
  assert.equal((await signin('wrong password entirely', 'nobody-here@example.com')).statusCode, 401)
  const form = await app.inject({ method: 'POST', url: '/api/v1/auth/token', payload: `grant_type=password&username=${encodeURIComponent(user.email)}&password=${encodeURIComponent(user.password)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  assert.equal(form.statusCode, 200)
  const after = await scrape(app)
  const delta = (outcome: string) => valueOf(after, `authd_signin_attempts_total{outcome="${outcome}"}`) - valueOf(before, `authd_signin_attempts_total{outcome="${outcome}"}`)
  assert.equal(delta('success'), 2)
  assert.equal(delta('invalid_credentials'), 2)
  assert.ok(!after.includes(user.password) && !after.includes(user.email) && !after.includes(user.accessToken))
})

test('/metrics reports rate-limit hits and the email outbox depth that other features feed it', async (t) => {
  // The real limiter, driven over HTTP: 2 sign-ins a minute per IP, so the third is refused.
  const app = await buildTestApp(t, { RATE_LIMITS: 'on', RATE_LIMIT_SIGNIN_PER_IP: '2/60' })
  const series = 'authd_rate_limit_hits_total{limit="signin-ip"}'
  const before = valueOf(await scrape(app), series)
  const signin = () => app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: 'nobody@example.com', password: 'wrong password entirely' } })
  assert.equal((await signin()).statusCode, 401)
  assert.equal((await signin()).statusCode, 401)
  assert.equal((await signin()).statusCode, 429)
  let queued = 7
  const unregister = registerOutboxDepth(() => queued)
  t.after(unregister)
  let body = await scrape(app)
  assert.equal(valueOf(body, series) - before, 1)
  assert.equal(valueOf(body, 'authd_email_outbox_depth'), 7)
  queued = 2
  body = await scrape(app)
  assert.equal(valueOf(body, 'authd_email_outbox_depth'), 2)
  unregister()
  assert.equal(valueOf(await scrape(app), 'authd_email_outbox_depth'), 0)
})
