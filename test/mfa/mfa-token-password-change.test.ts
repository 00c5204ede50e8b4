import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestAppWithDatabase } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { bearer, signUp } from '../helpers/factories.js'
import { fakeClock } from '../helpers/fake-clock.js'
import { enableTotp, mfaTokenFor, verify } from '../helpers/mfa.js'
import { totpCode } from '../helpers/totp.js'
import { systemClock } from '../../src/lib/clock.js'
import { issueMfaChallenge } from '../../src/mfa/mfa-challenges.js'

const NEW_PASSWORD = 'a wholly different passphrase 42'

test('an mfa_token issued before a password change cannot finish the sign-in; one issued after can', async (t) => {
  const clock = fakeClock()
  const { app } = await buildTestAppWithDatabase(t, {}, { clock })
  const owner = await signUp(app)
  const { secret } = await enableTotp(app, owner.accessToken, owner.password, clock.now())
  // Someone who learnt the password holds a half-finished sign-in.
  const stolen = await mfaTokenFor(app, owner.email, owner.password)
  clock.advance(1)
  const changed = await app.inject({ method: 'POST', url: '/api/v1/auth/change-password', headers: bearer(owner.accessToken), payload: { old_password: owner.password, new_password: NEW_PASSWORD } })
  assert.equal(changed.statusCode, 200, changed.body)
  clock.advance(30)
  const late = await verify(app, stolen, totpCode(secret, clock.now()))
  assert.equal(late.statusCode, 400, late.body)
  assert.equal(late.json().code, 'invalid_token')

  const fresh = await mfaTokenFor(app, owner.email, NEW_PASSWORD)
  const answer = await verify(app, fresh, totpCode(secret, clock.now()))
  assert.equal(answer.statusCode, 200, answer.body)
})

test('an mfa_token issued before a password reset cannot finish the sign-in, not even with a recovery code', async (t) => {
  const clock = fakeClock()
  const { app, databaseUrl } = await buildTestAppWithDatabase(t, { OUTBOX_POLL_MS: '20' }, { clock })
  const db = openDirectDb(t, databaseUrl)
  const owner = await signUp(app)
  const { recoveryCodes } = await enableTotp(app, owner.accessToken, owner.password, clock.now())
  const stolen = await mfaTokenFor(app, owner.email, owner.password)
  clock.advance(1)
  await app.inject({ method: 'POST', url: '/api/v1/auth/forgot-password', payload: { email: owner.email } })
  let text: string | null | undefined
  for (let i = 0; i < 400 && !text; i++) {
    text = (await db.selectFrom('mail_outbox').select('text_body').where('recipient', '=', owner.email).where('template', '=', 'password_reset').executeTakeFirst())?.text_body
    if (!text) await new Promise((resolve) => setTimeout(resolve, 25))
  }
  const token = /reset-password\?token=([A-Za-z0-9_-]+)/.exec(text ?? '')?.[1]
  assert.ok(token, 'a reset link was mailed')
  const reset = await app.inject({ method: 'POST', url: '/api/v1/auth/reset-password', payload: { token, new_password: NEW_PASSWORD } })
  assert.equal(reset.statusCode, 200, reset.body)
  const late = await verify(app, stolen, recoveryCodes[0]!)
  assert.equal(late.statusCode, 400, late.body)
  assert.equal(late.json().code, 'invalid_token')
})

test('an mfa_token issued while a password change was in flight cannot finish the sign-in', async (t) => {
  // The change takes its time before its commit (the new hash is computed first): a token
  // issued in between is younger than the new password_changed_at. The fake clock stands for
  // that order; comparing the two times alone would let the token through.
  const clock = fakeClock()
  const { app } = await buildTestAppWithDatabase(t, {}, { clock })
  const owner = await signUp(app)
  const { recoveryCodes } = await enableTotp(app, owner.accessToken, owner.password, clock.now())
  clock.advance(10)
  const stolen = await mfaTokenFor(app, owner.email, owner.password)
  clock.advance(-5)
  const changed = await app.inject({ method: 'POST', url: '/api/v1/auth/change-password', headers: bearer(owner.accessToken), payload: { old_password: owner.password, new_password: NEW_PASSWORD } })
  assert.equal(changed.statusCode, 200, changed.body)
  clock.advance(10)
  const late = await verify(app, stolen, recoveryCodes[0]!)
  assert.equal(late.statusCode, 400, late.body)
  assert.equal(late.json().code, 'invalid_token')
})

test('a second step is not started when the verified password was changed before it is stored', async (t) => {
  const { app, databaseUrl } = await buildTestAppWithDatabase(t)
  const db = openDirectDb(t, databaseUrl)
  const owner = await signUp(app)
  const row = await db.selectFrom('users').select(['id', 'password_hash']).where('email', '=', owner.email).executeTakeFirstOrThrow()
  // The sign-in verified `row.password_hash`; the owner's change committed before the challenge.
  await db.updateTable('users').set({ password_hash: `${row.password_hash}x` }).where('id', '=', row.id).execute()
  await assert.rejects(issueMfaChallenge(db, systemClock, row), (error: unknown) => (error as { code?: string }).code === 'invalid_credentials')
  assert.equal((await db.selectFrom('mfa_challenges').select('token_hash').where('user_id', '=', row.id).execute()).length, 0)
  // With the hash it verified still the user's, the challenge is stored.
  await db.updateTable('users').set({ password_hash: row.password_hash }).where('id', '=', row.id).execute()
  assert.equal(typeof await issueMfaChallenge(db, systemClock, row), 'string')
})
