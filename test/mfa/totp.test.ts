import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestAppWithDatabase } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { bearer, cookiesOf, PASSWORD, signUp } from '../helpers/factories.js'
import { fakeClock } from '../helpers/fake-clock.js'
import { auditTypes, claimsOf, enableTotp, mailsTo, mfaTokenFor, verify } from '../helpers/mfa.js'
import { totpCode, wrongTotpCode } from '../helpers/totp.js'

/** A clock 5 s into a 30-second step, so a test's codes never straddle a step boundary by accident. */
function stepClock () {
  return fakeClock(new Date(Math.floor(Date.now() / 30_000) * 30_000 + 5_000))
}

async function setup (t: Parameters<typeof buildTestAppWithDatabase>[0], env: Record<string, string> = {}) {
  const clock = stepClock()
  const { app, databaseUrl } = await buildTestAppWithDatabase(t, env, { clock })
  const db = openDirectDb(t, databaseUrl)
  const user = await signUp(app)
  return { app, db, clock, user }
}

test('set-up needs the password, returns a base32 secret and an otpauth URI, and stays pending until confirmed', async (t) => {
  const { app, db, clock, user } = await setup(t)
  const unauthenticated = await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/setup', payload: { password: PASSWORD } })
  assert.equal(unauthenticated.statusCode, 401)
  const wrong = await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/setup', headers: bearer(user.accessToken), payload: { password: 'not the password at all' } })
  assert.equal(wrong.statusCode, 400)
  assert.deepEqual(wrong.json(), { detail: 'Incorrect current password', code: 'incorrect_password' })
  const missing = await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/setup', headers: bearer(user.accessToken), payload: {} })
  assert.equal(missing.statusCode, 422)

  const response = await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/setup', headers: bearer(user.accessToken), payload: { password: PASSWORD } })
  assert.equal(response.statusCode, 200)
  assert.equal(response.headers['cache-control'], 'no-store')
  const body = response.json() as { secret: string, otpauth_uri: string }
  assert.match(body.secret, /^[A-Z2-7]{32}$/)
  const uri = new URL(body.otpauth_uri)
  assert.equal(uri.protocol, 'otpauth:')
  assert.equal(uri.host, 'totp')
  assert.equal(decodeURIComponent(uri.pathname), `/localhost:8000:${user.email}`)
  assert.equal(uri.searchParams.get('secret'), body.secret)
  assert.equal(uri.searchParams.get('issuer'), 'localhost:8000')

  // Pending: sign-in still needs the password only, and the user object says MFA is off.
  const me = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(user.accessToken) })
  assert.equal(me.json().mfa_enabled, false)
  const signin = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: user.email, password: PASSWORD } })
  assert.equal(signin.statusCode, 200)

  // A new set-up replaces the pending one: the first secret's code no longer confirms.
  const second = (await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/setup', headers: bearer(user.accessToken), payload: { password: PASSWORD } })).json() as { secret: string }
  assert.notEqual(second.secret, body.secret)
  const stale = await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/confirm', headers: bearer(user.accessToken), payload: { code: totpCode(body.secret, clock.now()) } })
  assert.equal(stale.statusCode, 400)
  assert.deepEqual(stale.json(), { detail: 'Invalid verification code', code: 'invalid_code' })
  const rows = await db.selectFrom('mfa_totp').selectAll().execute()
  assert.equal(rows.length, 1)
  assert.equal(rows[0]!.confirmed_at, null)
})

test('confirm: a wrong code or nothing pending is 400 invalid_code; the right one turns MFA on, returns 10 codes and sends a mail', async (t) => {
  const { app, db, clock, user } = await setup(t)
  const nothingPending = await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/confirm', headers: bearer(user.accessToken), payload: { code: '123456' } })
  assert.equal(nothingPending.statusCode, 400)
  assert.equal(nothingPending.json().code, 'invalid_code')

  const { secret } = (await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/setup', headers: bearer(user.accessToken), payload: { password: PASSWORD } })).json() as { secret: string }
  const wrong = await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/confirm', headers: bearer(user.accessToken), payload: { code: wrongTotpCode(secret, clock.now()) } })
  assert.equal(wrong.statusCode, 400)
  assert.equal(wrong.json().code, 'invalid_code')

  const ok = await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/confirm', headers: bearer(user.accessToken), payload: { code: totpCode(secret, clock.now()) } })
  assert.equal(ok.statusCode, 200)
  const codes = ok.json().recovery_codes as string[]
  assert.equal(codes.length, 10)
  assert.equal(new Set(codes).size, 10)
  for (const code of codes) assert.match(code, /^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/)

  const me = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(user.accessToken) })
  assert.equal(me.json().mfa_enabled, true)
  const mails = await mailsTo(db, user.email, 'mfa_enabled')
  assert.equal(mails.length, 1)
  assert.equal(mails[0]!.subject, 'Two-step verification turned on')

  // Only salted hashes are stored; the secret is never returned again.
  const stored = await db.selectFrom('mfa_recovery_codes').selectAll().execute()
  assert.equal(stored.length, 10)
  for (const row of stored) for (const code of codes) assert.ok(!row.code_hash.includes(code) && !code.includes(row.code_hash))
  const again = await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/setup', headers: bearer(user.accessToken), payload: { password: PASSWORD } })
  assert.equal(again.statusCode, 409)
  assert.deepEqual(again.json(), { detail: 'Two-step verification is already enabled', code: 'mfa_already_enabled' })
  assert.ok((await auditTypes(db, user.userId)).includes('mfa.enabled'))
})

test('with MFA on, the right password gives 403 mfa_required and no tokens or cookies at /signin, /login and /token; a wrong one the plain 401', async (t) => {
  const { app, clock, user } = await setup(t)
  const { secret } = await enableTotp(app, user.accessToken, PASSWORD, clock.now())

  const signin = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: user.email, password: PASSWORD } })
  assert.equal(signin.statusCode, 403)
  const body = signin.json() as Record<string, string>
  assert.deepEqual(Object.keys(body).sort(), ['code', 'detail', 'mfa_token'])
  assert.equal(body.code, 'mfa_required')
  assert.equal(body.detail, 'Two-step verification required')
  assert.match(body.mfa_token!, /^[A-Za-z0-9_-]{43}$/)
  assert.equal(signin.headers['set-cookie'], undefined)

  const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: `username=${encodeURIComponent(user.email)}&password=${encodeURIComponent(PASSWORD)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  assert.equal(login.statusCode, 403)
  assert.equal(login.json().code, 'mfa_required')
  assert.ok(login.json().mfa_token)
  assert.equal(login.headers['set-cookie'], undefined)

  const token = await app.inject({ method: 'POST', url: '/api/v1/auth/token', payload: `grant_type=password&username=${encodeURIComponent(user.email)}&password=${encodeURIComponent(PASSWORD)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  assert.equal(token.statusCode, 403)
  const oauth = token.json() as Record<string, string>
  assert.deepEqual(Object.keys(oauth).sort(), ['error', 'error_description', 'mfa_token'])
  assert.equal(oauth.error, 'mfa_required')
  assert.equal(token.headers['cache-control'], 'no-store')

  const wrong = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: user.email, password: 'a wrong password entirely' } })
  assert.equal(wrong.statusCode, 401)
  assert.deepEqual(wrong.json(), { detail: 'Invalid email or password', code: 'invalid_credentials' })
  const wrongToken = await app.inject({ method: 'POST', url: '/api/v1/auth/token', payload: `grant_type=password&username=${encodeURIComponent(user.email)}&password=wrong-password-here`, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  assert.equal(wrongToken.statusCode, 400)
  assert.equal(wrongToken.json().error, 'invalid_grant')
  assert.equal(wrongToken.json().mfa_token, undefined)

  // Each answer's mfa_token is its own, and any of them completes the sign-in.
  assert.notEqual(body.mfa_token, oauth.mfa_token)
  clock.advance(30)
  const done = await verify(app, oauth.mfa_token!, totpCode(secret, clock.now()))
  assert.equal(done.statusCode, 200)
})

test('/mfa/verify with the TOTP code gives what /signin gives without MFA, cookies included, and amr pwd+otp+mfa', async (t) => {
  const { app, clock, user } = await setup(t)
  const { secret } = await enableTotp(app, user.accessToken, PASSWORD, clock.now())
  clock.advance(30)
  const mfaToken = await mfaTokenFor(app, user.email, PASSWORD)
  const response = await verify(app, mfaToken, totpCode(secret, clock.now()))
  assert.equal(response.statusCode, 200)
  const body = response.json()
  assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type', 'user'])
  assert.equal(body.token_type, 'bearer')
  assert.equal(body.user.mfa_enabled, true)
  assert.equal(response.headers['cache-control'], 'no-store')
  const cookies = cookiesOf(response)
  assert.equal(cookies.access_token?.value, body.access_token)
  assert.equal(cookies.refresh_token?.value, body.refresh_token)
  assert.deepEqual(claimsOf(body.access_token).amr, ['pwd', 'otp', 'mfa'])

  // The session records it; a refreshed token still says how the session was opened.
  const sessions = (await app.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: bearer(body.access_token) })).json() as Array<{ amr: string[], current: boolean }>
  assert.deepEqual(sessions.find((s) => s.current)!.amr, ['pwd', 'otp', 'mfa'])
  // The sign-up session turned two-step verification on, showing a code: it counts as two-step too.
  assert.deepEqual(sessions.find((s) => !s.current)!.amr, ['pwd', 'otp', 'mfa'])
  const refreshed = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: body.refresh_token } })
  assert.equal(refreshed.statusCode, 200)
  assert.deepEqual(claimsOf(refreshed.json().access_token).amr, ['pwd', 'otp', 'mfa'])

  // The token was single use.
  clock.advance(30)
  const again = await verify(app, mfaToken, totpCode(secret, clock.now()))
  assert.equal(again.statusCode, 400)
  assert.deepEqual(again.json(), { detail: 'Invalid or expired token', code: 'invalid_token' })
})

test('a TOTP code is accepted once (no replay), with one step of drift either way and not two', async (t) => {
  const { app, db, clock, user } = await setup(t)
  const { secret } = await enableTotp(app, user.accessToken, PASSWORD, clock.now())
  // The code that confirmed the set-up cannot sign in.
  const first = await mfaTokenFor(app, user.email, PASSWORD)
  const replayedConfirm = await verify(app, first, totpCode(secret, clock.now()))
  assert.equal(replayedConfirm.statusCode, 401)
  assert.deepEqual(replayedConfirm.json(), { detail: 'Invalid verification code', code: 'invalid_code' })

  clock.advance(60)
  const code = totpCode(secret, clock.now())
  assert.equal((await verify(app, first, code)).statusCode, 200)
  const second = await mfaTokenFor(app, user.email, PASSWORD)
  const replay = await verify(app, second, code)
  assert.equal(replay.statusCode, 401)
  assert.equal(replay.json().code, 'invalid_code')
  // Nor an older step's code.
  assert.equal((await verify(app, second, totpCode(secret, clock.now(), -1))).statusCode, 401)
  // A replay is logged as one (ASVS 2.8.5), apart from plain wrong codes.
  const failures = await db.selectFrom('audit_events').select(['details']).where('user_id', '=', user.userId).where('type', '=', 'mfa.code_failed').execute()
  assert.ok(failures.some((f) => JSON.parse(String(f.details)).reason === 'replayed'))

  clock.advance(90)
  assert.equal((await verify(app, second, totpCode(secret, clock.now(), 2))).statusCode, 401, 'two steps ahead')
  assert.equal((await verify(app, second, totpCode(secret, clock.now(), -2))).statusCode, 401, 'two steps behind')
  assert.equal((await verify(app, second, totpCode(secret, clock.now(), -1))).statusCode, 200, 'one step behind')
  clock.advance(90)
  const third = await mfaTokenFor(app, user.email, PASSWORD)
  assert.equal((await verify(app, third, totpCode(secret, clock.now(), 1))).statusCode, 200, 'one step ahead')
  assert.ok((await auditTypes(db, user.userId)).includes('mfa.code_failed'))
})

test('the mfa_token dies after 5 wrong codes, expires after 5 minutes, and an unknown one is 400 invalid_token', async (t) => {
  const { app, clock, user } = await setup(t)
  const { secret } = await enableTotp(app, user.accessToken, PASSWORD, clock.now())
  clock.advance(30)
  const mfaToken = await mfaTokenFor(app, user.email, PASSWORD)
  for (let i = 0; i < 5; i++) {
    const response = await verify(app, mfaToken, wrongTotpCode(secret, clock.now()))
    assert.equal(response.statusCode, 401)
    assert.equal(response.json().code, 'invalid_code')
  }
  const dead = await verify(app, mfaToken, totpCode(secret, clock.now()))
  assert.equal(dead.statusCode, 400)
  assert.deepEqual(dead.json(), { detail: 'Invalid or expired token', code: 'invalid_token' })

  const unknown = await verify(app, 'x'.repeat(43), totpCode(secret, clock.now()))
  assert.equal(unknown.statusCode, 400)
  assert.equal(unknown.json().code, 'invalid_token')

  const late = await mfaTokenFor(app, user.email, PASSWORD)
  clock.advance(301)
  const expired = await verify(app, late, totpCode(secret, clock.now()))
  assert.equal(expired.statusCode, 400)
  assert.equal(expired.json().code, 'invalid_token')

  const fresh = await mfaTokenFor(app, user.email, PASSWORD)
  clock.advance(299)
  assert.equal((await verify(app, fresh, totpCode(secret, clock.now()))).statusCode, 200)

  const invalid = await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/verify', payload: { mfa_token: fresh } })
  assert.equal(invalid.statusCode, 422)
  const form = await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/verify', payload: `mfa_token=${fresh}&code=123456`, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  assert.ok([400, 415, 422].includes(form.statusCode), `a form body is refused (${form.statusCode} ${form.body})`)
  assert.equal(form.headers['set-cookie'], undefined)
})

test('wrong codes count per account across mfa_tokens: 5 in 15 minutes, then 429 even for the right code', async (t) => {
  const { app, clock, user } = await setup(t, { RATE_LIMITS: 'on', RATE_LIMIT_SIGNIN_PER_IP: '1000/60' })
  const { secret } = await enableTotp(app, user.accessToken, PASSWORD, clock.now())
  clock.advance(30)
  for (let i = 0; i < 5; i++) {
    // A new token for each wrong code: the per-token limit is not what stops this.
    const token = await mfaTokenFor(app, user.email, PASSWORD)
    assert.equal((await verify(app, token, wrongTotpCode(secret, clock.now()))).statusCode, 401)
  }
  const token = await mfaTokenFor(app, user.email, PASSWORD)
  const limited = await verify(app, token, totpCode(secret, clock.now()))
  assert.equal(limited.statusCode, 429)
  assert.equal(limited.json().code, 'rate_limited')
  assert.ok(Number(limited.headers['retry-after']) > 0)
  clock.advance(15 * 60)
  const after = await mfaTokenFor(app, user.email, PASSWORD)
  assert.equal((await verify(app, after, totpCode(secret, clock.now()))).statusCode, 200)
})

test('re-entered passwords have their own limit, which only failures fill: the owner\'s right passwords never lock their sign-in', async (t) => {
  const { app, clock, user } = await setup(t, { RATE_LIMITS: 'on', RATE_LIMIT_SIGNIN_PER_IP: '1000/60' })
  const { secret } = await enableTotp(app, user.accessToken, PASSWORD, clock.now())
  const regenerate = (password: string) => app.inject({ method: 'POST', url: '/api/v1/auth/mfa/recovery-codes', headers: bearer(user.accessToken), payload: { password } })
  for (let i = 0; i < 8; i++) assert.equal((await regenerate(PASSWORD)).statusCode, 200, `right password ${i + 1}`)
  // Wrong passwords at the MFA endpoints count as re-entered passwords, shared with /change-password…
  for (let i = 0; i < 5; i++) assert.equal((await regenerate('not the password at all')).statusCode, 400)
  const limited = await regenerate(PASSWORD)
  assert.equal(limited.statusCode, 429)
  assert.ok(Number(limited.headers['retry-after']) > 0)
  const change = await app.inject({ method: 'POST', url: '/api/v1/auth/change-password', headers: bearer(user.accessToken), payload: { old_password: PASSWORD, new_password: 'a wholly different passphrase 42' } })
  assert.equal(change.statusCode, 429, 'one limit for every re-entered password')
  // …and not as wrong codes: the second step of a sign-in still works.
  clock.advance(30)
  const token = await mfaTokenFor(app, user.email, PASSWORD)
  assert.equal((await verify(app, token, totpCode(secret, clock.now()))).statusCode, 200)
})

test('turning two-step verification off: wrong codes count per account, even with the right password', async (t) => {
  const { app, clock, user } = await setup(t, { RATE_LIMITS: 'on', RATE_LIMIT_SIGNIN_PER_IP: '1000/60' })
  const { secret } = await enableTotp(app, user.accessToken, PASSWORD, clock.now())
  clock.advance(30)
  const disable = (code: string) => app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/disable', headers: bearer(user.accessToken), payload: { password: PASSWORD, code } })
  for (let i = 0; i < 5; i++) assert.equal((await disable(wrongTotpCode(secret, clock.now()))).statusCode, 400)
  const limited = await disable(totpCode(secret, clock.now()))
  assert.equal(limited.statusCode, 429, 'the sixth code within 15 minutes, right or not')
})

test('/mfa/verify follows the CSRF rules of /signin', async (t) => {
  const { app, clock, user } = await setup(t)
  const { secret } = await enableTotp(app, user.accessToken, PASSWORD, clock.now())
  clock.advance(30)
  const mfaToken = await mfaTokenFor(app, user.email, PASSWORD)
  const foreign = await verify(app, mfaToken, totpCode(secret, clock.now()), { origin: 'https://evil.example' })
  assert.equal(foreign.statusCode, 403)
  assert.equal(foreign.json().code, 'csrf_failed')
  assert.equal(foreign.headers['set-cookie'], undefined)
  const crossSite = await verify(app, mfaToken, totpCode(secret, clock.now()), { 'sec-fetch-site': 'cross-site' })
  assert.equal(crossSite.statusCode, 403)
  // Refused before any work: the token is still good.
  const own = await verify(app, mfaToken, totpCode(secret, clock.now()), { origin: 'http://localhost:8000' })
  assert.equal(own.statusCode, 200)
})

test('recovery codes: each works once, at sign-in or to disable; regenerating voids the old set', async (t) => {
  const { app, db, clock, user } = await setup(t)
  const { recoveryCodes } = await enableTotp(app, user.accessToken, PASSWORD, clock.now())
  const first = await mfaTokenFor(app, user.email, PASSWORD)
  // Typed in upper case with spaces: still the code.
  const used = await verify(app, first, ` ${recoveryCodes[0]!.toUpperCase()} `)
  assert.equal(used.statusCode, 200)
  assert.deepEqual(claimsOf(used.json().access_token).amr, ['pwd', 'otp', 'mfa'])
  const second = await mfaTokenFor(app, user.email, PASSWORD)
  const twice = await verify(app, second, recoveryCodes[0]!)
  assert.equal(twice.statusCode, 401)
  assert.equal(twice.json().code, 'invalid_code')
  assert.ok((await auditTypes(db, user.userId)).includes('mfa.recovery_code_used'))

  const wrongPassword = await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/recovery-codes', headers: bearer(user.accessToken), payload: { password: 'definitely not it' } })
  assert.equal(wrongPassword.statusCode, 400)
  assert.equal(wrongPassword.json().code, 'incorrect_password')
  const regenerated = await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/recovery-codes', headers: bearer(user.accessToken), payload: { password: PASSWORD } })
  assert.equal(regenerated.statusCode, 200)
  const fresh = regenerated.json().recovery_codes as string[]
  assert.equal(fresh.length, 10)
  assert.equal(fresh.filter((c) => recoveryCodes.includes(c)).length, 0)
  assert.equal((await verify(app, second, recoveryCodes[1]!)).statusCode, 401, 'the old set is void')
  assert.equal((await verify(app, second, fresh[1]!)).statusCode, 200)
  assert.ok((await auditTypes(db, user.userId)).includes('mfa.recovery_codes_regenerated'))

  const other = await signUp(app)
  const notEnabled = await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/recovery-codes', headers: bearer(other.accessToken), payload: { password: PASSWORD } })
  assert.equal(notEnabled.statusCode, 409)
  assert.deepEqual(notEnabled.json(), { detail: 'Two-step verification is not enabled', code: 'mfa_not_enabled' })
})

test('disable needs the password and a code (TOTP or recovery), sends a mail, and sign-in is password-only again', async (t) => {
  const { app, db, clock, user } = await setup(t)
  const other = await signUp(app)
  const notEnabled = await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/disable', headers: bearer(other.accessToken), payload: { password: PASSWORD, code: '123456' } })
  assert.equal(notEnabled.statusCode, 409)
  assert.equal(notEnabled.json().code, 'mfa_not_enabled')

  const { secret, recoveryCodes } = await enableTotp(app, user.accessToken, PASSWORD, clock.now())
  clock.advance(30)
  const wrongPassword = await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/disable', headers: bearer(user.accessToken), payload: { password: 'not my password', code: totpCode(secret, clock.now()) } })
  assert.equal(wrongPassword.statusCode, 400)
  assert.equal(wrongPassword.json().code, 'incorrect_password')
  const wrongCode = await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/disable', headers: bearer(user.accessToken), payload: { password: PASSWORD, code: wrongTotpCode(secret, clock.now()) } })
  assert.equal(wrongCode.statusCode, 400)
  assert.deepEqual(wrongCode.json(), { detail: 'Invalid verification code', code: 'invalid_code' })
  const unauthenticated = await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/disable', payload: { password: PASSWORD, code: recoveryCodes[0] } })
  assert.equal(unauthenticated.statusCode, 401)

  const disabled = await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/disable', headers: bearer(user.accessToken), payload: { password: PASSWORD, code: recoveryCodes[0] } })
  assert.equal(disabled.statusCode, 204)
  const mails = await mailsTo(db, user.email, 'mfa_disabled')
  assert.equal(mails.length, 1)
  assert.equal(mails[0]!.subject, 'Two-step verification turned off')
  assert.equal((await db.selectFrom('mfa_recovery_codes').selectAll().execute()).length, 0)
  assert.equal((await db.selectFrom('mfa_totp').selectAll().execute()).length, 0)
  const signin = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: user.email, password: PASSWORD } })
  assert.equal(signin.statusCode, 200)
  assert.equal(signin.json().user.mfa_enabled, false)
  assert.ok((await auditTypes(db, user.userId)).includes('mfa.disabled'))
})

test('a mail to an unverified address carries no name the sign-up chose; a verified one greets by name', async (t) => {
  const { app, db, clock } = await setup(t)
  const stranger = await signUp(app, { name: 'Visit evil dot example' })
  await enableTotp(app, stranger.accessToken, PASSWORD, clock.now())
  const [mail] = await mailsTo(db, stranger.email, 'mfa_enabled')
  assert.ok(mail)
  assert.ok(!mail.text_body!.includes('evil'))
  assert.ok(!mail.html_body!.includes('evil'))
  assert.ok(!mail.text_body!.includes(stranger.username))

  const owner = await signUp(app, { name: 'Ada' })
  await db.updateTable('users').set({ is_verified: 1 }).where('id', '=', owner.userId).execute()
  clock.advance(30)
  const fresh = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: owner.email, password: PASSWORD } })
  await enableTotp(app, fresh.json().access_token, PASSWORD, clock.now())
  const [greeting] = await mailsTo(db, owner.email, 'mfa_enabled')
  assert.match(greeting!.text_body!, /^Hello Ada,/)
})

test('metrics count second-step outcomes', async (t) => {
  const { app, clock, user } = await setup(t)
  const { secret } = await enableTotp(app, user.accessToken, PASSWORD, clock.now())
  clock.advance(30)
  const read = async (outcome: string): Promise<number> => {
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body
    const match = new RegExp(`^authd_mfa_verifications_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(text)
    return match ? Number(match[1]) : 0
  }
  const before = { ok: await read('success_totp'), bad: await read('invalid_code'), gone: await read('invalid_token') }
  const token = await mfaTokenFor(app, user.email, PASSWORD)
  await verify(app, token, wrongTotpCode(secret, clock.now()))
  await verify(app, token, totpCode(secret, clock.now()))
  await verify(app, token, totpCode(secret, clock.now()))
  assert.equal(await read('success_totp'), before.ok + 1)
  assert.equal(await read('invalid_code'), before.bad + 1)
  assert.equal(await read('invalid_token'), before.gone + 1)
})

test('a two-step sign-in begun at /token by a client ends in that client\'s session: its client_id in the token, its refresh grant working', async (t) => {
  const { app, clock, user } = await setup(t)
  const { secret } = await enableTotp(app, user.accessToken, PASSWORD, clock.now())
  clock.advance(30)
  const form = (fields: Record<string, string>) => ({ method: 'POST' as const, url: '/api/v1/auth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(fields).toString() })
  const first = await app.inject(form({ grant_type: 'password', username: user.email, password: PASSWORD, client_id: 'app-one' }))
  assert.equal(first.statusCode, 403, first.body)
  const answer = await verify(app, first.json().mfa_token, totpCode(secret, clock.now()))
  assert.equal(answer.statusCode, 200, answer.body)
  assert.equal(claimsOf(answer.json().access_token).client_id, 'app-one')
  const refreshed = await app.inject(form({ grant_type: 'refresh_token', refresh_token: answer.json().refresh_token, client_id: 'app-one' }))
  assert.equal(refreshed.statusCode, 200, refreshed.body)
  assert.equal(claimsOf(refreshed.json().access_token).client_id, 'app-one')
})
