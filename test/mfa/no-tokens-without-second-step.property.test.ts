import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import type { LightMyRequestResponse } from 'fastify'
import { buildTestAppWithDatabase } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { PASSWORD, signUp } from '../helpers/factories.js'
import { fakeClock } from '../helpers/fake-clock.js'
import { enableTotp, mfaTokenFor, verify } from '../helpers/mfa.js'
import { totpCode } from '../helpers/totp.js'
import { foreignChallenge, SoftwareAuthenticator } from '../helpers/webauthn.js'

/**
 * Someone who knows an MFA user's password, but not the TOTP secret and not an unused
 * recovery code, calls the MFA endpoints in any order: every sign-in entry point, the second
 * step with any token they got and any code they could know (codes already accepted,
 * recovery codes already used, codes of far-off steps, guesses), refreshes with what they
 * have, passkey sign-ins with a key of their own, while time passes. No answer carries a token
 * or an auth cookie, and the user gains no session.
 */
type Action =
  | { kind: 'signin' | 'login' | 'token' }
  | { kind: 'verify', token: number, code: { from: 'accepted' | 'used_recovery' | 'far_step', index: number } | { from: 'guess', value: string } }
  | { kind: 'verify_forged', token: string, code: string }
  | { kind: 'refresh', value: string }
  | { kind: 'passkey' }
  | { kind: 'wait', seconds: number }

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.constantFrom<Action>({ kind: 'signin' }, { kind: 'login' }, { kind: 'token' }, { kind: 'passkey' }),
  fc.record({
    kind: fc.constant('verify' as const),
    token: fc.nat(20),
    code: fc.oneof(
      fc.record({ from: fc.constantFrom('accepted' as const, 'used_recovery' as const, 'far_step' as const), index: fc.nat(10) }),
      fc.record({ from: fc.constant('guess' as const), value: fc.oneof(fc.stringMatching(/^\d{6}$/), fc.string({ maxLength: 30 })) })
    )
  }),
  fc.record({ kind: fc.constant('verify_forged' as const), token: fc.string({ minLength: 1, maxLength: 60 }), code: fc.stringMatching(/^\d{6}$/) }),
  fc.record({ kind: fc.constant('refresh' as const), value: fc.string({ maxLength: 120 }) }),
  fc.record({ kind: fc.constant('wait' as const), seconds: fc.integer({ min: 0, max: 400 }) })
)

function assertNoTokens (response: LightMyRequestResponse, what: string): void {
  assert.notEqual(response.statusCode, 200, `${what}: ${response.body}`)
  assert.notEqual(response.statusCode, 204, `${what}: ${response.body}`)
  assert.ok(!/access_token|refresh_token/.test(response.body), `${what} leaked a token: ${response.body}`)
  const cookies = response.cookies.filter((c) => c.value !== '')
  assert.deepEqual(cookies, [], `${what} set cookies`)
}

test('no sequence of calls to the MFA endpoints yields tokens without a valid second step', async (t) => {
  const clock = fakeClock(new Date(Math.floor(Date.now() / 30_000) * 30_000 + 5_000))
  const { app, databaseUrl } = await buildTestAppWithDatabase(t, {}, { clock })
  const db = openDirectDb(t, databaseUrl)
  const form = { 'content-type': 'application/x-www-form-urlencoded' }

  await fc.assert(fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 12 }), async (actions) => {
    const user = await signUp(app)
    const { secret, recoveryCodes } = await enableTotp(app, user.accessToken, PASSWORD, clock.now())
    // What the attacker may have seen: codes accepted before and a recovery code already used.
    clock.advance(30)
    const accepted = [totpCode(secret, clock.now(), -1), totpCode(secret, clock.now())]
    const legit = await verify(app, await mfaTokenFor(app, user.email, PASSWORD), accepted[1]!)
    assert.equal(legit.statusCode, 200)
    const usedRecovery = [recoveryCodes[0]!]
    assert.equal((await verify(app, await mfaTokenFor(app, user.email, PASSWORD), usedRecovery[0]!)).statusCode, 200)
    const sessionsBefore = await db.selectFrom('sessions').select(['id']).where('user_id', '=', user.userId).execute()
    const tokens: string[] = []
    const stranger = new SoftwareAuthenticator({ origin: 'http://localhost:8000' })
    stranger.createCredential({ challenge: foreignChallenge(), rp: { id: 'localhost', name: 'x' }, user: { id: Buffer.from(user.userId).toString('base64url') } })

    for (const step of actions) {
      let response: LightMyRequestResponse
      switch (step.kind) {
        case 'signin':
          response = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: user.email, password: PASSWORD } })
          if (response.statusCode === 403) tokens.push(response.json().mfa_token)
          break
        case 'login':
          response = await app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: form, payload: `username=${encodeURIComponent(user.email)}&password=${encodeURIComponent(PASSWORD)}` })
          if (response.statusCode === 403) tokens.push(response.json().mfa_token)
          break
        case 'token':
          response = await app.inject({ method: 'POST', url: '/api/v1/auth/token', headers: form, payload: `grant_type=password&username=${encodeURIComponent(user.email)}&password=${encodeURIComponent(PASSWORD)}` })
          if (response.statusCode === 403) tokens.push(response.json().mfa_token)
          break
        case 'verify': {
          const token = tokens.length > 0 ? tokens[step.token % tokens.length]! : 'no-token-yet'
          const code = step.code.from === 'guess'
            ? step.code.value
            : step.code.from === 'accepted'
              ? accepted[step.code.index % accepted.length]!
              : step.code.from === 'used_recovery'
                ? usedRecovery[step.code.index % usedRecovery.length]!
                : totpCode(secret, clock.now(), (step.code.index % 2 === 0 ? 1 : -1) * (2 + step.code.index))
          // A guess may be right by chance (1 in 10^6 per accepted step): never count that.
          const valid = [-1, 0, 1].map((o) => totpCode(secret, clock.now(), o))
          if (valid.includes(code.replace(/\s+/g, '')) && step.code.from === 'guess') continue
          response = await verify(app, token, code)
          break
        }
        case 'verify_forged':
          response = await verify(app, step.token, step.code)
          break
        case 'refresh':
          response = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: step.value } })
          break
        case 'passkey': {
          const options = (await app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/signin/options', payload: {} })).json()
          response = await app.inject({ method: 'POST', url: '/api/v1/auth/passkeys/signin', payload: { response: stranger.getAssertion(options) } })
          break
        }
        case 'wait':
          clock.advance(step.seconds)
          continue
      }
      assertNoTokens(response, JSON.stringify(step))
    }
    const sessionsAfter = await db.selectFrom('sessions').select(['id']).where('user_id', '=', user.userId).execute()
    assert.equal(sessionsAfter.length, sessionsBefore.length, 'no new session')
  }), { numRuns: 25 })
})
