import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp, buildTestAppWithDatabase } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { bearer, signUp } from '../helpers/factories.js'
import { mailEnv, startSmtpServer, tokenFrom } from '../helpers/smtp-server.js'

const AUTH = '/api/v1/auth'
const WELCOME = 'Welcome! Please verify your email'

function movableClock () {
  let offsetMs = 0
  return { now: () => new Date(Date.now() + offsetMs), advance: (seconds: number) => { offsetMs += seconds * 1000 } }
}

test('a verification token works once, even when used concurrently', async (t) => {
  const smtp = await startSmtpServer(t)
  const app = await buildTestApp(t, mailEnv(smtp))
  const user = await signUp(app)
  const token = tokenFrom((await smtp.waitForMail(user.email, WELCOME))[0]!, 'verify-email')
  const results = await Promise.all([1, 2, 3].map(() => app.inject({ method: 'POST', url: `${AUTH}/verify-email`, payload: { token } })))
  assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 400, 400])
  for (const refused of results.filter((r) => r.statusCode === 400)) {
    assert.deepEqual(refused.json(), { detail: 'Invalid or expired token', code: 'invalid_token' })
  }
  await smtp.waitForMail(user.email, 'Your email is verified')
  const again = await app.inject({ method: 'POST', url: `${AUTH}/verify-email`, payload: { token } })
  assert.equal(again.statusCode, 400)
})

test('a verification token expires after 48 hours by default', async (t) => {
  const smtp = await startSmtpServer(t)
  const clock = movableClock()
  const app = await buildTestApp(t, mailEnv(smtp), { clock })
  const early = await signUp(app)
  const late = await signUp(app)
  const earlyToken = tokenFrom((await smtp.waitForMail(early.email, WELCOME))[0]!, 'verify-email')
  const lateToken = tokenFrom((await smtp.waitForMail(late.email, WELCOME))[0]!, 'verify-email')
  clock.advance(48 * 3600 - 60)
  assert.equal((await app.inject({ method: 'POST', url: `${AUTH}/verify-email`, payload: { token: earlyToken } })).statusCode, 200)
  clock.advance(120)
  assert.equal((await app.inject({ method: 'POST', url: `${AUTH}/verify-email`, payload: { token: lateToken } })).statusCode, 400)
})

test('VERIFY_TOKEN_TTL sets the verification lifetime', async (t) => {
  const smtp = await startSmtpServer(t)
  const clock = movableClock()
  const app = await buildTestApp(t, { ...mailEnv(smtp), VERIFY_TOKEN_TTL: '60' }, { clock })
  const user = await signUp(app)
  const mail = (await smtp.waitForMail(user.email, WELCOME))[0]!
  clock.advance(61)
  assert.equal((await app.inject({ method: 'POST', url: `${AUTH}/verify-email`, payload: { token: tokenFrom(mail, 'verify-email') } })).statusCode, 400)
})

test('a verification link only counts for the address it was sent to', async (t) => {
  const smtp = await startSmtpServer(t)
  const { app, databaseUrl } = await buildTestAppWithDatabase(t, mailEnv(smtp))
  const user = await signUp(app)
  const token = tokenFrom((await smtp.waitForMail(user.email, WELCOME))[0]!, 'verify-email')
  // The address changed after the mail went out (e.g. by an administrator).
  const db = openDirectDb(t, databaseUrl)
  await db.updateTable('users').set({ email: `changed-${user.email}` }).where('id', '=', user.userId).execute()
  assert.equal((await app.inject({ method: 'POST', url: `${AUTH}/verify-email`, payload: { token } })).statusCode, 400)
  const row = await db.selectFrom('users').select('is_verified').where('id', '=', user.userId).executeTakeFirstOrThrow()
  assert.equal(row.is_verified, 0)
})

test('resend-verification mails a new working link; it needs a signed-in user', async (t) => {
  const smtp = await startSmtpServer(t)
  const app = await buildTestApp(t, mailEnv(smtp))
  const user = await signUp(app)
  await smtp.waitForMail(user.email, WELCOME)
  const anonymous = await app.inject({ method: 'POST', url: `${AUTH}/resend-verification` })
  assert.equal(anonymous.statusCode, 401)
  assert.equal(anonymous.json().code, 'not_authenticated')

  const resent = await app.inject({ method: 'POST', url: `${AUTH}/resend-verification`, headers: bearer(user.accessToken) })
  assert.equal(resent.statusCode, 202)
  assert.equal(typeof resent.json().message, 'string')
  const mail = (await smtp.waitForMail(user.email, 'Verify your email'))[0]!
  const verified = await app.inject({ method: 'POST', url: `${AUTH}/verify-email`, payload: { token: tokenFrom(mail, 'verify-email') } })
  assert.equal(verified.statusCode, 200)
  assert.equal(verified.json().is_verified, true)

  // Already verified: same answer, no new mail.
  const again = await app.inject({ method: 'POST', url: `${AUTH}/resend-verification`, headers: bearer(user.accessToken) })
  assert.equal(again.statusCode, 202)
  await smtp.waitForMail(user.email, 'Your email is verified')
  assert.equal(smtp.received.filter((m) => m.headers.subject === 'Verify your email').length, 1)
})
