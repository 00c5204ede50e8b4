import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createArgon2Hasher, type PasswordHasher } from '../../src/passwords/password-hasher.js'
import { buildTestApp, buildTestAppWithDatabase } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { PASSWORD, uniqueEmail, uniqueUsername } from '../helpers/factories.js'
import { mailEnv, startSmtpServer, tokenFrom } from '../helpers/smtp-server.js'

const AUTH = '/api/v1/auth'
const ACCEPTED = { message: 'Check your email to finish signing up' }

/** The real hasher (cheap parameters), counting how often the slow hash runs. */
function countingHasher (): PasswordHasher & { hashes: number } {
  const inner = createArgon2Hasher({ memoryKib: 1024, timeCost: 1, parallelism: 1 })
  const counting = { ...inner, hashes: 0, hash: async (password: string) => { counting.hashes++; return inner.hash(password) } }
  return counting
}

async function setup (t: Parameters<typeof buildTestApp>[0]) {
  const smtp = await startSmtpServer(t)
  const hasher = countingHasher()
  const { app, databaseUrl } = await buildTestAppWithDatabase(t, { ...mailEnv(smtp), SIGNUP_ENUMERATION_SAFE: 'true' }, { hasher })
  return { smtp, app, hasher, db: openDirectDb(t, databaseUrl) }
}

test('enumeration-safe sign-up: 202 without tokens or cookies; sign-in waits for the verified email', async (t) => {
  const { smtp, app } = await setup(t)
  const email = uniqueEmail()
  const signup = await app.inject({ method: 'POST', url: `${AUTH}/signup`, payload: { email, username: uniqueUsername(), password: PASSWORD } })
  assert.equal(signup.statusCode, 202)
  assert.deepEqual(signup.json(), ACCEPTED)
  assert.equal(signup.headers['set-cookie'], undefined)

  // Unverified: the right password learns why (403); a wrong one learns nothing (401, as for an unknown address).
  const early = await app.inject({ method: 'POST', url: `${AUTH}/signin`, payload: { email, password: PASSWORD } })
  assert.equal(early.statusCode, 403)
  assert.deepEqual(early.json(), { detail: 'Email address not verified', code: 'email_not_verified' })
  const wrong = await app.inject({ method: 'POST', url: `${AUTH}/signin`, payload: { email, password: 'not the password at all' } })
  const unknown = await app.inject({ method: 'POST', url: `${AUTH}/signin`, payload: { email: uniqueEmail(), password: 'not the password at all' } })
  assert.equal(wrong.statusCode, 401)
  assert.equal(wrong.body, unknown.body)
  const oauth = await app.inject({ method: 'POST', url: `${AUTH}/token`, payload: `grant_type=password&username=${encodeURIComponent(email)}&password=${encodeURIComponent(PASSWORD)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  assert.equal(oauth.statusCode, 400)
  assert.equal(oauth.json().error, 'invalid_grant')

  const welcome = (await smtp.waitForMail(email, 'Welcome! Please verify your email'))[0]!
  const verified = await app.inject({ method: 'POST', url: `${AUTH}/verify-email`, payload: { token: tokenFrom(welcome, 'verify-email') } })
  assert.equal(verified.statusCode, 200)
  const signin = await app.inject({ method: 'POST', url: `${AUTH}/signin`, payload: { email, password: PASSWORD } })
  assert.equal(signin.statusCode, 200)
})

test('enumeration-safe sign-up with a taken email: same answer, same hashing, a mail to the owner', async (t) => {
  const { smtp, app, hasher, db } = await setup(t)
  const email = uniqueEmail()
  const first = await app.inject({ method: 'POST', url: `${AUTH}/signup`, payload: { email, username: uniqueUsername(), password: PASSWORD } })
  assert.equal(hasher.hashes, 1)
  const again = await app.inject({ method: 'POST', url: `${AUTH}/signup`, payload: { email: email.toUpperCase(), username: uniqueUsername(), password: 'someone else entirely 12' } })
  assert.equal(hasher.hashes, 2, 'a taken address costs the same password hash')
  assert.equal(again.statusCode, first.statusCode)
  assert.equal(again.body, first.body)
  assert.equal(again.headers['set-cookie'], undefined)

  const notice = (await smtp.waitForMail(email, 'You already have an account'))[0]!
  assert.match(notice.text, /\/forgot-password/)
  const users = await db.selectFrom('users').select('id').where('email', '=', email).execute()
  assert.equal(users.length, 1)
  // The owner's password is untouched.
  const welcome = (await smtp.waitForMail(email, 'Welcome! Please verify your email'))[0]!
  await app.inject({ method: 'POST', url: `${AUTH}/verify-email`, payload: { token: tokenFrom(welcome, 'verify-email') } })
  assert.equal((await app.inject({ method: 'POST', url: `${AUTH}/signin`, payload: { email, password: PASSWORD } })).statusCode, 200)
})

test('enumeration-safe sign-up with a taken username: 202, and the address is told by mail', async (t) => {
  const { smtp, app, db } = await setup(t)
  const username = uniqueUsername()
  await app.inject({ method: 'POST', url: `${AUTH}/signup`, payload: { email: uniqueEmail(), username, password: PASSWORD } })
  const email = uniqueEmail()
  const taken = await app.inject({ method: 'POST', url: `${AUTH}/signup`, payload: { email, username: username.toUpperCase(), password: PASSWORD } })
  assert.equal(taken.statusCode, 202)
  assert.deepEqual(taken.json(), ACCEPTED)
  const mail = (await smtp.waitForMail(email, 'Finish signing up'))[0]!
  assert.ok(mail.text.includes(username.toUpperCase()))
  assert.equal((await db.selectFrom('users').select('id').where('email', '=', email).execute()).length, 0)
})

test('enumeration-safe sign-up still refuses bad input with 422', async (t) => {
  const { app } = await setup(t)
  const weak = await app.inject({ method: 'POST', url: `${AUTH}/signup`, payload: { email: uniqueEmail(), username: uniqueUsername(), password: 'password' } })
  assert.equal(weak.statusCode, 422)
  assert.equal(weak.json().code, 'weak_password')
  const invalid = await app.inject({ method: 'POST', url: `${AUTH}/signup`, payload: { email: 'nope', username: uniqueUsername(), password: PASSWORD } })
  assert.equal(invalid.statusCode, 422)
})

test('a password reset proves the address: an unverified account can sign in after it', async (t) => {
  const { smtp, app } = await setup(t)
  const email = uniqueEmail()
  await app.inject({ method: 'POST', url: `${AUTH}/signup`, payload: { email, username: uniqueUsername(), password: PASSWORD } })
  await app.inject({ method: 'POST', url: `${AUTH}/forgot-password`, payload: { email } })
  const mail = (await smtp.waitForMail(email, 'Reset your password'))[0]!
  const newPassword = 'recovered before verifying 8'
  const reset = await app.inject({ method: 'POST', url: `${AUTH}/reset-password`, payload: { token: tokenFrom(mail, 'reset-password'), new_password: newPassword } })
  assert.equal(reset.statusCode, 200)
  const signin = await app.inject({ method: 'POST', url: `${AUTH}/signin`, payload: { email, password: newPassword } })
  assert.equal(signin.statusCode, 200)
  assert.equal(signin.json().user.is_verified, true)
})
