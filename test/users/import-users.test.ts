import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import bcrypt from 'bcryptjs'
import { buildAdminApp } from '../helpers/admin.js'
import { buildTestApp } from '../helpers/build-test-app.js'
import { runAdminCli } from '../helpers/cli.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { PASSWORD, signUp } from '../helpers/factories.js'
import { createTestDatabaseUrl } from '../helpers/test-db.js'

/** `authd-admin import users FILE …`, the built CLI, on one database. */
function importUsers (databaseUrl: string, args: string[]) {
  return runAdminCli(['import', 'users', ...args], { env: { DATABASE_URL: databaseUrl } })
}
// The classic OpenBSD/jBCrypt test vector: "U*U" at cost 5, $2a$.
// As this service (node argon2) writes them: parameters in m, p, t order.
const ARGON2_HASH = '$argon2id$v=19$m=1024,p=1,t=1$B0YXoM6HPn5aNqhYFEV8nA$73JYhS/V+XaqkfloORfYZsjOgp9JvW0pbg27GUnvsjc'
const VECTOR = { password: 'U*U', hash: '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW' }

function tempFile (t: { after: (fn: () => void) => void }, name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'authd-import-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, name)
  writeFileSync(path, content)
  return path
}

function signin (app: Awaited<ReturnType<typeof buildTestApp>>, email: string, password: string) {
  return app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email, password } })
}

test('JSONL import: good rows all kept across batches, bad rows reported by line; bcrypt users sign in and are upgraded to argon2id', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const app = await buildTestApp(t, { DATABASE_URL: url })
  const db = openDirectDb(t, url)
  const existing = await signUp(app, { email: 'taken@example.com' })

  const b2b = bcrypt.hashSync('passlib password one', 4)
  const b2y = bcrypt.hashSync('php password two', 4).replace(/^\$2b\$/, '$2y$')
  const lines = [
    JSON.stringify({ email: 'vector@example.com', username: 'vector', hash: VECTOR.hash }), // 1
    JSON.stringify({ email: ' Passlib@Example.com ', username: 'passlib_user', hash: b2b, name: 'From passlib' }), // 2
    '', // 3: blank, skipped
    JSON.stringify({ email: 'php@example.com', username: 'php.user', password_hash: b2y }), // 4
    JSON.stringify({ email: 'not-an-email', username: 'someone', hash: b2b }), // 5
    '{"email": "broken@example.com", "username": ', // 6
    JSON.stringify({ email: 'md5@example.com', username: 'md5user', hash: '5f4dcc3b5aa765d61d8327deb882cf99' }), // 7
    JSON.stringify({ email: 'php@example.com', username: 'another', hash: b2b }), // 8: duplicate in file
    JSON.stringify({ email: 'TAKEN@example.com', username: 'fresh_name', hash: b2b }), // 9: already registered
    JSON.stringify({ email: 'nohash@example.com', username: 'nohash' }), // 10
    JSON.stringify({ email: 'bad-user@example.com', username: 'x', hash: b2b }), // 11
    JSON.stringify({ email: 'last@example.com', username: 'last_one', hash: ARGON2_HASH }), // 12
    '[1, 2, 3]' // 13
  ]
  const path = tempFile(t, 'users.jsonl', lines.join('\n') + '\n')
  const before = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()

  const result = await importUsers(url, [path, '--batch-size', '2'])
  assert.equal(result.code, 1, result.stderr)
  assert.equal(result.stdout.trim(), 'imported 4, rejected 8')
  assert.deepEqual(result.stderr.trim().split('\n'), [
    'line 5: email: must match format "email"',
    'line 6: not valid JSON',
    'line 7: hash: unsupported hash format (bcrypt $2a$/$2b$/$2y$ or argon2 expected)',
    'line 8: email: duplicate in the file',
    'line 9: Email already registered',
    "line 10: hash: must have required property 'hash'",
    'line 11: username: must NOT have fewer than 3 characters',
    'line 13: not a JSON object'
  ])
  assert.doesNotMatch(result.stderr, /\$2[aby]\$\d\d\$/, 'no hash is echoed')
  const after = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  assert.equal(Number(after.n) - Number(before.n), 4)
  const taken = await db.selectFrom('users').select('password_hash').where('email', '=', 'taken@example.com').executeTakeFirstOrThrow()
  assert.match(taken.password_hash, /^\$argon2id\$/, 'an existing account is never overwritten')
  assert.equal(existing.email, 'taken@example.com')

  for (const [email, password, prefix] of [
    ['vector@example.com', VECTOR.password, '$2a$'],
    ['passlib@example.com', 'passlib password one', '$2b$'],
    ['php@example.com', 'php password two', '$2y$']
  ] as const) {
    const hashOf = async () => (await db.selectFrom('users').select('password_hash').where('email', '=', email).executeTakeFirstOrThrow()).password_hash
    assert.ok((await hashOf()).startsWith(prefix))
    // A wrong password neither signs in nor touches the hash.
    assert.equal((await signin(app, email, 'wrong password')).statusCode, 401)
    assert.ok((await hashOf()).startsWith(prefix))
    const ok = await signin(app, email, password)
    assert.equal(ok.statusCode, 200, `${email}: ${ok.body}`)
    assert.match(await hashOf(), /^\$argon2id\$/, `${email} upgraded`)
    assert.equal((await signin(app, email, password)).statusCode, 200, 'and still signs in with the upgraded hash')
  }
})

test('CSV import with a header row, quoted fields and line numbers counting the header', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const app = await buildTestApp(t, { DATABASE_URL: url })
  const hash = bcrypt.hashSync('csv user password', 4)
  const csv = [
    'email,username,hash,name',
    `csv1@example.com,csv_one,${hash},"Smith, Jane"`,
    'csv2@example.com,csv_two,,No Hash',
    `csv3@example.com,csv_three,${hash},`
  ].join('\r\n')
  const path = tempFile(t, 'users.csv', '\uFEFF' + csv)
  const result = await importUsers(url, [path])
  assert.equal(result.stdout.trim(), 'imported 2, rejected 1')
  assert.equal(result.stderr.trim(), "line 3: hash: must have required property 'hash'")
  const ok = await signin(app, 'csv1@example.com', 'csv user password')
  assert.equal(ok.statusCode, 200)
  assert.equal(ok.json().user.name, 'Smith, Jane')
  assert.equal((await signin(app, 'csv3@example.com', 'csv user password')).statusCode, 200)
})

test('a usage error changes nothing', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const result = await importUsers(url, [])
  assert.equal(result.code, 2)
  assert.equal(result.stderr, 'Error: import users needs exactly one file\n')
})

test('import validation is the admin API\'s: the same rows refused with the same field errors', async (t) => {
  const { app, databaseUrl, admin } = await buildAdminApp(t)
  const hash = bcrypt.hashSync('parity password', 4)
  const good = { email: 'parity@example.com', username: 'parity_user', name: 'Parity' }
  const bad: Array<Record<string, unknown>> = [
    { ...good, email: 'not-an-email' },
    { ...good, email: `${'a'.repeat(250)}@example.com` },
    { ...good, username: 'has space' },
    { ...good, username: 'x'.repeat(33) },
    { ...good, name: 'n'.repeat(101) },
    // A name is one line of text: no control characters, no line or paragraph separators.
    { ...good, name: 'Parity\nDear customer, your account is locked' },
    { ...good, name: 'Parity\u2028Second paragraph' },
    { ...good, role: 'no_such_role' },
    { ...good, role: 'r'.repeat(33) },
    { ...good, is_verified: 'maybe' },
    { email: good.email, name: good.name }
  ]
  const lines = bad.map((row) => JSON.stringify({ ...row, hash }))
  const path = tempFile(t, 'parity.jsonl', lines.join('\n') + '\n')
  const result = await runAdminCli(['import', 'users', path, '--json'], { env: { DATABASE_URL: databaseUrl } })
  assert.equal(result.code, 1, result.stderr)
  const report = JSON.parse(result.stdout) as { imported: number, rejected: Array<{ line: number, code: string, reason: string }> }
  assert.equal(report.imported, 0)
  assert.deepEqual(report.rejected.map((r) => r.line), bad.map((_, i) => i + 1))

  for (const [i, row] of bad.entries()) {
    const api = await app.inject({ method: 'POST', url: '/api/v1/users', headers: admin.headers, payload: { ...row, password: PASSWORD } })
    assert.equal(api.statusCode, 422, `row ${i + 1}: ${api.body}`)
    const body = api.json() as { code: string, errors: Array<{ field: string, message: string }> }
    assert.equal(report.rejected[i]!.code, body.code, `row ${i + 1}`)
    assert.equal(report.rejected[i]!.reason, body.errors.map((e) => `${e.field}: ${e.message}`).join('; '), `row ${i + 1}`)
  }
  const list = await app.inject({ method: 'GET', url: '/api/v1/users?search=parity', headers: admin.headers })
  assert.equal(list.json().total, 0, 'nothing was created by either path')
})

test('each imported user gets an admin.user.create audit event, written with its batch; rejected rows get none', async (t) => {
  const { app, databaseUrl, admin } = await buildAdminApp(t)
  const db = openDirectDb(t, databaseUrl)
  const hash = bcrypt.hashSync('audited password', 4)
  const taken = await signUp(app)
  const rows = [
    { email: 'audit1@example.com', username: 'audit_one', hash, is_verified: true }, // 1
    { email: 'audit2@example.com', username: 'audit_two', hash, role: 'admin' }, // 2
    { email: taken.email, username: 'audit_taken', hash }, // 3: already registered
    { email: 'audit4@example.com', username: 'x', hash }, // 4: invalid
    { email: 'audit5@example.com', username: 'audit_five', hash: 'plain text' } // 5: not a hash
  ]
  const path = tempFile(t, 'audited.jsonl', rows.map((r) => JSON.stringify(r)).join('\n'))
  const before = Number((await db.selectFrom('audit_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)
  const result = await runAdminCli(['import', 'users', path, '--batch-size', '3', '--json'], { env: { DATABASE_URL: databaseUrl } })
  assert.equal(result.code, 1, result.stderr)
  const report = JSON.parse(result.stdout)
  assert.equal(report.imported, 2, result.stdout)
  assert.deepEqual(report.rejected.map((r: { line: number, code: string }) => [r.line, r.code]), [[3, 'email_taken'], [4, 'validation_error'], [5, 'validation_error']])

  // Read back as a superuser would, through the audit API.
  const events = await app.inject({ method: 'GET', url: '/api/v1/audit-events?type=admin.user.create&limit=100', headers: admin.headers })
  assert.equal(events.statusCode, 200, events.body)
  const items = events.json().items as Array<{ user_id: string, actor_id: string | null, user_agent: string | null, details: Record<string, unknown> }>
  const users = await app.inject({ method: 'GET', url: '/api/v1/users?search=audit&limit=100', headers: admin.headers })
  const byEmail = new Map((users.json().items as Array<{ id: string, email: string }>).map((u) => [u.email, u.id]))
  assert.equal(byEmail.size, 2)
  assert.equal(items.length, 2, 'one event per created user, none for the rejected rows')
  const eventOf = (email: string) => items.find((e) => e.user_id === byEmail.get(email))
  assert.deepEqual(eventOf('audit1@example.com')?.details, { role: 'member', is_active: true, is_superuser: false, is_verified: true, via: 'cli', import: true })
  assert.deepEqual(eventOf('audit2@example.com')?.details, { role: 'admin', is_active: true, is_superuser: false, is_verified: false, via: 'cli', import: true })
  for (const event of items) {
    assert.equal(event.actor_id, null, 'the operator, not a user')
    assert.equal(event.user_agent, 'authd-admin')
    assert.doesNotMatch(JSON.stringify(event), /\$2[aby]\$/, 'no hash in the trail')
  }
  const after = Number((await db.selectFrom('audit_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)
  assert.equal(after - before, 2)
})
