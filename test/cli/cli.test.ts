import { randomBytes } from 'node:crypto'
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ADMIN_PASSWORD, signIn } from '../helpers/admin.js'
import { type CliResult, runAdminCli } from '../helpers/cli.js'
import { buildTestApp, waitUntilReady } from '../helpers/build-test-app.js'
import { PASSWORD, uniqueEmail } from '../helpers/factories.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { createTestDatabaseUrl } from '../helpers/test-db.js'

/** The built CLI on one database, password (if any) on stdin. */
function cli (databaseUrl: string, args: string[], input = '', env: Record<string, string> = {}): Promise<CliResult> {
  return runAdminCli(args, { env: { ...env, DATABASE_URL: databaseUrl }, stdin: input })
}

function assertOneLineError (result: CliResult, code: number, pattern: RegExp): void {
  assert.equal(result.code, code, result.stderr)
  assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr)
  assert.match(result.stderr.trim(), pattern)
  assert.doesNotMatch(result.stderr, /\n\s+at /)
}

test('cli: migrate, create a superuser from stdin, who can then use the admin API', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const migrated = await cli(url, ['migrate'])
  assert.equal(migrated.code, 0, migrated.stderr)
  assert.match(migrated.stdout, /Up 0004_user_search: Success/)
  const again = await cli(url, ['migrate'])
  assert.equal(again.stdout.trim(), 'Already up to date')
  const down = await cli(url, ['migrate', 'down'])
  assert.equal(down.code, 0, down.stderr)
  assert.match(down.stdout, /^Down 0007_mfa: Success\n$/)
  const up = await cli(url, ['migrate', 'up'])
  assert.match(up.stdout, /^Up 0007_mfa: Success\n$/, up.stderr)

  const email = uniqueEmail('Ops')
  const created = await cli(url, ['users', 'create', '--email', email, '--username', 'ops_admin', '--superuser', '--name', 'Ops'], `${ADMIN_PASSWORD}\n`)
  assert.equal(created.code, 0, created.stderr)
  assert.match(created.stdout, /^Created .* role=admin active=true superuser=true\n$/)
  assert.ok(!created.stdout.includes(ADMIN_PASSWORD) && !created.stderr.includes(ADMIN_PASSWORD))

  const app = await buildTestApp(t, { DATABASE_URL: url })
  const admin = await signIn(app, email.toLowerCase(), ADMIN_PASSWORD)
  const list = await app.inject({ method: 'GET', url: '/api/v1/users', headers: admin.headers })
  assert.equal(list.statusCode, 200)
  assert.equal(list.json().items[0].name, 'Ops')
})

test('cli: errors are one line with the exit code of their kind, and change nothing', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const db = openDirectDb(t, url)
  const email = uniqueEmail()
  assert.equal((await cli(url, ['users', 'create', '--email', email, '--username', 'first_user'], `${PASSWORD}\n`)).code, 0)
  const counts = async () => ({
    users: Number((await db.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n),
    audit: Number((await db.selectFrom('audit_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)
  })
  const before = await counts()

  const cases: Array<[string[], string, number, RegExp]> = [
    [['users', 'create', '--email', email, '--username', 'other_user'], `${PASSWORD}\n`, 1, /^Error: Email already registered$/],
    [['users', 'create', '--email', uniqueEmail(), '--username', 'FIRST_USER'], `${PASSWORD}\n`, 1, /^Error: Username already taken$/],
    [['users', 'create', '--email', uniqueEmail(), '--username', 'weak_user'], 'password\n', 1, /^Error: Password is too common$/],
    [['users', 'create', '--email', uniqueEmail(), '--username', 'no_password'], '', 1, /^Error: Invalid input: password: No password on standard input$/],
    [['users', 'create', '--email', uniqueEmail(), '--username', 'x'], `${PASSWORD}\n`, 1, /^Error: Invalid input: username/],
    [['users', 'create', '--email', 'not-an-email', '--username', 'bad_email'], `${PASSWORD}\n`, 1, /^Error: Invalid input: email: must match format "email"$/],
    [['users', 'create', '--email', uniqueEmail(), '--username', 'role_user', '--role', 'nope'], `${PASSWORD}\n`, 1, /^Error: Invalid input: role: Unknown role$/],
    [['users', 'create', '--username', 'no_email'], `${PASSWORD}\n`, 2, /^Error: users create needs --email and --username$/],
    [['users', 'deactivate', 'nobody@example.com'], '', 1, /^Error: User not found$/],
    [['frobnicate'], '', 2, /^Error: Unknown command "frobnicate"/],
    [['create-user', '--email', uniqueEmail()], `${PASSWORD}\n`, 2, /^Error: Unknown command "create-user": it is now `users create`/],
    [['users', 'list', '--bogus'], '', 2, /^Error: Unknown option '--bogus'/],
    [['users', 'list', '--limit', 'many'], '', 2, /^Error: --limit must be a whole number/]
  ]
  // Independent failures: run side by side.
  const results = await Promise.all(cases.map(([args, input]) => cli(url, args, input)))
  for (const [i, [args, , code, pattern]] of cases.entries()) {
    assertOneLineError(results[i]!, code, pattern)
    assert.equal(results[i]!.stdout, '', args.join(' '))
  }
  assertOneLineError(await cli('mysql://localhost/x', ['users', 'list']), 2, /^Configuration error: DATABASE_URL: /)
  assert.deepEqual(await counts(), before, 'no user and no audit event came of any failure')

  const listed = await cli(url, ['users', 'list', '--json'])
  assert.equal(listed.code, 0, listed.stderr)
  assert.equal(JSON.parse(listed.stdout).total, 1)
})

test('cli: set-password, deactivate/activate, promote/demote, list and search act on the same database as the server', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const adminEmail = uniqueEmail('root')
  const app = await buildTestApp(t, { DATABASE_URL: url, ADMIN_EMAIL: adminEmail, ADMIN_PASSWORD })
  const email = uniqueEmail('carol')
  assert.equal((await cli(url, ['users', 'create', '--email', email, '--username', 'carol_cli', '--name', 'Carol Cli'], `${PASSWORD}\n`)).code, 0)

  const newPassword = 'a new operator-set passphrase 3'
  const set = await cli(url, ['users', 'set-password', email], `${newPassword}\n`)
  assert.equal(set.code, 0, set.stderr)
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email, password: PASSWORD } })).statusCode, 401)
  const carol = await signIn(app, email, newPassword)

  const deactivated = await cli(url, ['users', 'deactivate', email])
  assert.equal(deactivated.code, 0, deactivated.stderr)
  assert.match(deactivated.stdout, /active=false/)
  const refused = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email, password: newPassword } })
  assert.equal(refused.statusCode, 403)
  assert.equal(refused.json().code, 'inactive_user')
  const activated = await cli(url, ['users', 'activate', carol.id])
  assert.equal(activated.code, 0, activated.stderr)

  const promotedOut = await cli(url, ['users', 'promote', email])
  assert.match(promotedOut.stdout, /role=admin active=true superuser=true/, promotedOut.stderr)
  const promoted = await signIn(app, email, newPassword)
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/users', headers: promoted.headers })).statusCode, 200)
  const demotedOut = await cli(url, ['users', 'demote', email])
  assert.match(demotedOut.stdout, /role=member active=true superuser=false/, demotedOut.stderr)
  const demoted = await signIn(app, email, newPassword)
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/users', headers: demoted.headers })).statusCode, 403)

  // The primary admin can be repaired but not disabled.
  assertOneLineError(await cli(url, ['users', 'deactivate', adminEmail]), 1, /^Error: The primary admin cannot be deactivated, demoted or deleted$/)
  assertOneLineError(await cli(url, ['users', 'demote', adminEmail]), 1, /primary admin/)
  assert.equal((await cli(url, ['users', 'set-password', adminEmail], 'a recovered primary passphrase 8\n')).code, 0)
  await signIn(app, adminEmail, 'a recovered primary passphrase 8')

  const found = await cli(url, ['users', 'search', 'CAROL'])
  assert.equal(found.code, 0, found.stderr)
  assert.match(found.stdout, new RegExp(email.replace(/[.+]/g, '\\$&')))
  assert.match(found.stdout, /1 of 1 user\(s\)/)
  const all = await cli(url, ['users', 'list', '--sort', 'email', '--desc', '--json'])
  const emails = JSON.parse(all.stdout).items.map((u: { email: string }) => u.email)
  assert.deepEqual(emails, [adminEmail, email].sort().reverse())
  assert.equal(JSON.parse((await cli(url, ['users', 'list', '--inactive', '--json'])).stdout).total, 0)
})

test('cli with REDIS_URL: a running server with a warm session cache refuses a deactivated user at once', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const redisEnv = { REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', REDIS_KEY_PREFIX: `cli-test-${randomBytes(6).toString('hex')}:` }
  const app = await buildTestApp(t, { DATABASE_URL: url, ...redisEnv })
  // Ready includes "subscribed to the revocation channel": before that, nothing is cached.
  await waitUntilReady(app)
  const email = uniqueEmail('dave')
  assert.equal((await cli(url, ['users', 'create', '--email', email, '--username', `dave_${randomBytes(3).toString('hex')}`], `${PASSWORD}\n`, redisEnv)).code, 0)
  const dave = await signIn(app, email, PASSWORD)
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: dave.headers })).statusCode, 200, 'session now cached as live')
  const result = await cli(url, ['users', 'deactivate', email], '', redisEnv)
  assert.equal(result.code, 0, result.stderr)
  assert.equal(result.stderr, '')
  const after = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: dave.headers })
  assert.equal(after.statusCode, 401)
})
