import assert from 'node:assert/strict'
import { test } from 'node:test'
import { newId } from '../../src/lib/crypto.js'
import { enqueueMail } from '../../src/mail/outbox.repository.js'
import { buildTestAppWithDatabase } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { signUp } from '../helpers/factories.js'
import { mailEnv, startSmtpServer, tokenFrom } from '../helpers/smtp-server.js'

test('sent mail and spent or expired tokens are deleted after the retention period; live ones stay', async (t) => {
  const smtp = await startSmtpServer(t)
  let offsetMs = 0
  const clock = { now: () => new Date(Date.now() + offsetMs) }
  const { app, databaseUrl } = await buildTestAppWithDatabase(t, { ...mailEnv(smtp), OUTBOX_RETENTION_HOURS: '24', VERIFY_TOKEN_TTL: String(30 * 24 * 3600) }, { clock })
  const db = openDirectDb(t, databaseUrl)
  const verified = await signUp(app)
  const unverified = await signUp(app)
  const welcome = (await smtp.waitForMail(verified.email, 'Welcome! Please verify your email'))[0]!
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/auth/verify-email', payload: { token: tokenFrom(welcome, 'verify-email') } })).statusCode, 200)
  await smtp.waitForMail(verified.email, 'Your email is verified')
  await smtp.waitForMail(unverified.email, 'Welcome! Please verify your email')
  // A mail still waiting (far in the future) is never deleted, however old.
  const waiting = newId()
  await enqueueMail(db, { id: waiting, template: 'email_verified', recipient: 'later@example.com', rendered: { subject: 's', text: 't', html: 'h' }, now: new Date().toISOString() })
  await db.updateTable('mail_outbox').set({ next_attempt_at: new Date(Date.now() + 365 * 24 * 3600_000).toISOString() }).where('id', '=', waiting).execute()

  const sentMail = async () => db.selectFrom('mail_outbox').select('id').where('status', '=', 'sent').execute()
  // The sink has the mail before the sender has marked its row sent: wait for the mark, bounded.
  const marked = Date.now() + 10_000
  while ((await sentMail()).length < 3 && Date.now() < marked) await new Promise((resolve) => setTimeout(resolve, 20))
  assert.equal((await sentMail()).length, 3)
  offsetMs = 25 * 3600_000
  const deadline = Date.now() + 20_000
  while ((await sentMail()).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  assert.equal((await sentMail()).length, 0)
  assert.deepEqual((await db.selectFrom('mail_outbox').select('id').execute()).map((r) => r.id), [waiting])
  const tokens = await db.selectFrom('one_time_tokens').select('user_id').execute()
  assert.deepEqual(tokens.map((r) => r.user_id), [unverified.userId], 'the spent token went, the live one stayed')
})
