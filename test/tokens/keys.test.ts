import assert from 'node:assert/strict'
import { createPublicKey, createSecretKey, type JsonWebKey } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { createRemoteJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, type JWK, jwtVerify, SignJWT } from 'jose'
import { loadConfig } from '../../src/config/index.js'
import { maintainSigningKeys } from '../../src/tokens/key-rotation.js'
import { createTokenSigner } from '../../src/tokens/jwt.js'
import { KEY_PUBLICATION_LEAD_MS } from '../../src/tokens/key-timeline.js'
import { buildTestApp, TEST_ENV } from '../helpers/build-test-app.js'
import { runAdminCli } from '../helpers/cli.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { bearer, signUp } from '../helpers/factories.js'
import { createTestDatabaseUrl } from '../helpers/test-db.js'
import { runCli } from './helpers.js'

const ISSUER = 'http://127.0.0.1:8000'

function b64 (value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

async function meStatus (app: Awaited<ReturnType<typeof buildTestApp>>, token: string): Promise<[number, string]> {
  const response = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(token) })
  return [response.statusCode, response.json().code]
}

for (const algorithm of ['EdDSA', 'RS256'] as const) {
  test(`${algorithm}: another service verifies our tokens with the JWKS alone (jose remote JWKS)`, async (t) => {
    const app = await buildTestApp(t, { JWT_ALGORITHM: algorithm })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as AddressInfo
    const user = await signUp(app)
    const jwks = createRemoteJWKSet(new URL(`http://127.0.0.1:${port}/.well-known/jwks.json`))
    const { payload, protectedHeader } = await jwtVerify(user.accessToken, jwks, { issuer: ISSUER, audience: ISSUER, typ: 'at+jwt', algorithms: [algorithm] })
    assert.equal(payload.sub, user.userId)
    assert.equal(protectedHeader.alg, algorithm)
    assert.ok(protectedHeader.kid)
    const published = (await (await fetch(`http://127.0.0.1:${port}/.well-known/jwks.json`)).json()) as { keys: JWK[] }
    assert.equal(published.keys[0]!.kid, protectedHeader.kid)
    // Public halves only.
    for (const key of published.keys) for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(key[secret as keyof JWK], undefined)
  })
}

test('forged tokens are refused: alg none, HS256 MACed with our public key, foreign keys, key-carrying headers', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const app = await buildTestApp(t, { DATABASE_URL: url })
  const db = openDirectDb(t, url)
  const user = await signUp(app)
  assert.deepEqual(await meStatus(app, user.accessToken), [200, undefined])
  const [, claimsPart] = user.accessToken.split('.')
  const claims = JSON.parse(Buffer.from(claimsPart!, 'base64url').toString()) as Record<string, unknown>
  const { kid } = decodeProtectedHeader(user.accessToken)
  const publicJwk = (await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json().keys[0] as JWK
  const row = await db.selectFrom('signing_keys').selectAll().where('kid', '=', kid!).executeTakeFirstOrThrow()
  const ourPrivateKey = await importJWK(JSON.parse(row.private_jwk) as JWK, 'EdDSA')
  const attacker = await generateKeyPair('EdDSA', { extractable: true })
  const attackerJwk = await exportJWK(attacker.publicKey)

  const forged: Record<string, string> = {}
  forged['alg none'] = `${b64({ alg: 'none', typ: 'JWT', kid })}.${claimsPart}.`
  forged['alg None'] = `${b64({ alg: 'None', kid })}.${claimsPart}.`
  const pem = createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string
  for (const [label, secret] of [['pem', pem], ['jwk json', JSON.stringify(publicJwk)], ['raw x', Buffer.from(publicJwk.x!, 'base64url').toString('latin1')]]) {
    forged[`HS256 with public key as ${label}`] = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid }).sign(createSecretKey(Buffer.from(secret!, 'latin1')))
  }
  forged['attacker key, our kid'] = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid }).sign(attacker.privateKey)
  forged['attacker key in jwk header'] = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', jwk: attackerJwk }).sign(attacker.privateKey)
  forged['attacker jku'] = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: 'evil', jku: 'https://evil.example.net/jwks.json' }).sign(attacker.privateKey)
  // Signed with our real key: only the header rule can refuse these.
  forged['our key + jku'] = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid, jku: 'https://evil.example.net/jwks.json' }).sign(ourPrivateKey)
  forged['our key + x5u'] = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid, x5u: 'https://evil.example.net/cert.pem' }).sign(ourPrivateKey)
  forged['our key + jwk'] = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid, jwk: publicJwk }).sign(ourPrivateKey)
  forged['our key, other issuer'] = await new SignJWT({ ...claims, iss: 'https://evil.example.net' }).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid }).sign(ourPrivateKey)
  forged['our key, expired'] = await new SignJWT({ ...claims, exp: Math.floor(Date.now() / 1000) - 10 }).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid }).sign(ourPrivateKey)
  const nowSeconds = Math.floor(Date.now() / 1000)
  forged['our key, other audience'] = await new SignJWT({ ...claims, aud: 'https://other-api.example.net' }).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid }).sign(ourPrivateKey)
  forged['our key, no audience'] = await new SignJWT({ ...claims, aud: undefined }).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid }).sign(ourPrivateKey)
  // Beyond the 30 s skew allowed between clocks (with an exp that is still ahead).
  forged['our key, iat in the future'] = await new SignJWT({ ...claims, iat: nowSeconds + 120, exp: nowSeconds + 900 }).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid }).sign(ourPrivateKey)
  forged['our key, no client_id'] = await new SignJWT({ ...claims, client_id: undefined }).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid }).sign(ourPrivateKey)
  forged['our key, typ JWT'] = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid }).sign(ourPrivateKey)
  forged['tampered claims'] = user.accessToken.replace(claimsPart!, b64({ ...claims, role: 'admin' }))
  // A control: our key with clean headers does verify, so the refusals above are the rules at work.
  const control = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid }).sign(ourPrivateKey)
  assert.deepEqual(await meStatus(app, control), [200, undefined])
  // Within the skew an iat a little ahead is accepted (instances' clocks differ slightly).
  const slightlyAhead = await new SignJWT({ ...claims, iat: nowSeconds + 10, exp: nowSeconds + 900 }).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid }).sign(ourPrivateKey)
  assert.deepEqual(await meStatus(app, slightlyAhead), [200, undefined])

  for (const [label, token] of Object.entries(forged)) {
    assert.deepEqual(await meStatus(app, token), [401, 'invalid_token'], label)
  }
})

test('a JWT_SECRET under 32 bytes stops start-up with one line naming it', async () => {
  assert.throws(() => loadConfig({ JWT_SECRET: 'x'.repeat(31) }), /JWT_SECRET: must be at least 32 bytes/)
  assert.doesNotThrow(() => loadConfig({ JWT_SECRET: 'x'.repeat(32) }))
  const result = await runCli('src/server.ts', [], { JWT_SECRET: 'too-short-secret', DATABASE_URL: 'sqlite::memory:', PORT: '0' })
  assert.equal(result.code, 2)
  assert.equal(result.stderr.trim(), 'Configuration error: JWT_SECRET: must be at least 32 bytes long')
})

test('HS256 with a long JWT_SECRET signs and verifies, and publishes no key', async (t) => {
  const app = await buildTestApp(t, { JWT_SECRET: 'a-secret-that-is-long-enough-0123456789' })
  const user = await signUp(app)
  assert.equal(decodeProtectedHeader(user.accessToken).alg, 'HS256')
  assert.deepEqual(await meStatus(app, user.accessToken), [200, undefined])
  assert.deepEqual((await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json(), { keys: [] })
})

test('keys rotate: old tokens keep verifying, new ones use the new kid, expired retired keys are pruned', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const db = openDirectDb(t, url)
  const before = await buildTestApp(t, { DATABASE_URL: url })
  const oldUser = await signUp(before)
  const oldKid = decodeProtectedHeader(oldUser.accessToken).kid

  const keys = (...args: string[]) => runAdminCli(['keys', ...args], { env: { DATABASE_URL: url } })
  const rotated = await keys('rotate')
  assert.equal(rotated.code, 0, rotated.stderr)
  const newKid = /new signing key (\S+)/.exec(rotated.stdout)?.[1]
  assert.ok(newKid && newKid !== oldKid)

  // Published at once, but not signing yet: verifiers that cached the key set must see it first.
  const meanwhile = await buildTestApp(t, { DATABASE_URL: url })
  assert.equal(decodeProtectedHeader((await signUp(meanwhile)).accessToken).kid, oldKid)
  const pendingKids = (await meanwhile.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json().keys.map((k: JWK) => k.kid)
  assert.deepEqual(pendingKids.sort(), [oldKid, newKid].sort())
  const pending = await keys('list')
  assert.match(pending.stdout, new RegExp(`${newKid} EdDSA created \\S+ pending, signs from \\S+`))
  assert.match(pending.stdout, new RegExp(`${oldKid} EdDSA created \\S+ active until \\S+`))

  // Past the publication lead (JWKS max-age + two maintenance intervals).
  const later = { now: () => new Date(Date.now() + KEY_PUBLICATION_LEAD_MS + 1000) }
  const after = await buildTestApp(t, { DATABASE_URL: url }, { clock: later })
  const newUser = await signUp(after)
  assert.equal(decodeProtectedHeader(newUser.accessToken).kid, newKid)
  assert.deepEqual(await meStatus(after, oldUser.accessToken), [200, undefined], 'a token of the retired key still verifies')
  const kids = (await after.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json().keys.map((k: JWK) => k.kid)
  assert.deepEqual(kids.sort(), [oldKid, newKid].sort())

  assert.doesNotMatch(pending.stdout, /"d"/, 'no private key material is printed')
  const listedJson = await keys('list', '--json')
  assert.equal(listedJson.code, 0, listedJson.stderr)
  const described = JSON.parse(listedJson.stdout).keys as Array<Record<string, unknown>>
  // The CLI runs on the real clock: the new key is still pending there, the old one active until it activates.
  assert.deepEqual(described.map((k) => [k.kid, k.state]).sort(), [[newKid, 'pending'], [oldKid, 'active']].sort())
  for (const key of described) assert.deepEqual(Object.keys(key).sort(), ['activates_at', 'alg', 'created_at', 'kid', 'retired_at', 'state'], 'ids and dates only')

  // Not yet: tokens of the old key may still be valid.
  assert.match((await keys('prune')).stdout, /pruned: 0/)
  // Age the retirement past the access-token lifetime (900 s) and the reload grace.
  await db.updateTable('signing_keys').set({ retired_at: new Date(Date.now() - 3600_000).toISOString() }).where('kid', '=', oldKid!).execute()
  assert.deepEqual(JSON.parse((await keys('prune', '--json')).stdout), { pruned: 1 })
  const fresh = await buildTestApp(t, { DATABASE_URL: url }, { clock: later })
  assert.deepEqual((await fresh.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json().keys.map((k: JWK) => k.kid), [newKid])
  assert.deepEqual(await meStatus(fresh, oldUser.accessToken), [401, 'invalid_token'])
  assert.deepEqual(await meStatus(fresh, newUser.accessToken), [200, undefined])
})

test('the schedule rotates a key older than SIGNING_KEY_ROTATION_DAYS, then prunes it once its tokens expired', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const app = await buildTestApp(t, { DATABASE_URL: url })
  const user = await signUp(app)
  const firstKid = decodeProtectedHeader(user.accessToken).kid
  const db = openDirectDb(t, url)
  const config = loadConfig({ ...TEST_ENV, DATABASE_URL: url, SIGNING_KEY_ROTATION_DAYS: '1' })
  let now = Date.now()
  const clock = { now: () => new Date(now) }
  const signer = await createTokenSigner({ db, config, clock })

  assert.deepEqual(await maintainSigningKeys({ db, config, clock, signer }), { rotated: undefined, pruned: 0 })
  now += 86_400_000
  const due = await maintainSigningKeys({ db, config, clock, signer })
  assert.ok(due.rotated && due.rotated !== firstKid)
  assert.equal(due.pruned, 0)
  // The pending key is not "due" again, and the old key keeps signing until the lead is over.
  now += 60_000
  assert.deepEqual(await maintainSigningKeys({ db, config, clock, signer }), { rotated: undefined, pruned: 0 })
  const sign = async () => decodeProtectedHeader((await signer.signAccessToken({ sub: 'u', sid: 's', role: 'member', email: 'a@b.co', clientId: 'authd', amr: ['pwd'] })).token).kid
  assert.equal(await sign(), firstKid)
  now += KEY_PUBLICATION_LEAD_MS - 60_000
  assert.equal(await sign(), due.rotated)
  // Within the access-token lifetime (+ grace) after its retirement the old key stays.
  now += 900_000
  assert.deepEqual(await maintainSigningKeys({ db, config, clock, signer }), { rotated: undefined, pruned: 0 })
  now += 120_000 + 1000
  assert.deepEqual(await maintainSigningKeys({ db, config, clock, signer }), { rotated: undefined, pruned: 1 })
  assert.deepEqual(signer.jwks().keys.map((k) => k.kid), [due.rotated])
})
