import { randomBytes } from 'node:crypto'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { ADMIN_PASSWORD, signIn } from '../helpers/admin.js'
import { buildTestApp, TEST_ENV, waitUntilReady } from '../helpers/build-test-app.js'
import { PASSWORD, uniqueEmail } from '../helpers/factories.js'
import { createTestDatabaseUrl } from '../helpers/test-db.js'

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))

interface CliResult { code: number | null, stdout: string, stderr: string }

/** Runs the real CLI as a child process, stdin piped (never a terminal). */
function cli (databaseUrl: string, args: string[], input = '', env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      env: { PATH: process.env.PATH, ...TEST_ENV, ...env, DATABASE_URL: databaseUrl },
      stdio: ['pipe', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(input)
  })
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

  const email = uniqueEmail('Ops')
  const created = await cli(url, ['create-user', '--email', email, '--username', 'ops_admin', '--superuser', '--name', 'Ops'], `${ADMIN_PASSWORD}\n`)
  assert.equal(created.code, 0, created.stderr)
  assert.match(created.stdout, /^Created .* role=admin active=true superuser=true\n$/)
  assert.ok(!created.stdout.includes(ADMIN_PASSWORD) && !created.stderr.includes(ADMIN_PASSWORD))

  const app = await buildTestApp(t, { DATABASE_URL: url })
  const admin = await signIn(app, email.toLowerCase(), ADMIN_PASSWORD)
  const list = await app.inject({ method: 'GET', url: '/api/v1/users', headers: admin.headers })
  assert.equal(list.statusCode, 200)
  assert.equal(list.json().items[0].name, 'Ops')
})

test('cli: errors are one line with a non-zero exit code, and change nothing', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const email = uniqueEmail()
  assert.equal((await cli(url, ['create-user', '--email', email, '--username', 'first_user'], `${PASSWORD}\n`)).code, 0)

  assertOneLineError(await cli(url, ['create-user', '--email', email, '--username', 'other_user'], `${PASSWORD}\n`), 1, /^Error: Email already registered$/)
  assertOneLineError(await cli(url, ['create-user', '--email', uniqueEmail(), '--username', 'FIRST_USER'], `${PASSWORD}\n`), 1, /^Error: Username already taken$/)
  assertOneLineError(await cli(url, ['create-user', '--email', uniqueEmail(), '--username', 'weak_user'], 'password\n'), 1, /^Error: Password is too common$/)
  assertOneLineError(await cli(url, ['create-user', '--email', uniqueEmail(), '--username', 'no_password']), 1, /^Error: No password on standard input$/)
  assertOneLineError(await cli(url, ['create-user', '--email', uniqueEmail(), '--username', 'x'], `${PASSWORD}\n`), 1, /^Error: Invalid input: username/)
  assertOneLineError(await cli(url, ['create-user', '--email', uniqueEmail(), '--username', 'role_user', '--role', 'nope'], `${PASSWORD}\n`), 1, /^Error: Invalid input: role: Unknown role$/)
  assertOneLineError(await cli(url, ['create-user', '--username', 'no_email'], `${PASSWORD}\n`), 2, /^Error: create-user needs --email and --username$/)
  assertOneLineError(await cli(url, ['deactivate', 'nobody@example.com']), 1, /^Error: User not found$/)
  assertOneLineError(await cli(url, ['frobnicate']), 2, /^Error: Unknown command "frobnicate"/)
  assertOneLineError(await cli(url, ['list', '--bogus']), 2, /^Error: Unknown option '--bogus'/)
  assertOneLineError(await cli(url, ['list', '--limit', 'many']), 2, /^Error: --limit must be a whole number/)
  assertOneLineError(await cli('mysql://localhost/x', ['list']), 2, /^Configuration error: DATABASE_URL: /)

  const listed = await cli(url, ['list', '--json'])
  assert.equal(listed.code, 0, listed.stderr)
  assert.equal(JSON.parse(listed.stdout).total, 1)
})

test('cli: set-password, deactivate/activate, promote/demote, list and search act on the same database as the server', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const adminEmail = uniqueEmail('root')
  const app = await buildTestApp(t, { DATABASE_URL: url, ADMIN_EMAIL: adminEmail, ADMIN_PASSWORD })
  const email = uniqueEmail('carol')
  assert.equal((await cli(url, ['create-user', '--email', email, '--username', 'carol_cli', '--name', 'Carol Cli'], `${PASSWORD}\n`)).code, 0)

  const newPassword = 'a new operator-set passphrase 3'
  const set = await cli(url, ['set-password', email], `${newPassword}\n`)
  assert.equal(set.code, 0, set.stderr)
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email, password: PASSWORD } })).statusCode, 401)
  const carol = await signIn(app, email, newPassword)

  const deactivated = await cli(url, ['deactivate', email])
  assert.equal(deactivated.code, 0, deactivated.stderr)
  assert.match(deactivated.stdout, /active=false/)
  const refused = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email, password: newPassword } })
  assert.equal(refused.statusCode, 403)
  assert.equal(refused.json().code, 'inactive_user')
  const activated = await cli(url, ['activate', carol.id])
  assert.equal(activated.code, 0, activated.stderr)

  const promotedOut = await cli(url, ['promote', email])
  assert.match(promotedOut.stdout, /role=admin active=true superuser=true/, promotedOut.stderr)
  const promoted = await signIn(app, email, newPassword)
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/users', headers: promoted.headers })).statusCode, 200)
  const demotedOut = await cli(url, ['demote', email])
  assert.match(demotedOut.stdout, /role=member active=true superuser=false/, demotedOut.stderr)
  const demoted = await signIn(app, email, newPassword)
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/users', headers: demoted.headers })).statusCode, 403)

  // The primary admin can be repaired but not disabled.
  assertOneLineError(await cli(url, ['deactivate', adminEmail]), 1, /^Error: The primary admin cannot be deactivated, demoted or deleted$/)
  assertOneLineError(await cli(url, ['demote', adminEmail]), 1, /primary admin/)
  assert.equal((await cli(url, ['set-password', adminEmail], 'a recovered primary passphrase 8\n')).code, 0)
  await signIn(app, adminEmail, 'a recovered primary passphrase 8')

  const found = await cli(url, ['search', 'CAROL'])
  assert.equal(found.code, 0, found.stderr)
  assert.match(found.stdout, new RegExp(email.replace(/[.+]/g, '\\$&')))
  assert.match(found.stdout, /1 of 1 user\(s\)/)
  const all = await cli(url, ['list', '--sort', 'email', '--desc', '--json'])
  const emails = JSON.parse(all.stdout).items.map((u: { email: string }) => u.email)
  assert.deepEqual(emails, [adminEmail, email].sort().reverse())
  assert.equal(JSON.parse((await cli(url, ['list', '--inactive', '--json'])).stdout).total, 0)
})

test('cli with REDIS_URL: a running server with a warm session cache refuses a deactivated user at once', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const redisEnv = { REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', REDIS_KEY_PREFIX: `cli-test-${randomBytes(6).toString('hex')}:` }
  const app = await buildTestApp(t, { DATABASE_URL: url, ...redisEnv })
  // Ready includes "subscribed to the revocation channel": before that, nothing is cached.
  await waitUntilReady(app)
  const email = uniqueEmail('dave')
  assert.equal((await cli(url, ['create-user', '--email', email, '--username', `dave_${randomBytes(3).toString('hex')}`], `${PASSWORD}\n`, redisEnv)).code, 0)
  const dave = await signIn(app, email, PASSWORD)
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: dave.headers })).statusCode, 200, 'session now cached as live')
  const result = await cli(url, ['deactivate', email], '', redisEnv)
  assert.equal(result.code, 0, result.stderr)
  assert.equal(result.stderr, '')
  const after = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: dave.headers })
  assert.equal(after.statusCode, 401)
})
