import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildTestAppWithDatabase } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { bearer, cookiesOf, PASSWORD, signUp } from '../helpers/factories.js'
import { fakeClock } from '../helpers/fake-clock.js'
import { auditTypes, claimsOf, enableTotp, mailsTo, mfaTokenFor, verify } from '../helpers/mfa.js'
import { totpCode } from '../helpers/totp.js'
import { foreignChallenge, SoftwareAuthenticator } from '../helpers/webauthn.js'

const ORIGIN = 'http://localhost:8000'

async function setup (t: Parameters<typeof buildTestAppWithDatabase>[0], env: Record<string, string> = {}) {
  const clock = fakeClock()
  const { app, databaseUrl } = await buildTestAppWithDatabase(t, env, { clock })
  return { app, db: openDirectDb(t, databaseUrl), clock, user: await signUp(app) }
}

async function registrationOptions (app: FastifyInstance, accessToken: string) {
  const response = await app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/register/options', headers: bearer(accessToken) })
  assert.equal(response.statusCode, 200, response.body)
  return response.json()
}

async function register (app: FastifyInstance, accessToken: string, authenticator: SoftwareAuthenticator, name?: string) {
  const options = await registrationOptions(app, accessToken)
  const response = await app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/register', headers: bearer(accessToken), payload: { response: authenticator.createCredential(options), ...(name ? { name } : {}) } })
  assert.equal(response.statusCode, 201, response.body)
  return response.json() as { id: string, name: string, created_at: string, last_used_at: string | null }
}

async function signinOptions (app: FastifyInstance) {
  const response = await app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/signin/options', payload: {} })
  assert.equal(response.statusCode, 200, response.body)
  return response.json()
}

function passkeySignin (app: FastifyInstance, assertion: unknown, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/signin', headers, payload: { response: assertion } })
}

test('registration: options for a discoverable credential from PUBLIC_URL, existing passkeys excluded; 201, list, rename, delete', async (t) => {
  const { app, db, user } = await setup(t)
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/register/options' })).statusCode, 401)
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/passkeys' })).statusCode, 401)

  const options = await registrationOptions(app, user.accessToken)
  assert.equal(options.rp.id, 'localhost')
  assert.equal(options.authenticatorSelection.residentKey, 'required')
  assert.equal(options.authenticatorSelection.userVerification, 'required')
  assert.equal(options.attestation, 'none')
  assert.deepEqual(options.excludeCredentials, [])
  assert.equal(Buffer.from(options.user.id, 'base64url').toString(), user.userId)

  const authenticator = new SoftwareAuthenticator({ origin: ORIGIN })
  const created = await app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/register', headers: bearer(user.accessToken), payload: { response: authenticator.createCredential(options), name: 'Laptop' } })
  assert.equal(created.statusCode, 201)
  const passkey = created.json()
  assert.deepEqual(Object.keys(passkey).sort(), ['created_at', 'id', 'last_used_at', 'name'])
  assert.equal(passkey.name, 'Laptop')
  assert.equal(passkey.last_used_at, null)

  const next = await registrationOptions(app, user.accessToken)
  assert.deepEqual(next.excludeCredentials.map((c: { id: string }) => c.id), [...authenticator.credentials.keys()])

  const list = await app.inject({ method: 'GET', url: '/api/v1/auth/passkeys', headers: bearer(user.accessToken) })
  assert.deepEqual(list.json(), [passkey])

  const renamed = await app.inject({ method: 'PATCH', url: `/api/v1/auth/passkeys/${passkey.id}`, headers: bearer(user.accessToken), payload: { name: 'Work laptop' } })
  assert.equal(renamed.statusCode, 200)
  assert.equal(renamed.json().name, 'Work laptop')
  assert.equal((await app.inject({ method: 'PATCH', url: `/api/v1/auth/passkeys/${passkey.id}`, headers: bearer(user.accessToken), payload: { name: '' } })).statusCode, 422)
  assert.equal((await app.inject({ method: 'PATCH', url: `/api/v1/auth/passkeys/${passkey.id}`, headers: bearer(user.accessToken), payload: { name: 'bad\u0007name' } })).statusCode, 422)
  const notMine = await signUp(app)
  const foreignRename = await app.inject({ method: 'PATCH', url: `/api/v1/auth/passkeys/${passkey.id}`, headers: bearer(notMine.accessToken), payload: { name: 'Mine now' } })
  assert.equal(foreignRename.statusCode, 404)
  assert.equal(foreignRename.json().code, 'not_found')
  assert.equal((await app.inject({ method: 'DELETE', url: `/api/v1/auth/passkeys/${passkey.id}`, headers: bearer(notMine.accessToken) })).statusCode, 404)

  const deleted = await app.inject({ method: 'DELETE', url: `/api/v1/auth/passkeys/${passkey.id}`, headers: bearer(user.accessToken) })
  assert.equal(deleted.statusCode, 204)
  const again = await app.inject({ method: 'DELETE', url: `/api/v1/auth/passkeys/${passkey.id}`, headers: bearer(user.accessToken) })
  assert.equal(again.statusCode, 404)
  assert.equal(again.json().code, 'not_found')
  const types = await auditTypes(db, user.userId)
  for (const type of ['passkey.added', 'passkey.renamed', 'passkey.removed']) assert.ok(types.includes(type), type)
})

/** @see red-team findings, round 3, F5: U+2028 and U+2029 were allowed in passkey names, which DisplayName refuses. */
test('passkey names follow the rule of every name a human gives: control characters, U+2028/9 and over 64 characters are 422', async (t) => {
  const { app, user } = await setup(t)
  const authenticator = new SoftwareAuthenticator({ origin: ORIGIN })
  for (const name of ['\u2028ls', 'ps\u2029', 'line1\r\nline2', 'esc \u001b[31m', 'C1 \u0085', 'z'.repeat(65)]) {
    const what = JSON.stringify(name)
    const options = await registrationOptions(app, user.accessToken)
    const refused = await app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/register', headers: bearer(user.accessToken), payload: { response: authenticator.createCredential(options), name } })
    assert.equal(refused.statusCode, 422, what)
    assert.equal(refused.json().errors[0].field, 'name', what)
    // The same refusal, in the same words, as for a user's name.
    const displayName = await app.inject({ method: 'PATCH', url: '/api/v1/auth/me', headers: bearer(user.accessToken), payload: { name } })
    if (name.length <= 64) assert.equal(refused.json().errors[0].message, displayName.json().errors[0].message, what)
  }
  const passkey = await register(app, user.accessToken, authenticator, 'Laptop')
  for (const name of ['\u2028', 'a\u2029b']) {
    const renamed = await app.inject({ method: 'PATCH', url: `/api/v1/auth/passkeys/${passkey.id}`, headers: bearer(user.accessToken), payload: { name } })
    assert.equal(renamed.statusCode, 422, JSON.stringify(name))
  }
  const renamed = await app.inject({ method: 'PATCH', url: `/api/v1/auth/passkeys/${passkey.id}`, headers: bearer(user.accessToken), payload: { name: 'Clé — travail' } })
  assert.equal(renamed.statusCode, 200)
  assert.equal(renamed.json().name, 'Clé — travail')
})

test('registration refuses a foreign origin, a challenge never issued, a replayed response and another user\'s challenge: 400 invalid_passkey', async (t) => {
  const { app, user } = await setup(t)
  const authenticator = new SoftwareAuthenticator({ origin: ORIGIN })
  const expectInvalid = async (response: unknown, accessToken = user.accessToken) => {
    const answer = await app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/register', headers: bearer(accessToken), payload: { response } })
    assert.equal(answer.statusCode, 400, answer.body)
    assert.deepEqual(answer.json(), { detail: 'Passkey could not be registered', code: 'invalid_passkey' })
  }
  await expectInvalid(authenticator.createCredential(await registrationOptions(app, user.accessToken), { origin: 'https://evil.example' }))
  const options = await registrationOptions(app, user.accessToken)
  await expectInvalid(authenticator.createCredential({ ...options, challenge: foreignChallenge() }))
  const other = await signUp(app)
  await expectInvalid(authenticator.createCredential(options), other.accessToken)
  // That attempt spent nothing of ours: the challenge was another user's. Now use it, then replay.
  const good = authenticator.createCredential(options)
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/register', headers: bearer(user.accessToken), payload: { response: good } })).statusCode, 201)
  await expectInvalid(good)
  // Without user verification (UV flag) a passkey is not a second factor: refused.
  const noUv = new SoftwareAuthenticator({ origin: ORIGIN, userVerification: false })
  await expectInvalid(noUv.createCredential(await registrationOptions(app, user.accessToken)))
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/register', headers: bearer(user.accessToken), payload: { response: { id: 'x' } } })).statusCode, 422)
})

test('passkey sign-in: options name no credential; the assertion signs in with cookies and amr hwk+mfa, and counts', async (t) => {
  const { app, db, user } = await setup(t)
  const authenticator = new SoftwareAuthenticator({ origin: ORIGIN })
  const passkey = await register(app, user.accessToken, authenticator)
  const options = await signinOptions(app)
  assert.equal(options.allowCredentials, undefined)
  assert.equal(options.rpId, 'localhost')
  assert.equal(options.userVerification, 'required')
  const empty = await app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/signin/options' })
  assert.equal(empty.statusCode, 200, 'no body at all is fine too')

  const response = await passkeySignin(app, authenticator.getAssertion(options))
  assert.equal(response.statusCode, 200, response.body)
  const body = response.json()
  assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type', 'user'])
  assert.equal(body.user.id, user.userId)
  assert.deepEqual(claimsOf(body.access_token).amr, ['hwk', 'mfa'])
  assert.equal(cookiesOf(response).access_token?.value, body.access_token)
  const list = (await app.inject({ method: 'GET', url: '/api/v1/auth/passkeys', headers: bearer(body.access_token) })).json()
  assert.notEqual(list[0].last_used_at, null)
  const row = await db.selectFrom('passkeys').select(['counter']).where('id', '=', passkey.id).executeTakeFirstOrThrow()
  assert.equal(Number(row.counter), 1)
  assert.ok((await auditTypes(db, user.userId)).includes('passkey.signin'))

  // A synced passkey (backup eligible and backed up) is a software key.
  const synced = new SoftwareAuthenticator({ origin: ORIGIN, synced: true, counting: false })
  await register(app, user.accessToken, synced)
  const viaSynced = await passkeySignin(app, synced.getAssertion(await signinOptions(app)))
  assert.equal(viaSynced.statusCode, 200)
  assert.deepEqual(claimsOf(viaSynced.json().access_token).amr, ['swk', 'mfa'])
})

test('passkey sign-in refuses a replay, a foreign origin, an unregistered key, an unissued or expired challenge, a deleted passkey, a counter that went back: 401', async (t) => {
  const { app, clock, user } = await setup(t)
  const authenticator = new SoftwareAuthenticator({ origin: ORIGIN })
  const passkey = await register(app, user.accessToken, authenticator)
  const refused = async (assertion: unknown, reason: string) => {
    const response = await passkeySignin(app, assertion)
    assert.equal(response.statusCode, 401, `${reason}: ${response.body}`)
    assert.deepEqual(response.json(), { detail: 'Passkey not recognised', code: 'invalid_passkey' }, reason)
    assert.equal(response.headers['set-cookie'], undefined)
  }
  const assertion = authenticator.getAssertion(await signinOptions(app))
  assert.equal((await passkeySignin(app, assertion)).statusCode, 200)
  await refused(assertion, 'replayed assertion')
  await refused(authenticator.getAssertion(await signinOptions(app), { origin: 'https://evil.example' }), 'foreign origin')
  // A key the server never saw: created on an authenticator, never registered.
  const stranger = new SoftwareAuthenticator({ origin: ORIGIN })
  stranger.createCredential({ challenge: foreignChallenge(), rp: { id: 'localhost', name: 'localhost:8000' }, user: { id: Buffer.from(user.userId).toString('base64url') } })
  await refused(stranger.getAssertion(await signinOptions(app)), 'unregistered key')
  await refused(authenticator.getAssertion({ challenge: foreignChallenge(), rpId: 'localhost' }), 'challenge never issued')
  // A registration challenge is not a sign-in challenge.
  const registrationChallenge = (await registrationOptions(app, user.accessToken)).challenge as string
  await refused(authenticator.getAssertion({ challenge: registrationChallenge, rpId: 'localhost' }), 'registration challenge')
  const late = await signinOptions(app)
  clock.advance(301)
  await refused(authenticator.getAssertion(late), 'expired challenge')
  // The stored counter is past this one: a cloned authenticator.
  await refused(authenticator.getAssertion(await signinOptions(app), { counter: 1 }), 'counter went back')
  // Signed by our key, but for another relying party.
  await refused(authenticator.getAssertion({ ...(await signinOptions(app)), rpId: 'evil.example' }), 'other rp id')
  // The user handle names another account.
  await refused(authenticator.getAssertion(await signinOptions(app), { userHandle: Buffer.from('0190a5b4-0000-7000-8000-000000000000').toString('base64url') }), 'user handle mismatch')
  // Each refused attempt spent its challenge: the one answered by the forged origin cannot be reused either.
  const options = await signinOptions(app)
  await refused(authenticator.getAssertion(options, { origin: 'https://evil.example' }), 'foreign origin again')
  await refused(authenticator.getAssertion(options), 'challenge spent by a refused attempt')

  assert.equal((await passkeySignin(app, authenticator.getAssertion(await signinOptions(app)))).statusCode, 200)
  const signin = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: user.email, password: PASSWORD } })
  const deleted = await app.inject({ method: 'DELETE', url: `/api/v1/auth/passkeys/${passkey.id}`, headers: bearer(signin.json().access_token) })
  assert.equal(deleted.statusCode, 204)
  await refused(authenticator.getAssertion(await signinOptions(app)), 'deleted passkey')
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/signin', payload: {} })).statusCode, 422)
})

test('passkey sign-in of a deactivated user is 403 inactive_user; it satisfies two-step verification; metrics count outcomes', async (t) => {
  const { app, db, clock, user } = await setup(t)
  const authenticator = new SoftwareAuthenticator({ origin: ORIGIN })
  await register(app, user.accessToken, authenticator)
  await enableTotp(app, user.accessToken, PASSWORD, clock.now())
  const read = async (outcome: string): Promise<number> => {
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body
    const match = new RegExp(`^authd_passkey_signins_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(text)
    return match ? Number(match[1]) : 0
  }
  const before = { success: await read('success'), invalid: await read('invalid_passkey'), inactive: await read('inactive_user') }
  // MFA is on, and the passkey alone signs in: no mfa_required.
  const mfaUser = await passkeySignin(app, authenticator.getAssertion(await signinOptions(app)))
  assert.equal(mfaUser.statusCode, 200)
  assert.equal(mfaUser.json().user.mfa_enabled, true)
  await passkeySignin(app, authenticator.getAssertion({ challenge: foreignChallenge(), rpId: 'localhost' }))

  await db.updateTable('users').set({ is_active: 0 }).where('id', '=', user.userId).execute()
  const inactive = await passkeySignin(app, authenticator.getAssertion(await signinOptions(app)))
  assert.equal(inactive.statusCode, 403)
  assert.deepEqual(inactive.json(), { detail: 'User account is inactive', code: 'inactive_user' })
  assert.equal(inactive.headers['set-cookie'], undefined)
  assert.equal(await read('success'), before.success + 1)
  assert.equal(await read('invalid_passkey'), before.invalid + 1)
  assert.equal(await read('inactive_user'), before.inactive + 1)
})

test('passkey sign-in follows the CSRF rules of /signin and is rate limited per IP (429)', async (t) => {
  const { app, user } = await setup(t, { RATE_LIMITS: 'on', RATE_LIMIT_PASSKEY_PER_IP: '4/60' })
  const authenticator = new SoftwareAuthenticator({ origin: ORIGIN })
  await register(app, user.accessToken, authenticator)
  const options = await signinOptions(app)
  const foreign = await passkeySignin(app, authenticator.getAssertion(options), { origin: 'https://evil.example' })
  assert.equal(foreign.statusCode, 403)
  assert.equal(foreign.json().code, 'csrf_failed')
  assert.equal((await passkeySignin(app, authenticator.getAssertion(options))).statusCode, 200, 'the refused request did not spend the challenge')
  await signinOptions(app)
  await signinOptions(app)
  const limited = await app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/signin/options', payload: {} })
  assert.equal(limited.statusCode, 429)
  assert.equal(limited.json().code, 'rate_limited')
  assert.ok(limited.headers['retry-after'])
})

test('one assertion sent several times at once: exactly one sign-in', async (t) => {
  const { app, user } = await setup(t)
  const authenticator = new SoftwareAuthenticator({ origin: ORIGIN, counting: false })
  await register(app, user.accessToken, authenticator)
  const assertion = authenticator.getAssertion(await signinOptions(app))
  const responses = await Promise.all(Array.from({ length: 6 }, () => passkeySignin(app, assertion)))
  assert.deepEqual(responses.map((r) => r.statusCode).sort(), [200, 401, 401, 401, 401, 401])
})

test('the sign-in rule of every way in: with SIGNUP_ENUMERATION_SAFE an unverified address signs in neither by passkey nor by the second step', async (t) => {
  const { buildAdminApp, createSignedInUser } = await import('../helpers/admin.js')
  const clock = fakeClock()
  const { app, admin } = await buildAdminApp(t, { SIGNUP_ENUMERATION_SAFE: 'true' })
  const byPasskey = await createSignedInUser(app, admin.headers, { is_verified: true })
  const authenticator = new SoftwareAuthenticator({ origin: ORIGIN })
  await register(app, byPasskey.accessToken, authenticator)
  const byTotp = await createSignedInUser(app, admin.headers, { is_verified: true })
  const { secret } = await enableTotp(app, byTotp.accessToken, byTotp.password, clock.now())
  const pending = await mfaTokenFor(app, byTotp.email, byTotp.password)

  // A new address is unverified until its owner says so (admin email change).
  for (const user of [byPasskey, byTotp]) {
    const moved = await app.inject({ method: 'PATCH', url: `/api/v1/users/${user.user.id}`, headers: admin.headers, payload: { email: `moved-${user.user.id}@example.org` } })
    assert.equal(moved.statusCode, 200, moved.body)
    assert.equal(moved.json().is_verified, false)
  }
  const passkey = await passkeySignin(app, authenticator.getAssertion(await signinOptions(app)))
  assert.equal(passkey.statusCode, 403, passkey.body)
  assert.equal(passkey.json().code, 'email_not_verified')
  const second = await verify(app, pending, totpCode(secret, clock.now()))
  assert.equal(second.statusCode, 403, second.body)
  assert.equal(second.json().code, 'email_not_verified')
})

test('adding a passkey needs a recent sign-in, through the second step when it is on; every change of passkeys and recovery codes is mailed', async (t) => {
  const { app, db, clock, user } = await setup(t)
  const optionsFor = (token: string) => app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/register/options', headers: bearer(token) })
  const signIn = async () => (await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: user.email, password: PASSWORD } })).json()

  // An access token of a session opened 11 minutes ago (still valid: it lives 15) is not enough.
  const fresh = await registrationOptions(app, user.accessToken)
  clock.advance(11 * 60)
  const stale = await optionsFor(user.accessToken)
  assert.equal(stale.statusCode, 401, stale.body)
  assert.deepEqual(stale.json(), { detail: 'Sign in again to continue', code: 'reauthentication_required' })
  // Options fetched in time do not help once the session is too old to register with.
  const authenticator = new SoftwareAuthenticator({ origin: ORIGIN })
  const late = await app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/register', headers: bearer(user.accessToken), payload: { response: authenticator.createCredential(fresh) } })
  assert.equal(late.statusCode, 401, late.body)
  assert.equal((await db.selectFrom('passkeys').selectAll().execute()).length, 0)

  // Two-step verification on: a password-only session (from before it was on) can add
  // neither a passkey nor new recovery codes, even with the password; the session that turned
  // it on (it has just shown a code) can.
  const passwordOnly = await signIn()
  const turnedOn = await signIn()
  const { secret } = await enableTotp(app, turnedOn.access_token, PASSWORD, clock.now())
  const refused = await optionsFor(passwordOnly.access_token)
  assert.equal(refused.statusCode, 401, refused.body)
  assert.equal(refused.json().code, 'reauthentication_required')
  const codes = await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/recovery-codes', headers: bearer(passwordOnly.access_token), payload: { password: PASSWORD } })
  assert.equal(codes.statusCode, 401, codes.body)
  assert.equal(codes.json().code, 'reauthentication_required')
  assert.equal((await mailsTo(db, user.email, 'passkey_added')).length, 0)
  assert.equal((await mailsTo(db, user.email, 'mfa_recovery_codes_regenerated')).length, 0)
  assert.equal((await optionsFor(turnedOn.access_token)).statusCode, 200, 'the session that turned it on counts as a two-step session')

  // After the second step: added, and the owner is told; removal and new recovery codes too.
  clock.advance(30)
  const second = await verify(app, await mfaTokenFor(app, user.email, PASSWORD), totpCode(secret, clock.now()))
  assert.equal(second.statusCode, 200, second.body)
  const token = second.json().access_token as string
  const passkey = await register(app, token, authenticator)
  assert.equal((await mailsTo(db, user.email, 'passkey_added')).length, 1)
  assert.equal((await app.inject({ method: 'DELETE', url: `/api/v1/auth/passkeys/${passkey.id}`, headers: bearer(token) })).statusCode, 204)
  assert.equal((await mailsTo(db, user.email, 'passkey_removed')).length, 1)
  const regenerated = await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/recovery-codes', headers: bearer(token), payload: { password: PASSWORD } })
  assert.equal(regenerated.statusCode, 200)
  const mails = await mailsTo(db, user.email, 'mfa_recovery_codes_regenerated')
  assert.equal(mails.length, 1)
  assert.ok(!mails[0]!.text_body?.includes(regenerated.json().recovery_codes[0]), 'the mail carries no code')
})
