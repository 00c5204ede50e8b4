import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, buildTestAppWithDatabase } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { bearer, PASSWORD, signUp } from '../helpers/factories.js'
import { mailEnv, startSmtpServer, tokenFrom, type TestSmtpServer } from '../helpers/smtp-server.js'
import { sha256 } from '../../src/lib/crypto.js'

const AUTH = '/api/v1/auth'
const RESET_SUBJECT = 'Reset your password'
const NEW_PASSWORD = 'a brand new passphrase 77'

/** A clock the test moves forward; everything else in the app runs for real. */
function movableClock () {
  let offsetMs = 0
  return { now: () => new Date(Date.now() + offsetMs), advance: (seconds: number) => { offsetMs += seconds * 1000 } }
}

async function requestReset (app: FastifyInstance, smtp: TestSmtpServer, email: string, nth = 1): Promise<string> {
  const response = await app.inject({ method: 'POST', url: `${AUTH}/forgot-password`, payload: { email } })
  assert.equal(response.statusCode, 200)
  const mails = await smtp.waitForMail(email, RESET_SUBJECT, nth)
  return tokenFrom(mails[nth - 1]!, 'reset-password')
}

function resetPassword (app: FastifyInstance, token: string, newPassword = NEW_PASSWORD) {
  return app.inject({ method: 'POST', url: `${AUTH}/reset-password`, payload: { token, new_password: newPassword } })
}

function assertInvalidToken (response: { statusCode: number, json: () => unknown }): void {
  assert.equal(response.statusCode, 400)
  assert.deepEqual(response.json(), { detail: 'Invalid or expired token', code: 'invalid_token' })
}

test('a reset token works once', async (t) => {
  const smtp = await startSmtpServer(t)
  const app = await buildTestApp(t, mailEnv(smtp))
  const user = await signUp(app)
  const token = await requestReset(app, smtp, user.email)
  assert.equal((await resetPassword(app, token)).statusCode, 200)
  assertInvalidToken(await resetPassword(app, token, 'yet another passphrase 55'))
  const signin = await app.inject({ method: 'POST', url: `${AUTH}/signin`, payload: { email: user.email, password: NEW_PASSWORD } })
  assert.equal(signin.statusCode, 200, 'the second use changed nothing')
})

test('two concurrent uses of one reset token: exactly one succeeds', async (t) => {
  const smtp = await startSmtpServer(t)
  const app = await buildTestApp(t, mailEnv(smtp))
  const user = await signUp(app)
  const token = await requestReset(app, smtp, user.email)
  const passwords = ['first concurrent passphrase 1', 'second concurrent passphrase 2', 'third concurrent passphrase 3']
  const results = await Promise.all(passwords.map((p) => resetPassword(app, token, p)))
  const statuses = results.map((r) => r.statusCode).sort()
  assert.deepEqual(statuses, [200, 400, 400])
  const winner = passwords[results.findIndex((r) => r.statusCode === 200)]!
  for (const password of passwords) {
    const signin = await app.inject({ method: 'POST', url: `${AUTH}/signin`, payload: { email: user.email, password } })
    assert.equal(signin.statusCode, password === winner ? 200 : 401)
  }
})

test('a reset token expires after RESET_TOKEN_TTL', async (t) => {
  const smtp = await startSmtpServer(t)
  const clock = movableClock()
  const app = await buildTestApp(t, { ...mailEnv(smtp), RESET_TOKEN_TTL: '600' }, { clock })
  const user = await signUp(app)
  const token = await requestReset(app, smtp, user.email)
  clock.advance(601)
  assertInvalidToken(await resetPassword(app, token))

  const fresh = await requestReset(app, smtp, user.email, 2)
  clock.advance(599)
  assert.equal((await resetPassword(app, fresh)).statusCode, 200)
})

test('the default reset TTL is one hour', async (t) => {
  const smtp = await startSmtpServer(t)
  const clock = movableClock()
  const app = await buildTestApp(t, mailEnv(smtp), { clock })
  const user = await signUp(app)
  const token = await requestReset(app, smtp, user.email)
  clock.advance(3601)
  assertInvalidToken(await resetPassword(app, token))
})

test('a newer reset request voids the older link', async (t) => {
  const smtp = await startSmtpServer(t)
  const app = await buildTestApp(t, mailEnv(smtp))
  const user = await signUp(app)
  const older = await requestReset(app, smtp, user.email, 1)
  const newer = await requestReset(app, smtp, user.email, 2)
  assert.notEqual(older, newer)
  assertInvalidToken(await resetPassword(app, older))
  assert.equal((await resetPassword(app, newer)).statusCode, 200)
})

test('a password change voids earlier reset links', async (t) => {
  const smtp = await startSmtpServer(t)
  const app = await buildTestApp(t, mailEnv(smtp))
  const user = await signUp(app)
  const token = await requestReset(app, smtp, user.email)
  const changed = await app.inject({
    method: 'POST',
    url: `${AUTH}/change-password`,
    headers: bearer(user.accessToken),
    payload: { old_password: PASSWORD, new_password: 'changed by the owner 42' }
  })
  assert.equal(changed.statusCode, 200)
  assertInvalidToken(await resetPassword(app, token))
})

test('a refused new password does not spend the token', async (t) => {
  const smtp = await startSmtpServer(t)
  const app = await buildTestApp(t, mailEnv(smtp))
  const user = await signUp(app)
  const token = await requestReset(app, smtp, user.email)
  const weak = await resetPassword(app, token, 'password')
  assert.equal(weak.statusCode, 422)
  assert.equal(weak.json().code, 'weak_password')
  assert.equal(weak.json().errors[0].field, 'new_password')
  const short = await resetPassword(app, token, 'short')
  assert.equal(short.statusCode, 422)
  const signin = await app.inject({ method: 'POST', url: `${AUTH}/signin`, payload: { email: user.email, password: PASSWORD } })
  assert.equal(signin.statusCode, 200, 'the password is unchanged')
  assert.equal((await resetPassword(app, token)).statusCode, 200)
})

test('a successful reset revokes every session of the user', async (t) => {
  const smtp = await startSmtpServer(t)
  const app = await buildTestApp(t, mailEnv(smtp))
  const user = await signUp(app)
  const second = await app.inject({ method: 'POST', url: `${AUTH}/signin`, payload: { email: user.email, password: PASSWORD } })
  assert.equal(second.statusCode, 200)
  for (const access of [user.accessToken, second.json().access_token as string]) {
    assert.equal((await app.inject({ method: 'GET', url: `${AUTH}/me`, headers: bearer(access) })).statusCode, 200)
  }
  const token = await requestReset(app, smtp, user.email)
  assert.equal((await resetPassword(app, token)).statusCode, 200)
  for (const access of [user.accessToken, second.json().access_token as string]) {
    const me = await app.inject({ method: 'GET', url: `${AUTH}/me`, headers: bearer(access) })
    assert.equal(me.statusCode, 401)
    assert.equal(me.json().code, 'invalid_token')
  }
  for (const refresh of [user.refreshToken, second.json().refresh_token as string]) {
    const refreshed = await app.inject({ method: 'POST', url: `${AUTH}/refresh`, payload: { refresh_token: refresh } })
    assert.equal(refreshed.statusCode, 401)
  }
})

test('tokens are stored only as SHA-256 hashes, and sent mail bodies leave the outbox', async (t) => {
  const smtp = await startSmtpServer(t)
  const { app, databaseUrl } = await buildTestAppWithDatabase(t, mailEnv(smtp))
  const user = await signUp(app)
  const token = await requestReset(app, smtp, user.email)
  const verifyToken = tokenFrom((await smtp.waitForMail(user.email, 'Welcome! Please verify your email'))[0]!, 'verify-email')
  const db = openDirectDb(t, databaseUrl)
  const tokens = await db.selectFrom('one_time_tokens').selectAll().where('user_id', '=', user.userId).execute()
  assert.deepEqual(tokens.map((r) => r.purpose).sort(), ['email_verification', 'password_reset'])
  const stored = JSON.stringify(tokens)
  assert.ok(!stored.includes(token) && !stored.includes(verifyToken))
  assert.ok(tokens.some((r) => r.token_hash === sha256(token)))
  // The outbox row is updated right after the SMTP server accepted the mail: wait for it.
  let outbox = await db.selectFrom('mail_outbox').selectAll().execute()
  for (let i = 0; i < 200 && outbox.some((r) => r.status === 'pending'); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    outbox = await db.selectFrom('mail_outbox').selectAll().execute()
  }
  assert.deepEqual(outbox.map((r) => r.status), ['sent', 'sent'])
  assert.ok(outbox.every((r) => r.text_body === null && r.html_body === null))
})

test('malformed, unknown and wrong-purpose tokens are refused without changes', async (t) => {
  const smtp = await startSmtpServer(t)
  const app = await buildTestApp(t, mailEnv(smtp))
  const user = await signUp(app)
  const verifyToken = tokenFrom((await smtp.waitForMail(user.email, 'Welcome! Please verify your email'))[0]!, 'verify-email')
  assertInvalidToken(await resetPassword(app, verifyToken))
  assertInvalidToken(await resetPassword(app, 'not a token'))
  assertInvalidToken(await resetPassword(app, 'A'.repeat(43)))
  const tooLong = await resetPassword(app, 'A'.repeat(300))
  assert.equal(tooLong.statusCode, 422)
  assert.equal(tooLong.json().code, 'validation_error')
  const missing = await app.inject({ method: 'POST', url: `${AUTH}/reset-password`, payload: { token: verifyToken } })
  assert.equal(missing.statusCode, 422)
  const signin = await app.inject({ method: 'POST', url: `${AUTH}/signin`, payload: { email: user.email, password: PASSWORD } })
  assert.equal(signin.statusCode, 200)
})
