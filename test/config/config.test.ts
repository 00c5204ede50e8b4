import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { ConfigError, loadConfig } from '../../src/config/index.js'

test('defaults follow the contract', () => {
  const config = loadConfig({})
  assert.equal(config.port, 8000)
  assert.equal(config.host, '127.0.0.1')
  assert.equal(config.databaseUrl, 'sqlite:./data/auth.db')
  // The public URL is where it listens, so /docs and the CSRF origin agree with the start-up
  // line; localhost names the same loopback host and is allowed too.
  assert.equal(config.publicUrl, 'http://127.0.0.1:8000')
  assert.deepEqual(config.allowedOrigins, ['http://127.0.0.1:8000', 'http://localhost:8000'])
  assert.equal(config.tokens.issuer, 'http://127.0.0.1:8000')
  assert.equal(config.tokens.audience, 'http://127.0.0.1:8000')
  assert.equal(config.tokens.defaultClientId, 'authd')
  assert.equal(config.cookieSecure, false)
  assert.equal(config.tokens.accessTtlSeconds, 900)
  assert.equal(config.tokens.refreshTtlSeconds, 1_209_600)
  assert.equal(config.tokens.algorithm, 'EdDSA')
  assert.equal(config.password.minLength, 8)
  assert.equal(config.rateLimits, true)
  assert.equal(config.mail.from, 'no-reply@localhost')
  assert.ok(Object.isFrozen(config.tokens))
})

test('https public URL makes cookies Secure; ALLOWED_ORIGINS is parsed to origins', () => {
  const config = loadConfig({ PUBLIC_URL: 'https://auth.example.com/', ALLOWED_ORIGINS: 'https://app.example.com, https://admin.example.com/path' })
  assert.equal(config.cookieSecure, true)
  assert.deepEqual(config.allowedOrigins, ['https://app.example.com', 'https://admin.example.com'])
})

test('bad values name their variable', () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ ACCESS_TOKEN_TTL: '-5' }, 'ACCESS_TOKEN_TTL'],
    [{ REFRESH_TOKEN_TTL: '0' }, 'REFRESH_TOKEN_TTL'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ PUBLIC_URL: 'not a url' }, 'PUBLIC_URL'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL'],
    [{ SMTP_URL: 'ftp://x' }, 'SMTP_URL'],
    [{ JWT_SECRET: 'too short' }, 'JWT_SECRET'],
    [{ PASSWORD_MIN_LENGTH: '7' }, 'PASSWORD_MIN_LENGTH'],
    [{ PASSWORD_MIN_LENGTH: '65' }, 'PASSWORD_MIN_LENGTH'],
    [{ RATE_LIMITS: 'maybe' }, 'RATE_LIMITS'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ TRUST_PROXY: 'everyone' }, 'TRUST_PROXY'],
    [{ SIGNUP_ENUMERATION_SAFE: 'perhaps' }, 'SIGNUP_ENUMERATION_SAFE'],
    [{ JWT_AUDIENCE: 'a, b' }, 'JWT_AUDIENCE'],
    [{ OAUTH_DEFAULT_CLIENT_ID: 'has space' }, 'OAUTH_DEFAULT_CLIENT_ID']
  ]
  for (const [env, variable] of cases) {
    assert.throws(() => loadConfig(env), (error: unknown) => error instanceof ConfigError && error.variable === variable, JSON.stringify(env))
  }
})

test('the default public URL follows the listen address; an explicit one allows only its origin', () => {
  assert.equal(loadConfig({ HOST: '0.0.0.0', PORT: '9000' }).publicUrl, 'http://127.0.0.1:9000')
  assert.equal(loadConfig({ HOST: '::', PORT: '9000' }).publicUrl, 'http://[::1]:9000')
  const explicit = loadConfig({ PUBLIC_URL: 'http://localhost:8000' })
  assert.deepEqual(explicit.allowedOrigins, ['http://localhost:8000'])
  assert.equal(loadConfig({ JWT_ISSUER: 'https://id.example.com', JWT_AUDIENCE: 'https://api.example.com' }).tokens.audience, 'https://api.example.com')
})

test('a 32-byte JWT_SECRET selects HS256', () => {
  const config = loadConfig({ JWT_SECRET: 'x'.repeat(32) })
  assert.equal(config.tokens.algorithm, 'HS256')
})

test('the server refuses to start on a bad value: one line naming the variable, exit code 2', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { PATH: process.env.PATH, ACCESS_TOKEN_TTL: '-1' },
    encoding: 'utf8',
    timeout: 30_000
  })
  assert.equal(result.status, 2)
  const lines = result.stderr.trim().split('\n')
  assert.equal(lines.length, 1, result.stderr)
  assert.match(lines[0]!, /ACCESS_TOKEN_TTL/)
  assert.doesNotMatch(result.stderr, /at .*\.ts:\d+/, 'no stack trace')
})
