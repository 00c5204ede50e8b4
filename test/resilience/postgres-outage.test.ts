/**
 * Fault injection against PostgreSQL: backends killed, a restart, a frozen server.
 * @see issue 15, items 1–3
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import pg from 'pg'
import { buildTestApp } from '../helpers/build-test-app.js'
import { PASSWORD, signUp } from '../helpers/factories.js'
import { ownPostgresUnavailable, startOwnPostgres } from '../helpers/own-postgres.js'
import { startService, waitFor } from '../helpers/processes.js'
import { createTestDatabaseUrl, usePostgres } from '../helpers/test-db.js'

const AUTH = '/api/v1/auth'
// These tests start PostgreSQL clusters of their own: once, in the PostgreSQL pass.
const skip = !usePostgres ? 'PostgreSQL fault injection runs in the PostgreSQL pass (TEST_DB=postgres)' : ownPostgresUnavailable()

async function json (url: string, path: string, body?: unknown): Promise<{ status: number, headers: Headers, body: any }> {
  const response = await fetch(`${url}${path}`, body === undefined
    ? {}
    : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined }
}

function assertOutage (response: { status: number, headers: Headers, body: any }): void {
  assert.equal(response.status, 503, JSON.stringify(response.body))
  assert.deepEqual(response.body, { detail: 'Service temporarily unavailable', code: 'service_unavailable' })
  assert.match(response.headers.get('retry-after') ?? '', /^\d+$/)
  assert.ok(response.headers.get('x-request-id'))
}

test('pg_terminate_backend on every connection of the service: it keeps serving, the outbox too', { skip }, async (t) => {
  // application_name marks this app's connections, so only they are terminated.
  const applicationName = `authd_test_terminate_${process.pid}_${Date.now()}`
  const url = new URL(await createTestDatabaseUrl(t))
  url.searchParams.set('application_name', applicationName)
  const lines: string[] = []
  const app = await buildTestApp(t, { DATABASE_URL: url.toString(), LOG_LEVEL: 'warn', OUTBOX_POLL_MS: '200' }, { logStream: { write: (line) => { lines.push(line) } } })
  await app.ready()
  const user = await signUp(app)
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL })
  await admin.connect()
  t.after(() => admin.end())
  const ours = async (): Promise<number> => Number((await admin.query('select count(*) from pg_stat_activity where application_name = $1', [applicationName])).rows[0].count)
  await waitFor('the service holds pooled connections', async () => (await ours()) > 0)

  const lost = (): number => lines.filter((line) => line.includes('database connection lost')).length
  for (let round = 0; round < 2; round++) {
    const { rows } = await admin.query('select pid, pg_terminate_backend(pid) as done from pg_stat_activity where application_name = $1', [applicationName])
    assert.ok(rows.length > 0 && rows.every((r) => r.done === true))
    const terminated = rows.map((r) => r.pid as number)
    // Gone on the server's side; the pool reads their end a moment later.
    await waitFor('the terminated backends are gone', async () =>
      (await admin.query('select count(*) from pg_stat_activity where pid = any($1)', [terminated])).rows[0].count === '0')
    await new Promise((resolve) => setTimeout(resolve, 200))
    // The next requests get fresh connections.
    const signin = await app.inject({ method: 'POST', url: `${AUTH}/signin`, payload: { email: user.email, password: PASSWORD } })
    assert.equal(signin.statusCode, 200, signin.body)
    assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
  }
  assert.ok(lost() >= 1, 'idle pooled connections reported their end')
  // The outbox poller still delivers: mail queued after the terminations leaves the outbox.
  assert.equal((await app.inject({ method: 'POST', url: `${AUTH}/forgot-password`, payload: { email: user.email } })).statusCode, 200)
  await waitFor('the outbox is drained', async () => {
    const { rows } = await admin.query(`select count(*) from ${new URL(url).searchParams.get('options')!.split('=')[1]}.mail_outbox where status = 'pending'`)
    return Number(rows[0].count) === 0
  })
  // One line per lost connection: code and message, not the client object.
  for (const line of lines.filter((l) => l.includes('database connection lost'))) {
    assert.doesNotMatch(line, /"client"|_ending|connectionParameters/)
    assert.match(JSON.parse(line).error, /terminat/i)
  }
})

test('PostgreSQL restarted under a running service: 503 service_unavailable while down, serving again once it is back', { skip }, async (t) => {
  const cluster = await startOwnPostgres(t)
  const service = await startService(t, {
    DATABASE_URL: cluster.url,
    OUTBOX_POLL_MS: '50',
    DATABASE_CONNECT_TIMEOUT_MS: '1000',
    DATABASE_POOL_TIMEOUT_MS: '1500'
  })
  const email = `restart-${Date.now()}@example.com`
  assert.equal((await json(service.url, `${AUTH}/signup`, { email, username: `restart_${Date.now()}`, password: PASSWORD })).status, 201)

  cluster.stop()
  assertOutage(await json(service.url, `${AUTH}/signin`, { email, password: PASSWORD }))
  assert.equal((await json(service.url, '/readyz')).status, 503)
  // Several outbox polls run against the dead server meanwhile.
  await new Promise((resolve) => setTimeout(resolve, 300))
  assert.equal(service.child.exitCode, null, `the service exited: ${service.stderr()}`)

  cluster.start()
  await waitFor('the service answers sign-ins again', async () => (await json(service.url, `${AUTH}/signin`, { email, password: PASSWORD })).status === 200)
  assert.equal((await json(service.url, '/readyz')).status, 200)
  assert.equal(service.child.exitCode, null)
  // Nothing on stderr, and every log line is one JSON object (no driver object dumped).
  assert.equal(service.stderr(), '')
  for (const line of service.stdout().trim().split('\n')) JSON.parse(line)
})

test('a frozen PostgreSQL (SIGSTOP): requests answer 503 within the timeouts instead of hanging, and recover', { skip }, async (t) => {
  const cluster = await startOwnPostgres(t)
  const app = await buildTestApp(t, {
    DATABASE_URL: cluster.url,
    DATABASE_CONNECT_TIMEOUT_MS: '500',
    DATABASE_POOL_TIMEOUT_MS: '800',
    DATABASE_STATEMENT_TIMEOUT_MS: '500'
  })
  const user = await signUp(app)
  cluster.freeze()
  t.after(() => { try { cluster.thaw() } catch {} })
  // More requests than pool connections: some wait for a slot, some for a new connection,
  // some for an answer on a pooled one. Every one ends with a 503.
  const responses = await Promise.all(Array.from({ length: 15 }, () =>
    app.inject({ method: 'POST', url: `${AUTH}/signin`, payload: { email: user.email, password: PASSWORD } })))
  for (const response of responses) {
    assert.equal(response.statusCode, 503, response.body)
    assert.deepEqual(response.json(), { detail: 'Service temporarily unavailable', code: 'service_unavailable' })
    assert.ok(response.headers['retry-after'])
  }
  cluster.thaw()
  await waitFor('sign-in works again', async () =>
    (await app.inject({ method: 'POST', url: `${AUTH}/signin`, payload: { email: user.email, password: PASSWORD } })).statusCode === 200)
})
