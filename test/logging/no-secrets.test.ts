import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp } from '../helpers/build-test-app.js'
import { bearer, PASSWORD, signUp } from '../helpers/factories.js'

test('logs carry one line per request and never a password, hash, token or cookie', async (t) => {
  const lines: string[] = []
  const app = await buildTestApp(t, { LOG_LEVEL: 'trace' }, { logStream: { write: (line) => { lines.push(line) } } })
  app.get('/test-explodes', async () => { throw new Error('boom') })
  const user = await signUp(app)
  const signin = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: user.email, password: PASSWORD } })
  const { access_token: access, refresh_token: refresh } = signin.json()
  await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: user.email, password: 'a wrong password here' } })
  await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { ...bearer(access), cookie: `access_token=${access}` } })
  await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', cookies: { refresh_token: refresh } })
  await app.inject({ method: 'POST', url: '/api/v1/auth/change-password', headers: bearer(user.accessToken), payload: { old_password: PASSWORD, new_password: 'the next long passphrase' } })
  await app.inject({ method: 'GET', url: '/test-explodes', headers: bearer(access) })

  const log = lines.join('')
  const secrets = [PASSWORD, 'a wrong password here', 'the next long passphrase', access, refresh, user.accessToken, user.refreshToken, refresh.split('.')[1]!, '$argon2id$']
  for (const secret of secrets) assert.ok(!log.includes(secret), `log contains a secret: ${secret.slice(0, 12)}…`)

  const requestLines = lines.map((l) => JSON.parse(l)).filter((entry) => entry.msg === 'request')
  assert.equal(requestLines.length, 7, 'one line per request')
  for (const entry of requestLines) {
    assert.ok(entry.reqId && entry.method && entry.url && entry.status, JSON.stringify(entry))
  }
  assert.ok(lines.some((l) => l.includes('unhandled error')), 'the 500 is logged with its request id')
})
