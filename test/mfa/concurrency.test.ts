import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp } from '../helpers/build-test-app.js'
import { PASSWORD, signUp } from '../helpers/factories.js'
import { fakeClock } from '../helpers/fake-clock.js'
import { enableTotp, mfaTokenFor, verify } from '../helpers/mfa.js'
import { totpCode } from '../helpers/totp.js'

function stepClock () {
  return fakeClock(new Date(Math.floor(Date.now() / 30_000) * 30_000 + 5_000))
}

test('one mfa_token used by parallel requests with valid codes: exactly one success', async (t) => {
  const clock = stepClock()
  const app = await buildTestApp(t, {}, { clock })
  const user = await signUp(app)
  const { secret, recoveryCodes } = await enableTotp(app, user.accessToken, PASSWORD, clock.now())
  clock.advance(30)
  const mfaToken = await mfaTokenFor(app, user.email, PASSWORD)
  // Different valid codes (the TOTP code and distinct recovery codes), so only the token
  // itself can stop the others.
  const codes = [totpCode(secret, clock.now()), ...recoveryCodes.slice(0, 7)]
  const responses = await Promise.all(codes.map((code) => verify(app, mfaToken, code)))
  const statuses = responses.map((r) => r.statusCode)
  assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses: ${statuses.join(',')}`)
  for (const response of responses) if (response.statusCode !== 200) assert.equal(response.json().code, 'invalid_token')
})

test('one recovery code used at once through several mfa_tokens: exactly one success', async (t) => {
  const clock = stepClock()
  const app = await buildTestApp(t, {}, { clock })
  const user = await signUp(app)
  const { recoveryCodes } = await enableTotp(app, user.accessToken, PASSWORD, clock.now())
  const tokens = []
  for (let i = 0; i < 6; i++) tokens.push(await mfaTokenFor(app, user.email, PASSWORD))
  const responses = await Promise.all(tokens.map((token) => verify(app, token, recoveryCodes[3]!)))
  const statuses = responses.map((r) => r.statusCode)
  assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses: ${statuses.join(',')}`)
  assert.equal(statuses.filter((s) => s === 401).length, 5)
})

test('one TOTP code used at once through several mfa_tokens: exactly one success', async (t) => {
  const clock = stepClock()
  const app = await buildTestApp(t, {}, { clock })
  const user = await signUp(app)
  const { secret } = await enableTotp(app, user.accessToken, PASSWORD, clock.now())
  clock.advance(30)
  const tokens = []
  for (let i = 0; i < 6; i++) tokens.push(await mfaTokenFor(app, user.email, PASSWORD))
  const code = totpCode(secret, clock.now())
  const responses = await Promise.all(tokens.map((token) => verify(app, token, code)))
  const statuses = responses.map((r) => r.statusCode)
  assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses: ${statuses.join(',')}`)
})

test('parallel wrong codes with one mfa_token: exactly 5 count, the rest find it dead, and a right code then fails', async (t) => {
  const clock = stepClock()
  const app = await buildTestApp(t, {}, { clock })
  const user = await signUp(app)
  const { secret } = await enableTotp(app, user.accessToken, PASSWORD, clock.now())
  clock.advance(30)
  const mfaToken = await mfaTokenFor(app, user.email, PASSWORD)
  // Codes of no step the server accepts now (the current one and one either side).
  const accepted = new Set([-30, 0, 30].map((s) => totpCode(secret, new Date(clock.now().getTime() + s * 1000))))
  const wrong: string[] = []
  for (let n = 0; wrong.length < 12; n++) {
    const code = String(n * 7919 % 1_000_000).padStart(6, '0')
    if (!accepted.has(code)) wrong.push(code)
  }
  const responses = await Promise.all(wrong.map((code) => verify(app, mfaToken, code)))
  const outcomes = responses.map((r) => `${r.statusCode} ${r.json().code}`)
  // Every wrong code is checked, and counted by one statement under the limit: parallel
  // attempts cannot count past it, so 5 are "wrong code" and the others found the token dead.
  // On SQLite these requests run one after another; on PostgreSQL (the suite's second run)
  // they race, and a count without the limit in its statement gives 12 "wrong code".
  assert.equal(outcomes.filter((o) => o === '401 invalid_code').length, 5, outcomes.join(', '))
  assert.equal(outcomes.filter((o) => o === '400 invalid_token').length, 7, outcomes.join(', '))
  const right = await verify(app, mfaToken, totpCode(secret, clock.now()))
  assert.equal(right.statusCode, 400)
  assert.equal(right.json().code, 'invalid_token')
})
