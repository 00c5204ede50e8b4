import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp } from '../helpers/build-test-app.js'
import { bearer, PASSWORD, signUp } from '../helpers/factories.js'
import { captureLog, mailEnv, startSmtpServer, tokenFrom } from '../helpers/smtp-server.js'

const AUTH = '/api/v1/auth'

test('sign-up mails a welcome with a working verification link; nothing secret is logged', async (t) => {
  const smtp = await startSmtpServer(t)
  const log = captureLog()
  const app = await buildTestApp(t, { ...mailEnv(smtp), LOG_LEVEL: 'info', PUBLIC_URL: 'https://auth.example.test' }, { logStream: log.stream })
  const user = await signUp(app, { name: 'Alice' })

  const [welcome] = await smtp.waitForCount(1)
  assert.deepEqual(welcome!.to, [user.email])
  assert.equal(welcome!.from, 'no-reply@auth.example.test')
  assert.match(welcome!.headers.from!, /Auth Service/)
  assert.equal(welcome!.headers.to, user.email)
  assert.equal(welcome!.headers.subject, 'Welcome! Please verify your email')
  assert.equal(welcome!.headers['x-mail-template'], 'welcome')
  assert.match(welcome!.headers['message-id']!, /^<[0-9a-f-]{36}@auth\.example\.test>$/)
  // The address is not verified yet: the mail carries no name the signer chose (API.md).
  assert.match(welcome!.text, /^Hello,\r?\n/)
  assert.ok(!welcome!.raw.includes('Alice'))
  assert.match(welcome!.text, /https:\/\/auth\.example\.test\/verify-email\?token=/)
  const token = tokenFrom(welcome!, 'verify-email')
  assert.ok(Buffer.from(token, 'base64url').length >= 16, 'at least 128 random bits')
  assert.ok(welcome!.html.includes(`https://auth.example.test/verify-email?token=${token}`))

  const verified = await app.inject({ method: 'POST', url: `${AUTH}/verify-email`, payload: { token } })
  assert.equal(verified.statusCode, 200)
  assert.equal(verified.json().is_verified, true)
  assert.equal(verified.json().id, user.userId)
  const me = await app.inject({ method: 'GET', url: `${AUTH}/me`, headers: bearer(user.accessToken) })
  assert.equal(me.json().is_verified, true)

  const [, confirmation] = await smtp.waitForCount(2)
  assert.equal(confirmation!.headers.subject, 'Your email is verified')
  assert.deepEqual(confirmation!.to, [user.email])
  assert.match(confirmation!.text, /^Hello Alice,/, 'verified now: the name may be used')

  // Sent mail bodies are purged from the outbox, and no token, link or SMTP secret was logged.
  await app.close()
  const logged = log.text()
  assert.ok(logged.includes('mail delivered'), 'deliveries are logged')
  assert.ok(!logged.includes(token))
  assert.ok(!logged.includes('verify-email?token'))
  assert.ok(!logged.includes('smtp secret'))
})

test('forgot-password mails a reset link that sets a new password, then a "password changed" notice', async (t) => {
  const smtp = await startSmtpServer(t)
  const log = captureLog()
  const app = await buildTestApp(t, { ...mailEnv(smtp), LOG_LEVEL: 'info' }, { logStream: log.stream })
  const user = await signUp(app)
  await smtp.waitForCount(1)

  const forgot = await app.inject({ method: 'POST', url: `${AUTH}/forgot-password`, payload: { email: ` ${user.email.toUpperCase()} ` } })
  assert.equal(forgot.statusCode, 200)
  assert.deepEqual(forgot.json(), { message: 'If an account with that email exists, a password reset link has been sent' })
  const reset = (await smtp.waitForCount(2))[1]!
  assert.deepEqual(reset.to, [user.email])
  assert.equal(reset.headers.subject, 'Reset your password')
  assert.match(reset.text, /http:\/\/127\.0\.0\.1:8000\/reset-password\?token=/)
  assert.match(reset.text, /valid for 1 hour/)
  const token = tokenFrom(reset, 'reset-password')

  const newPassword = 'a brand new passphrase 77'
  const done = await app.inject({ method: 'POST', url: `${AUTH}/reset-password`, payload: { token, new_password: newPassword } })
  assert.equal(done.statusCode, 200)
  assert.deepEqual(done.json(), { message: 'Password reset successfully' })

  const changed = (await smtp.waitForCount(3))[2]!
  assert.equal(changed.headers.subject, 'Your password was changed')
  assert.match(changed.text, /If this wasn't you/)
  assert.deepEqual(changed.to, [user.email])

  const oldPassword = await app.inject({ method: 'POST', url: `${AUTH}/signin`, payload: { email: user.email, password: PASSWORD } })
  assert.equal(oldPassword.statusCode, 401)
  const signin = await app.inject({ method: 'POST', url: `${AUTH}/signin`, payload: { email: user.email, password: newPassword } })
  assert.equal(signin.statusCode, 200)

  await app.close()
  assert.ok(!log.text().includes(token))
  assert.ok(!log.text().includes('reset-password?token'))
})

test('change-password sends the "password changed" mail', async (t) => {
  const smtp = await startSmtpServer(t)
  const app = await buildTestApp(t, mailEnv(smtp))
  const user = await signUp(app)
  await smtp.waitForCount(1)
  const changed = await app.inject({
    method: 'POST',
    url: `${AUTH}/change-password`,
    headers: bearer(user.accessToken),
    payload: { old_password: PASSWORD, new_password: 'another long passphrase 99' }
  })
  assert.equal(changed.statusCode, 200)
  const mail = (await smtp.waitForCount(2))[1]!
  assert.equal(mail.headers.subject, 'Your password was changed')
  assert.deepEqual(mail.to, [user.email])
})

test('user-supplied values arrive in the HTML as text', async (t) => {
  const smtp = await startSmtpServer(t)
  const app = await buildTestApp(t, mailEnv(smtp))
  await signUp(app, { name: '<script>alert("x")</script> & co' })
  const [welcome] = await smtp.waitForCount(1)
  // Mail to a verified address is the one that greets by name.
  const verified = await app.inject({ method: 'POST', url: `${AUTH}/verify-email`, payload: { token: tokenFrom(welcome!, 'verify-email') } })
  assert.equal(verified.statusCode, 200)
  const mail = (await smtp.waitForCount(2))[1]!
  assert.equal(mail.headers.subject, 'Your email is verified')
  assert.ok(!mail.html.includes('<script>'))
  assert.ok(mail.html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co'))
  assert.match(mail.text, /Hello <script>alert\("x"\)<\/script> & co,/)
})
