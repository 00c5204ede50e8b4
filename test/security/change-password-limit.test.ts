/**
 * Failed current-password checks on /change-password are limited per account.
 * @see issue 15, item 5
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestAppWithDatabase } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { bearer, PASSWORD, signUp } from '../helpers/factories.js'

const CHANGE = '/api/v1/auth/change-password'
const NEW_PASSWORD = 'a different passphrase 77'

test('5 wrong current passwords in 15 minutes, then 429 with Retry-After, even for the right one; other accounts unaffected', async (t) => {
  const { app, databaseUrl } = await buildTestAppWithDatabase(t, { RATE_LIMITS: 'on' })
  const db = openDirectDb(t, databaseUrl)
  const victim = await signUp(app)
  const bystander = await signUp(app)
  const change = (token: string, oldPassword: string) =>
    app.inject({ method: 'POST', url: CHANGE, headers: bearer(token), payload: { old_password: oldPassword, new_password: NEW_PASSWORD } })

  for (let i = 0; i < 5; i++) {
    const wrong = await change(victim.accessToken, `wrong guess ${i}`)
    assert.equal(wrong.statusCode, 400)
    assert.equal(wrong.json().code, 'incorrect_password')
  }
  const limited = await change(victim.accessToken, 'wrong guess 5')
  assert.equal(limited.statusCode, 429)
  assert.deepEqual(limited.json(), { detail: 'Too many requests', code: 'rate_limited' })
  const retryAfter = Number(limited.headers['retry-after'])
  assert.ok(retryAfter >= 1 && retryAfter <= 900, `Retry-After ${retryAfter}`)
  // The right password no longer helps a guesser who found it: still refused, nothing changed.
  assert.equal((await change(victim.accessToken, PASSWORD)).statusCode, 429)
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: victim.email, password: PASSWORD } })).statusCode, 200)
  // Refused attempts cost no hash and write no audit row: only the 5 checked ones are recorded.
  const rows = await db.selectFrom('audit_events').select('id').where('user_id', '=', victim.userId).where('type', '=', 'password.changed').execute()
  assert.equal(rows.length, 5)

  assert.equal((await change(bystander.accessToken, PASSWORD)).statusCode, 200)
})

test('a parallel burst of wrong guesses gets no more than 5 checks', async (t) => {
  const { app } = await buildTestAppWithDatabase(t, { RATE_LIMITS: 'on' })
  const user = await signUp(app)
  const responses = await Promise.all(Array.from({ length: 30 }, (_, i) => app.inject({
    method: 'POST', url: CHANGE, headers: bearer(user.accessToken), payload: { old_password: `guess ${i}`, new_password: NEW_PASSWORD }
  })))
  const statuses = responses.map((r) => r.statusCode).sort()
  assert.equal(statuses.filter((s) => s === 400).length, 5, JSON.stringify(statuses))
  assert.equal(statuses.filter((s) => s === 429).length, 25)
})

test('a verified current password starts the count again', async (t) => {
  const { app } = await buildTestAppWithDatabase(t, { RATE_LIMITS: 'on' })
  const user = await signUp(app)
  const change = (oldPassword: string, newPassword = NEW_PASSWORD) =>
    app.inject({ method: 'POST', url: CHANGE, headers: bearer(user.accessToken), payload: { old_password: oldPassword, new_password: newPassword } })
  for (let i = 0; i < 4; i++) assert.equal((await change(`wrong ${i}`)).statusCode, 400)
  // Right current password, refused new one (422): the current password was verified.
  assert.equal((await change(PASSWORD, 'password')).statusCode, 422)
  for (let i = 0; i < 4; i++) assert.equal((await change(`wrong again ${i}`)).statusCode, 400)
  assert.equal((await change(PASSWORD)).statusCode, 200)
})
