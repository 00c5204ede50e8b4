import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp, buildTestAppWithDatabase } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { signUp, uniqueEmail } from '../helpers/factories.js'
import { mailEnv, startSmtpServer } from '../helpers/smtp-server.js'

const AUTH = '/api/v1/auth'

test('forgot-password answers alike for known and unknown addresses; only the owner gets mail', async (t) => {
  const smtp = await startSmtpServer(t)
  const { app, databaseUrl } = await buildTestAppWithDatabase(t, mailEnv(smtp))
  const user = await signUp(app)
  const stranger = uniqueEmail('nobody')

  const known = await app.inject({ method: 'POST', url: `${AUTH}/forgot-password`, payload: { email: user.email } })
  const unknown = await app.inject({ method: 'POST', url: `${AUTH}/forgot-password`, payload: { email: stranger } })
  assert.equal(known.statusCode, 200)
  assert.equal(unknown.statusCode, known.statusCode)
  assert.equal(unknown.body, known.body)
  const headerNames = (r: typeof known) => Object.keys(r.headers).filter((h) => h !== 'x-request-id' && h !== 'date').sort()
  assert.deepEqual(headerNames(unknown), headerNames(known))
  assert.equal(unknown.headers['content-length'], known.headers['content-length'])

  // Both requests were queued the same way; the sender then skips the unknown address.
  const db = openDirectDb(t, databaseUrl)
  let rows = await db.selectFrom('mail_outbox').select(['recipient', 'status']).where('template', '=', 'password_reset').execute()
  assert.equal(rows.length, 2)
  await smtp.waitForMail(user.email, 'Reset your password')
  for (let i = 0; i < 200 && rows.some((r) => r.status === 'pending'); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    rows = await db.selectFrom('mail_outbox').select(['recipient', 'status']).where('template', '=', 'password_reset').execute()
  }
  assert.equal(rows.find((r) => r.recipient === stranger)?.status, 'skipped')
  assert.equal(smtp.received.filter((m) => m.to.includes(stranger)).length, 0)
  const tokens = await db.selectFrom('one_time_tokens').select('user_id').where('purpose', '=', 'password_reset').execute()
  assert.deepEqual(tokens.map((r) => r.user_id), [user.userId])
})

test('an inactive account gets no reset mail', async (t) => {
  const smtp = await startSmtpServer(t)
  const { app, databaseUrl } = await buildTestAppWithDatabase(t, mailEnv(smtp))
  const inactive = await signUp(app)
  const active = await signUp(app)
  const db = openDirectDb(t, databaseUrl)
  await db.updateTable('users').set({ is_active: 0 }).where('id', '=', inactive.userId).execute()
  for (const email of [inactive.email, active.email]) {
    const response = await app.inject({ method: 'POST', url: `${AUTH}/forgot-password`, payload: { email } })
    assert.equal(response.statusCode, 200)
  }
  // Mail is sent in queue order: once the later request's mail is in, the earlier one was handled.
  await smtp.waitForMail(active.email, 'Reset your password')
  assert.equal(smtp.received.filter((m) => m.to.includes(inactive.email) && m.headers.subject === 'Reset your password').length, 0)
})

test('forgot-password validates its input', async (t) => {
  const app = await buildTestApp(t)
  for (const payload of [{}, { email: 'not an email' }, { email: 42 }]) {
    const response = await app.inject({ method: 'POST', url: `${AUTH}/forgot-password`, payload })
    assert.equal(response.statusCode, 422)
    assert.equal(response.json().code, 'validation_error')
  }
  const badJson = await app.inject({ method: 'POST', url: `${AUTH}/forgot-password`, headers: { 'content-type': 'application/json' }, payload: '{"email":' })
  assert.equal(badJson.statusCode, 400)
  assert.equal(badJson.json().code, 'invalid_json')
})
