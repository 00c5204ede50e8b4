/**
 * /metrics behind METRICS_TOKEN, and the dependency gauges: database pool, Redis, hash queue.
 * @see issue 15, "beyond what was found"
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../helpers/build-test-app.js'
import { signUp } from '../helpers/factories.js'
import { freePort, killIfRunning, waitFor } from '../helpers/processes.js'
import { usePostgres } from '../helpers/test-db.js'

const TOKEN = 'metrics-token-0123456789abcdef'

function valueOf (body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

async function scrape (app: FastifyInstance): Promise<string> {
  const response = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
  assert.equal(response.statusCode, 200)
  return response.body
}

test('with METRICS_TOKEN, /metrics needs that bearer token', async (t) => {
  const app = await buildTestApp(t, { METRICS_TOKEN: TOKEN })
  const missing = await app.inject({ method: 'GET', url: '/metrics' })
  assert.equal(missing.statusCode, 401)
  assert.deepEqual(missing.json(), { detail: 'Not authenticated', code: 'not_authenticated' })
  assert.equal(missing.headers['www-authenticate'], 'Bearer')
  for (const wrong of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, TOKEN, 'Basic abc']) {
    const response = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: wrong } })
    assert.equal(response.statusCode, 401, wrong)
    assert.equal(response.json().code, 'invalid_token')
    assert.doesNotMatch(response.body, /authd_/)
  }
  assert.match(await scrape(app), /authd_signin_attempts_total|http_request_duration_seconds/)
  // Without the variable it stays open, as before.
  const open = await buildTestApp(t)
  assert.equal((await open.inject({ method: 'GET', url: '/metrics' })).statusCode, 200)
})

/** @see red-team findings, round 3, informational: `bearer <token>` was 401. */
test('the METRICS_TOKEN bearer scheme is case-insensitive (RFC 7235), the token is not', async (t) => {
  const app = await buildTestApp(t, { METRICS_TOKEN: TOKEN })
  for (const scheme of ['bearer', 'BEARER', 'bEaReR']) {
    const response = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `${scheme} ${TOKEN}` } })
    assert.equal(response.statusCode, 200, scheme)
  }
  for (const wrong of [`bearer ${TOKEN.toUpperCase()}`, `bearer ${TOKEN} extra`, `Bearer${TOKEN}`, `Basic ${TOKEN}`]) {
    const response = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: wrong } })
    assert.equal(response.statusCode, 401, wrong)
    assert.equal(response.json().code, 'invalid_token')
  }
})

test('METRICS_TOKEN shorter than 16 bytes is refused at start-up', async (t) => {
  await assert.rejects(buildTestApp(t, { METRICS_TOKEN: 'short' }), /METRICS_TOKEN: must be at least 16 bytes long/)
})

test('the database pool and the hashing queue are reported', async (t) => {
  const app = await buildTestApp(t, { METRICS_TOKEN: TOKEN })
  await signUp(app)
  const body = await scrape(app)
  for (const state of ['total', 'idle', 'waiting']) assert.notEqual(valueOf(body, `authd_db_pool_connections{state="${state}"}`), undefined, state)
  // PostgreSQL has a pool (SQLite one embedded connection, reported as none).
  if (usePostgres) assert.ok(valueOf(body, 'authd_db_pool_connections{state="total"}')! >= 1)
  assert.equal(valueOf(body, 'authd_password_hash_queue{state="running"}'), 0)
  assert.equal(valueOf(body, 'authd_password_hash_queue{state="waiting"}'), 0)
})

test('authd_redis_up follows the Redis connection: 1 while up, 0 once its server is gone', { skip: usePostgres ? 'runs in the SQLite pass' : false }, async (t) => {
  const port = await freePort()
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  t.after(() => killIfRunning(redis.pid))
  const exited = new Promise((resolve) => redis.once('exit', resolve))
  const app = await buildTestApp(t, { METRICS_TOKEN: TOKEN, REDIS_URL: `redis://127.0.0.1:${port}` })
  await waitFor('connected to the test Redis', async () => valueOf(await scrape(app), 'authd_redis_up') === 1)
  killIfRunning(redis.pid)
  await exited
  await waitFor('the gauge shows Redis down', async () => valueOf(await scrape(app), 'authd_redis_up') === 0)
})
