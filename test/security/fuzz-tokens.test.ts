import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { buildTestApp } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { signUp } from '../helpers/factories.js'
import { createTestDatabaseUrl } from '../helpers/test-db.js'
import { fuzzValue, snapshot } from './fuzz-helpers.js'

const NUM_RUNS = 60
const b64 = (value: string) => Buffer.from(value).toString('base64url')

test('token parsing: random, mutated and crafted access and refresh tokens are refused, never a 500, nothing changes', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const app = await buildTestApp(t, { DATABASE_URL: url })
  const db = openDirectDb(t, url)
  const user = await signUp(app)
  const [header, claims, signature] = user.accessToken.split('.') as [string, string, string]

  // A real token with one character changed, a JWT-shaped string with random JSON parts,
  // or any string at all (unicode, control characters, huge).
  const mutated = fc.tuple(fc.nat({ max: user.accessToken.length - 1 }), fc.constantFrom('A', '_', '-', '.', '=', ' ', 'é')).map(([i, c]) => user.accessToken.slice(0, i) + c + user.accessToken.slice(i + 1)).filter((token) => token !== user.accessToken)
  const crafted = fc.tuple(fuzzValue, fuzzValue, fc.constantFrom(signature, '', 'AAAA')).map(([h, p, s]) => `${b64(JSON.stringify(h) ?? '')}.${b64(JSON.stringify(p) ?? '')}.${s}`)
  const swapped = fc.jsonValue({ maxDepth: 2 }).map((h) => `${b64(JSON.stringify({ ...(typeof h === 'object' && h !== null && !Array.isArray(h) ? h : {}), alg: 'none' }))}.${claims}.`)
  const anyString = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.constantFrom('', '.', '..', '...', `${header}..`, `${header}.${claims}`, 'x'.repeat(5000)))
  const accessToken = fc.oneof(mutated, crafted, swapped, anyString)

  const before = await snapshot(db)
  await fc.assert(fc.asyncProperty(accessToken, fc.boolean(), async (token, viaCookie) => {
    // Header values cannot carry every character: send what HTTP can carry, as a client would.
    const safe = token.replace(/[^\t\x20-\x7e\x80-\xff]/g, '')
    const headers: Record<string, string> = viaCookie ? { cookie: `access_token=${encodeURIComponent(safe)}` } : { authorization: `Bearer ${safe}` }
    const response = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers })
    if (safe === user.accessToken) return
    assert.ok([401].includes(response.statusCode), `${response.statusCode} for ${JSON.stringify(safe.slice(0, 80))}`)
    assert.ok(['invalid_token', 'not_authenticated'].includes(response.json().code))
  }), { numRuns: NUM_RUNS * 2 })

  const [sessionId, secret] = user.refreshToken.split('.') as [string, string]
  const refreshToken = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.string({ minLength: 43, maxLength: 43 }).map((s) => `${sessionId}.${s}`),
    fc.nat({ max: secret.length - 1 }).map((i) => `${sessionId}.${secret.slice(0, i)}${secret[i] === 'A' ? 'B' : 'A'}${secret.slice(i + 1)}`),
    fc.uuid().map((id) => `${id}.${secret}`)
  )
  await fc.assert(fc.asyncProperty(refreshToken, fc.constantFrom('body', 'cookie', 'grant'), async (token, via) => {
    let response
    if (via === 'body') {
      response = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: token } })
    } else if (via === 'cookie') {
      response = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: {}, headers: { cookie: `refresh_token=${encodeURIComponent(token)}` } })
    } else {
      response = await app.inject({ method: 'POST', url: '/api/v1/auth/token', payload: `grant_type=refresh_token&refresh_token=${encodeURIComponent(token)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    }
    assert.ok(response.statusCode >= 400 && response.statusCode < 500, `${via}: ${response.statusCode} ${response.body.slice(0, 200)}`)
  }), { numRuns: NUM_RUNS })

  // No guess rotated a token, revoked or created a session, or touched a user.
  assert.equal(await snapshot(db), before)
})
