import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify } from 'jose'
import { loadConfig } from '../../src/config/index.js'
import { systemClock } from '../../src/lib/clock.js'
import { createTokenSigner } from '../../src/tokens/jwt.js'
import { KEY_PUBLICATION_LEAD_MS } from '../../src/tokens/key-timeline.js'
import { TEST_ENV } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { PASSWORD, signUp } from '../helpers/factories.js'
import { listeningApp } from './listening-app.js'

const settle = async (): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, 30)) }

test('a verifier that caches the JWKS for its full max-age verifies every token across a key rotation', async (t) => {
  // One mocked wall clock for the service (its default clock reads Date, and its key upkeep
  // runs on setInterval) and for jose's JWKS cache, so minutes pass in milliseconds.
  // setTimeout stays real: the database driver and this test's waits use it.
  t.mock.timers.enable({ apis: ['Date', 'setInterval'], now: Date.now() })
  const { app, base, databaseUrl } = await listeningApp(t)
  const user = await signUp(app)

  const jwksUrl = new URL(`${base}/.well-known/jwks.json`)
  const cacheControl = (await fetch(jwksUrl)).headers.get('cache-control') ?? ''
  const maxAgeMs = Number(/max-age=(\d+)/.exec(cacheControl)?.[1]) * 1000
  assert.ok(maxAgeMs > 0, cacheControl)
  // Honours max-age to the letter, and never refetches early for an unknown kid.
  const jwks = createRemoteJWKSet(jwksUrl, { cacheMaxAge: maxAgeMs, cooldownDuration: maxAgeMs })
  const verify = async (token: string) => (await jwtVerify(token, jwks, { issuer: base, audience: base, typ: 'at+jwt' })).payload

  const signIn = async (): Promise<string> => {
    const response = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: user.email, password: PASSWORD } })
    assert.equal(response.statusCode, 200, response.body)
    return response.json().access_token
  }
  const firstKid = decodeProtectedHeader(user.accessToken).kid
  await verify(user.accessToken)
  // The worst moment to rotate: just after the verifier refetched, so that its copy without
  // the new key stays fresh for a whole max-age.
  t.mock.timers.tick(maxAgeMs)
  await verify(user.accessToken)

  // `keys rotate`, as the CLI or another instance does it: the same database, its own signer.
  const db = openDirectDb(t, databaseUrl)
  const config = loadConfig({ ...TEST_ENV, DATABASE_URL: databaseUrl })
  const newKid = await (await createTokenSigner({ db, config, clock: systemClock })).rotate()
  // Had the new key signed at once, this verifier could not have checked its tokens: its
  // cached set lacks the key, and it will not refetch before max-age.
  await assert.rejects(jwks({ alg: 'EdDSA', kid: newKid }), errors.JWKSNoMatchingKey)

  const issued: Array<{ token: string, exp: number }> = []
  const kidsSeen = new Set<string>()
  const end = Date.now() + KEY_PUBLICATION_LEAD_MS + config.tokens.accessTtlSeconds * 1000 + 5 * 60_000
  while (Date.now() < end) {
    t.mock.timers.tick(20_000)
    await settle() // lets the key upkeep that the interval started finish
    const token = await signIn()
    const kid = decodeProtectedHeader(token).kid!
    kidsSeen.add(kid)
    issued.push({ token, exp: Math.floor(Date.now() / 1000) + config.tokens.accessTtlSeconds })
    const nowSeconds = Date.now() / 1000
    for (const earlier of issued.filter((entry) => entry.exp > nowSeconds)) {
      await verify(earlier.token).catch((error: unknown) => {
        assert.fail(`at +${Math.round((Date.now() - end) / 1000)} s a token of ${decodeProtectedHeader(earlier.token).kid} failed: ${String(error)}`)
      })
    }
  }
  assert.deepEqual([...kidsSeen].sort(), [firstKid, newKid].sort(), 'the rotation did happen within the test')
  // The old key was unpublished once its last token expired.
  const published = ((await (await fetch(jwksUrl)).json()) as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid)
  assert.deepEqual(published, [newKid])
})
