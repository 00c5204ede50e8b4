import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import bcrypt from 'bcryptjs'
import { buildTestApp } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { signUp } from '../helpers/factories.js'
import { createTestDatabaseUrl } from '../helpers/test-db.js'
import { runCli } from '../tokens/helpers.js'

const CLI = 'src/cli/import-users.ts'
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

  const result = await runCli(CLI, [path, '--batch-size', '2'], { DATABASE_URL: url })
  assert.equal(result.code, 1, result.stderr)
  assert.equal(result.stdout.trim(), 'imported 4, rejected 8')
  assert.deepEqual(result.stderr.trim().split('\n'), [
    'line 5: invalid email',
    'line 6: not valid JSON',
    'line 7: unsupported hash format (bcrypt $2a$/$2b$/$2y$ or argon2 expected)',
    'line 8: duplicate email in file',
    'line 9: email or username already exists',
    'line 10: missing hash',
    'line 11: invalid username (3-32 of A-Z a-z 0-9 _ . -)',
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
  const result = await runCli(CLI, [path], { DATABASE_URL: url })
  assert.equal(result.stdout.trim(), 'imported 2, rejected 1')
  assert.equal(result.stderr.trim(), 'line 3: missing hash')
  const ok = await signin(app, 'csv1@example.com', 'csv user password')
  assert.equal(ok.statusCode, 200)
  assert.equal(ok.json().user.name, 'Smith, Jane')
  assert.equal((await signin(app, 'csv3@example.com', 'csv user password')).statusCode, 200)
})

test('a usage error changes nothing', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const result = await runCli(CLI, [], { DATABASE_URL: url })
  assert.equal(result.code, 64)
  assert.match(result.stderr, /usage: npm run import-users/)
})
