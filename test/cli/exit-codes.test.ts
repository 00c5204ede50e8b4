import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import bcrypt from 'bcryptjs'
import { type CliResult, runAdminCli } from '../helpers/cli.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { createTestDatabaseUrl } from '../helpers/test-db.js'

/**
 * One exit-code rule for every group: 0 success; 1 the command ran and failed or was refused;
 * 2 usage or configuration error, before anything was done.
 */

function tempDir (t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'authd-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A port nothing listens on: bound, then released. */
async function closedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

function assertExit (result: CliResult, code: number, stderr: RegExp, label: string): void {
  assert.equal(result.code, code, `${label}: ${result.stderr}`)
  assert.equal(result.stderr.trim().split('\n').length, 1, `${label}: one line on stderr: ${result.stderr}`)
  assert.match(result.stderr.trim(), stderr, label)
  assert.doesNotMatch(result.stderr, /\n\s+at /, `${label}: no stack trace`)
}

test('every group follows the rule: 0 done, 1 failed or refused, 2 usage or configuration error', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const db = openDirectDb(t, url)
  const dir = tempDir(t)
  const good = join(dir, 'good.jsonl')
  writeFileSync(good, JSON.stringify({ email: 'imported@example.com', username: 'imported', hash: bcrypt.hashSync('imported password', 4) }) + '\n')
  const partial = join(dir, 'partial.jsonl')
  writeFileSync(partial, [JSON.stringify({ email: 'second@example.com', username: 'second', hash: bcrypt.hashSync('second password', 4) }), '{not json'].join('\n'))
  const env = { DATABASE_URL: url }
  const run = (args: string[], extra: Record<string, string> = {}) => runAdminCli(args, { env: { ...env, ...extra } })

  // Successes (and the schema exists from here on).
  for (const args of [['migrate'], ['users', 'list'], ['keys', 'list'], ['keys', 'prune'], ['outbox', 'stats'], ['outbox', 'list'], ['import', 'users', good]]) {
    const result = await run(args)
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`)
    assert.equal(result.stderr, '', args.join(' '))
  }
  const counts = async () => Promise.all(['users', 'audit_events', 'signing_keys', 'mail_outbox'].map(async (table) =>
    Number((await db.selectFrom(table as 'users').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)))
  const before = await counts()

  const usage: Array<[string[], RegExp, Record<string, string>?]> = [
    [['frobnicate'], /^Error: Unknown command "frobnicate"/],
    [['users'], /^Error: users needs a command: create, set-password, /],
    [['users', 'frobnicate'], /^Error: Unknown command "users frobnicate"/],
    [['--bogus', 'users', 'list'], /^Error: Unknown option '--bogus' before the command/],
    [['users', 'show'], /^Error: users show needs exactly one user id or email$/],
    [['users', 'list', '--active', '--inactive'], /^Error: --active and --inactive exclude each other$/],
    [['users', 'list', '--sort', 'password_hash'], /^Error: --sort must be created_at, email, username or name$/],
    [['keys', 'rotate', 'now'], /^Error: keys rotate takes no arguments$/],
    [['keys', 'list', '--all'], /^Error: Unknown option '--all'/],
    [['keys', 'rotate'], /^Configuration error: JWT_SECRET is set/, { JWT_SECRET: 'a shared secret that is long enough for HS256' }],
    [['outbox', 'list', '--limit', '0'], /^Error: --limit must be a whole number from 1 to 1000$/],
    [['outbox', 'show'], /^Error: outbox show needs exactly one mail id$/],
    [['import', 'users'], /^Error: import users needs exactly one file$/],
    [['import', 'users', join(dir, 'missing.jsonl')], /^Error: cannot read .*missing\.jsonl$/],
    [['import', 'users', dir], /^Error: cannot read /],
    [['import', 'users', good, '--format', 'xml'], /^Error: --format must be jsonl or csv$/],
    [['import', 'users', good, '--batch-size', '5000'], /^Error: --batch-size must be a whole number from 1 to 2000$/],
    [['migrate', 'sideways'], /^Error: Unknown command "migrate sideways"/],
    [['migrate', 'down', 'twice'], /^Error: migrate down takes no arguments$/],
    [['users', 'list'], /^Configuration error: DATABASE_URL: /, { DATABASE_URL: 'mysql://localhost/x' }],
    [['users', 'list'], /^Configuration error: ARGON2_TIME_COST: /, { ARGON2_TIME_COST: 'slow' }]
  ]
  const failed: Array<[string[], RegExp, Record<string, string>?]> = [
    [['users', 'show', 'nobody@example.com'], /^Error: User not found$/],
    [['outbox', 'show', 'no-such-mail'], /^Error: No mail with id no-such-mail$/],
    [['outbox', 'retry', 'no-such-mail'], /^Error: No failed mail with id no-such-mail$/]
  ]
  const results = await Promise.all([...usage, ...failed].map(([args, , extra]) => run(args, extra)))
  for (const [i, [args, stderr]] of [...usage, ...failed].entries()) {
    assertExit(results[i]!, i < usage.length ? 2 : 1, stderr, args.join(' '))
    assert.equal(results[i]!.stdout, '', `${args.join(' ')}: nothing on stdout without --json`)
  }
  assert.deepEqual(await counts(), before, 'no failure changed anything')

  // A partial import: the good row is in, the bad one reported, and the exit code says so.
  const imported = await run(['import', 'users', partial])
  assert.equal(imported.code, 1, imported.stderr)
  assert.equal(imported.stdout, 'imported 1, rejected 1\n')
  assert.equal(imported.stderr, 'line 2: not valid JSON\n')
})

test('an unreachable database is a failure (1) in one line, not a stack trace', async () => {
  const port = await closedPort()
  const result = await runAdminCli(['users', 'list'], { env: { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/authd` } })
  assertExit(result, 1, /^Error: .*ECONNREFUSED/, 'unreachable PostgreSQL')
  const json = await runAdminCli(['keys', 'list', '--json'], { env: { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/authd` } })
  assert.equal(json.code, 1)
  assert.equal(JSON.parse(json.stdout).code, 'internal_error')
})

test('help: every command, the output rule and the exit codes, on stdout with exit code 0, without touching the database', async () => {
  // An invalid DATABASE_URL proves that help reads no configuration.
  const env = { DATABASE_URL: 'mysql://nowhere/x' }
  const help = await runAdminCli(['--help'], { env })
  assert.equal(help.code, 0, help.stderr)
  assert.equal(help.stderr, '')
  const commands = [
    'users create', 'users set-password', 'users deactivate', 'users activate', 'users promote', 'users demote', 'users reset-mfa', 'users show', 'users list', 'users search',
    'keys list', 'keys rotate', 'keys prune', 'outbox list', 'outbox show', 'outbox stats', 'outbox retry', 'import users', 'migrate up', 'migrate down'
  ]
  const listed = [...help.stdout.matchAll(/^ {2}([a-z]+ [a-z-]+)\b/gm)].map((m) => m[1])
  assert.deepEqual(listed, commands)
  assert.match(help.stdout, /^Usage: authd-admin <group> <command>/)
  assert.match(help.stdout, /^ {2}0 {2}success$/m)
  assert.match(help.stdout, /^ {2}1 {2}the command failed or was refused/m)
  assert.match(help.stdout, /^ {2}2 {2}usage or configuration error/m)
  assert.match(help.stdout, /npm run -s cli -- users list --json/)

  // The README documents the same commands and the same rule.
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  for (const command of commands) assert.ok(readme.includes(`npm run cli -- ${command}`) || readme.includes(`authd-admin ${command}`), `README shows ${command}`)
  for (const line of ['| `0` |', '| `1` |', '| `2` |']) assert.ok(readme.includes(line), `README's exit-code table has ${line}`)
  assert.match(readme, /npm run -s cli -- /)

  for (const [args, pattern] of [
    [['help'], /^Usage: authd-admin <group> <command>/],
    [['users', '--help'], /^Usage: authd-admin users <command>[\s\S]*users search <term>/],
    [['help', 'keys'], /^Usage: authd-admin keys <command>[\s\S]*keys rotate/],
    [['migrate', '-h'], /`authd-admin migrate` alone runs `migrate up`/],
    [['users', 'create', '--help'], /^Usage: authd-admin users create --email E --username U[\s\S]*POST \/api\/v1\/users[\s\S]*Exit codes:/],
    [['import', 'users', '--help'], /admin\.user\.create audit event[\s\S]*Exit codes:/],
    [['help', 'outbox', 'retry'], /^Usage: authd-admin outbox retry <id>/]
  ] as Array<[string[], RegExp]>) {
    const result = await runAdminCli(args, { env })
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`)
    assert.match(result.stdout, pattern, args.join(' '))
  }
  const asJson = await runAdminCli(['users', '--help', '--json'], { env })
  assert.match(JSON.parse(asJson.stdout).usage, /^Usage: authd-admin users/)

  // Without a command there is nothing to do: a usage error, on stderr.
  const bare = await runAdminCli([], { env })
  assertExit(bare, 2, /^Error: No command given \(see authd-admin --help\)$/, 'no arguments')
  assert.equal(bare.stdout, '')
})
