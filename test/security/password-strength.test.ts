import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test, type TestContext } from 'node:test'
import { buildAdminApp } from '../helpers/admin.js'
import { buildTestApp } from '../helpers/build-test-app.js'
import { bearer, PASSWORD, signUp, uniqueEmail, uniqueUsername } from '../helpers/factories.js'
import { captureLog } from '../helpers/smtp-server.js'

const AUTH = '/api/v1/auth'
const signup = (app: Awaited<ReturnType<typeof buildTestApp>>, password: string, fields: { email?: string, username?: string } = {}) =>
  app.inject({ method: 'POST', url: `${AUTH}/signup`, payload: { email: fields.email ?? uniqueEmail(), username: fields.username ?? uniqueUsername(), password } })

test('guessable passwords are 422 weak_password: password123, keyboard walks, the product and host names, the user\'s own words', async (t) => {
  const app = await buildTestApp(t, { PUBLIC_URL: 'https://login.acmecorp.example' })
  const refused = ['password123', 'qwertyuiop123', 'Summer2024!', 'iloveyou2', 'authd2024!', 'acmecorp2024', 'p@ssw0rd99']
  for (const password of refused) {
    const answer = await signup(app, password)
    assert.equal(answer.statusCode, 422, password)
    assert.equal(answer.json().code, 'weak_password')
    assert.equal(answer.json().errors[0].field, 'password')
  }
  // Context words: reversed, the user's own username and email local part make a password
  // guessable that is strong for anyone else.
  const mine = await signup(app, 'xalbrozquinte', { username: 'zorblax', email: 'etniuq@example.com' })
  assert.equal(mine.statusCode, 422)
  assert.equal(mine.json().errors[0].message, 'Password is too easy to guess')
  assert.equal((await signup(app, 'xalbrozquinte')).statusCode, 201, 'for another user it is fine')
  // The blocklist keeps its own message.
  assert.equal((await signup(app, 'sunshine')).json().errors[0].message, 'Password is too common')
  // No composition rules: long lowercase passphrases are fine.
  for (const password of ['correct horse battery staple', 'alllowercaseletters', 'walrus quietly ate my toaster']) {
    assert.equal((await signup(app, password)).statusCode, 201, password)
  }
})

test('every entry point applies it: change-password and the admin API', async (t) => {
  const { app, admin } = await buildAdminApp(t)
  const user = await signUp(app)
  const change = await app.inject({ method: 'POST', url: `${AUTH}/change-password`, headers: bearer(user.accessToken), payload: { old_password: PASSWORD, new_password: 'password123' } })
  assert.equal(change.statusCode, 422)
  assert.equal(change.json().code, 'weak_password')
  assert.equal(change.json().errors[0].field, 'new_password')
  const created = await app.inject({ method: 'POST', url: '/api/v1/users', headers: admin.headers, payload: { email: uniqueEmail(), username: uniqueUsername(), password: 'Summer2024!' } })
  assert.equal(created.statusCode, 422)
  assert.equal(created.json().code, 'weak_password')
  const patched = await app.inject({ method: 'PATCH', url: `/api/v1/users/${user.userId}`, headers: admin.headers, payload: { password: 'qwertyuiop123' } })
  assert.equal(patched.statusCode, 422)
  assert.equal(patched.json().code, 'weak_password')
})

interface RangeServer { url: string, requests: Array<{ path: string, headers: IncomingHttpHeaders }> }

/** A local server speaking the Pwned Passwords range API for a given set of passwords. */
async function startRangeServer (t: TestContext, breached: string[], behaviour: 'answer' | 'fail' | 'hang' = 'answer'): Promise<RangeServer> {
  const hashes = breached.map((p) => createHash('sha1').update(p.normalize('NFKC'), 'utf8').digest('hex').toUpperCase())
  const requests: RangeServer['requests'] = []
  const server = createServer((request, response) => {
    requests.push({ path: request.url ?? '', headers: request.headers })
    if (behaviour === 'hang') return
    if (behaviour === 'fail') { response.writeHead(503).end(); return }
    const prefix = /^\/range\/([0-9A-F]{5})$/.exec(request.url ?? '')?.[1]
    if (!prefix) { response.writeHead(400).end(); return }
    const lines = hashes.filter((h) => h.startsWith(prefix)).map((h) => `${h.slice(5)}:42`)
    // Padding entries, as the real API sends with Add-Padding: count 0, never a match.
    lines.push(`${'0'.repeat(35)}:0`, `${'F'.repeat(35)}:0`)
    response.writeHead(200, { 'content-type': 'text/plain' }).end(lines.join('\r\n'))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests }
}

test('BREACHED_PASSWORDS=hibp: a breached password is 422; only a 5-character SHA-1 prefix leaves the process', async (t) => {
  const breachedPassword = 'a breached but long passphrase 77'
  const range = await startRangeServer(t, [breachedPassword])
  const app = await buildTestApp(t, { BREACHED_PASSWORDS: 'hibp', BREACHED_PASSWORDS_API_URL: range.url })
  const refused = await signup(app, breachedPassword)
  assert.equal(refused.statusCode, 422)
  assert.equal(refused.json().code, 'weak_password')
  assert.equal(refused.json().errors[0].message, 'Password has appeared in a data breach')
  assert.equal((await signup(app, PASSWORD)).statusCode, 201)
  assert.equal(range.requests.length, 2)
  const sha1 = createHash('sha1').update(breachedPassword).digest('hex').toUpperCase()
  assert.equal(range.requests[0]!.path, `/range/${sha1.slice(0, 5)}`)
  assert.equal(range.requests[0]!.headers['add-padding'], 'true')
  for (const request of range.requests) assert.match(request.path, /^\/range\/[0-9A-F]{5}$/)
  // A password refused locally costs no look-up.
  assert.equal((await signup(app, 'password123')).statusCode, 422)
  assert.equal(range.requests.length, 2)
})

test('BREACHED_PASSWORDS=hibp fails open, with a metric and a warning, when the API errs or does not answer in time', async (t) => {
  for (const behaviour of ['fail', 'hang'] as const) {
    const range = await startRangeServer(t, [PASSWORD], behaviour)
    const log = captureLog()
    const app = await buildTestApp(t, { BREACHED_PASSWORDS: 'hibp', BREACHED_PASSWORDS_API_URL: range.url, BREACHED_PASSWORDS_TIMEOUT_MS: '300', LOG_LEVEL: 'warn' }, { logStream: log.stream })
    const before = await errorCount(app)
    const started = Date.now()
    const answer = await signup(app, PASSWORD)
    assert.equal(answer.statusCode, 201, `${behaviour}: accepted on the local checks`)
    assert.ok(Date.now() - started < 5000, 'bounded by the timeout')
    assert.equal(range.requests.length, 1)
    assert.equal(await errorCount(app), before + 1)
    assert.match(log.text(), /breached-password check unavailable/)
  }
})

async function errorCount (app: Awaited<ReturnType<typeof buildTestApp>>): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body
  const line = text.split('\n').find((l) => l.startsWith('authd_breached_password_checks_total{outcome="error"}'))
  return line ? Number(line.split(' ')[1]) : 0
}
