import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { ConfigError, loadConfig } from '../../src/config/index.js'
import { createSecretBox } from '../../src/lib/secret-box.js'
import { buildTestAppWithDatabase } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { bearer, PASSWORD, signUp } from '../helpers/factories.js'
import { fakeClock } from '../helpers/fake-clock.js'
import { mfaTokenFor, verify } from '../helpers/mfa.js'
import { totpCode } from '../helpers/totp.js'
import { runCli } from '../tokens/helpers.js'

test('DATA_ENCRYPTION_KEY: 32 bytes as hex or base64; anything else is refused naming the variable', () => {
  const key = randomBytes(32)
  assert.equal(loadConfig({ DATA_ENCRYPTION_KEY: key.toString('hex') }).mfa.dataEncryptionKey, key.toString('base64'))
  assert.equal(loadConfig({ DATA_ENCRYPTION_KEY: key.toString('base64') }).mfa.dataEncryptionKey, key.toString('base64'))
  assert.equal(loadConfig({ DATA_ENCRYPTION_KEY: key.toString('base64url') }).mfa.dataEncryptionKey, key.toString('base64'))
  assert.equal(loadConfig({}).mfa.dataEncryptionKey, undefined)
  for (const bad of ['short', randomBytes(16).toString('hex'), randomBytes(31).toString('base64'), `${key.toString('hex')}00`]) {
    assert.throws(() => loadConfig({ DATA_ENCRYPTION_KEY: bad }), (error: unknown) => error instanceof ConfigError && error.variable === 'DATA_ENCRYPTION_KEY')
  }
})

test('a bad DATA_ENCRYPTION_KEY stops the server at start-up with one line and exit code 2', async () => {
  const result = await runCli('src/server.ts', [], { DATA_ENCRYPTION_KEY: 'not-a-key', DATABASE_URL: 'sqlite::memory:' })
  assert.equal(result.code, 2)
  assert.equal(result.stderr.trim().split('\n').length, 1)
  assert.match(result.stderr, /DATA_ENCRYPTION_KEY/)
  assert.ok(!result.stderr.includes('not-a-key'), 'the bad value is not echoed')
})

test('AES-256-GCM secret box: round trip; tampering, another owner or another key gives nothing', () => {
  const box = createSecretBox(randomBytes(32))
  const sealed = box.seal('JBSWY3DPEHPK3PXP', 'user-1')
  assert.match(sealed, /^v1\./)
  assert.ok(!sealed.includes('JBSWY3DPEHPK3PXP'))
  assert.notEqual(box.seal('JBSWY3DPEHPK3PXP', 'user-1'), sealed, 'a fresh IV each time')
  assert.equal(box.open(sealed, 'user-1'), 'JBSWY3DPEHPK3PXP')
  assert.equal(box.open(sealed, 'user-2'), undefined)
  const [v, iv, ct, tag] = sealed.split('.')
  const flipped = Buffer.from(ct!, 'base64url')
  flipped[0] = flipped[0]! ^ 1
  assert.equal(box.open([v, iv, flipped.toString('base64url'), tag].join('.'), 'user-1'), undefined)
  assert.equal(createSecretBox(randomBytes(32)).open(sealed, 'user-1'), undefined)
  assert.equal(createSecretBox(undefined).open(sealed, 'user-1'), undefined)
  // Stored before a key was configured: still readable once it is.
  assert.equal(box.open(createSecretBox(undefined).seal('ABC', 'user-1'), 'user-1'), 'ABC')
})

test('with DATA_ENCRYPTION_KEY the stored TOTP secret is ciphertext, and two-step sign-in works', async (t) => {
  const clock = fakeClock(new Date(Math.floor(Date.now() / 30_000) * 30_000 + 5_000))
  const { app, databaseUrl } = await buildTestAppWithDatabase(t, { DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64') }, { clock })
  const db = openDirectDb(t, databaseUrl)
  const user = await signUp(app)
  const { secret } = (await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/setup', headers: bearer(user.accessToken), payload: { password: PASSWORD } })).json() as { secret: string }
  const row = await db.selectFrom('mfa_totp').selectAll().where('user_id', '=', user.userId).executeTakeFirstOrThrow()
  assert.match(row.secret, /^v1\./)
  assert.ok(!row.secret.includes(secret))
  const confirm = await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/confirm', headers: bearer(user.accessToken), payload: { code: totpCode(secret, clock.now()) } })
  assert.equal(confirm.statusCode, 200)
  clock.advance(30)
  assert.equal((await verify(app, await mfaTokenFor(app, user.email, PASSWORD), totpCode(secret, clock.now()))).statusCode, 200)
})
