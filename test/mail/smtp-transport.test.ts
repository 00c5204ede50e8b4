import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp, buildTestAppWithDatabase } from '../helpers/build-test-app.js'
import { signUp } from '../helpers/factories.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { mailEnv, startSmtpServer } from '../helpers/smtp-server.js'

test('smtp:// upgrades with STARTTLS when the server offers it, before authenticating', async (t) => {
  const smtp = await startSmtpServer(t, { tls: 'starttls' })
  const app = await buildTestApp(t, mailEnv(smtp))
  const user = await signUp(app)
  const [mail] = await smtp.waitForCount(1)
  assert.deepEqual(mail!.to, [user.email])
  assert.equal(mail!.secure, true)
})

test('smtps:// speaks TLS from the start', async (t) => {
  const smtp = await startSmtpServer(t, { tls: 'implicit' })
  assert.match(smtp.url, /^smtps:\/\//)
  const app = await buildTestApp(t, mailEnv(smtp))
  const user = await signUp(app)
  const [mail] = await smtp.waitForCount(1)
  assert.deepEqual(mail!.to, [user.email])
  assert.equal(mail!.secure, true)
})

test('without TLS on offer, plain smtp:// still delivers with the URL\'s credentials', async (t) => {
  const smtp = await startSmtpServer(t)
  const app = await buildTestApp(t, mailEnv(smtp))
  await signUp(app)
  const [mail] = await smtp.waitForCount(1)
  assert.equal(mail!.secure, false)
})

test('wrong SMTP credentials: requests still succeed and the mail waits, retried, in the outbox', async (t) => {
  const smtp = await startSmtpServer(t)
  const { app, databaseUrl } = await buildTestAppWithDatabase(t, { ...mailEnv(smtp), SMTP_URL: smtp.url.replace('smtp%20secret', 'wrong%20secret') })
  const user = await signUp(app)
  assert.equal(user.response.statusCode, 201)
  const db = openDirectDb(t, databaseUrl)
  let rows = await db.selectFrom('mail_outbox').selectAll().execute()
  for (let i = 0; i < 500 && !rows.every((r) => r.attempts >= 2); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    rows = await db.selectFrom('mail_outbox').selectAll().execute()
  }
  assert.equal(rows.length, 1)
  assert.equal(rows[0]!.status, 'pending')
  assert.ok(rows[0]!.attempts >= 2)
  assert.match(rows[0]!.last_error ?? '', /Invalid login|535|auth/i)
  assert.ok(!(rows[0]!.last_error ?? '').includes('wrong secret'))
  assert.equal(smtp.received.length, 0)
})
