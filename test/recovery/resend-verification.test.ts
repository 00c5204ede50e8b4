import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestAppWithDatabase } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { bearer, signUp } from '../helpers/factories.js'

const AUTH = '/api/v1/auth'

/** @see issue 15, item 9: one account sent 101 mails, each with a new live token. */
test('/resend-verification: 3 an hour per account, then 429 with Retry-After; only the newest link works', async (t) => {
  const { app, databaseUrl } = await buildTestAppWithDatabase(t, { RATE_LIMITS: 'on' })
  const db = openDirectDb(t, databaseUrl)
  const user = await signUp(app)
  const resend = (token: string) => app.inject({ method: 'POST', url: `${AUTH}/resend-verification`, headers: bearer(token) })
  for (let i = 0; i < 3; i++) assert.equal((await resend(user.accessToken)).statusCode, 202)
  const refused = await resend(user.accessToken)
  assert.equal(refused.statusCode, 429)
  assert.equal(refused.json().code, 'rate_limited')
  const retryAfter = Number(refused.headers['retry-after'])
  assert.ok(retryAfter > 3000 && retryAfter <= 3600, `Retry-After ${retryAfter}`)
  // The refusal sent nothing: a welcome mail and three resends.
  const mails = await db.selectFrom('mail_outbox').select(['template', 'text_body']).where('recipient', '=', user.email).orderBy('created_at').execute()
  assert.deepEqual(mails.map((m) => m.template), ['welcome', 'verify_email', 'verify_email', 'verify_email'])

  // Per account: another account of the same client is not affected.
  const other = await signUp(app)
  assert.equal((await resend(other.accessToken)).statusCode, 202)

  // Each resend voided the links before it: only the newest verifies the address.
  const tokens = mails.map((m) => /verify-email\?token=([A-Za-z0-9_-]+)/.exec(m.text_body ?? '')![1]!)
  for (const old of tokens.slice(0, -1)) {
    const answer = await app.inject({ method: 'POST', url: `${AUTH}/verify-email`, payload: { token: old } })
    assert.equal(answer.statusCode, 400, 'an older link is void')
  }
  const newest = await app.inject({ method: 'POST', url: `${AUTH}/verify-email`, payload: { token: tokens.at(-1) } })
  assert.equal(newest.statusCode, 200)
  assert.equal(newest.json().is_verified, true)
})
