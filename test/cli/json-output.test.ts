import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { type CliResult, runAdminCli } from '../helpers/cli.js'
import { PASSWORD, uniqueEmail } from '../helpers/factories.js'
import { createTestDatabaseUrl } from '../helpers/test-db.js'

/** Exactly one JSON document on stdout (JSON.parse refuses anything before or after it). */
function document (result: CliResult, label: string): any {
  try {
    return JSON.parse(result.stdout)
  } catch {
    assert.fail(`${label}: stdout is not one JSON document: ${JSON.stringify(result.stdout)} (stderr: ${result.stderr})`)
  }
}

test('--json: one JSON document on stdout for results and for errors, directly and through `npm run -s cli`', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const dir = mkdtempSync(join(tmpdir(), 'authd-cli-json-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'users.csv')
  writeFileSync(file, 'email,username,hash\nbad-email,someone,$2b$04$mjY5lAZ165Pwvd1YC1BBS.sShX5VFwNgw0fdCBHx97pifCwC0EwDO\n')
  const env = { DATABASE_URL: url }
  const email = uniqueEmail('json')

  for (const via of ['node', 'npm'] as const) {
    const label = (args: string[]) => `${via}: ${args.join(' ')}`
    const run = (args: string[], stdin?: string) => runAdminCli(args, { env, via, ...(stdin !== undefined ? { stdin } : {}) })

    const migrated = await run(['migrate', '--json'])
    assert.equal(migrated.code, 0, migrated.stderr)
    assert.ok(Array.isArray(document(migrated, label(['migrate'])).migrations))

    if (via === 'node') {
      // The password comes from stdin, the prompt (none on a pipe) would go to stderr: stdout stays JSON.
      const created = await run(['users', 'create', '--email', email, '--username', 'json_user', '--json'], `${PASSWORD}\n`)
      assert.equal(created.code, 0, created.stderr)
      assert.equal(document(created, 'create').email, email.toLowerCase())
    }

    // Results: each a document of its own shape, with the exit code of the command.
    const results: Array<[string[], number, (doc: any) => void]> = [
      [['users', 'list', '--json'], 0, (doc) => { assert.equal(doc.total, 1); assert.equal(doc.items[0].email, email.toLowerCase()) }],
      [['--json', 'users', 'search', 'JSON_'], 0, (doc) => assert.equal(doc.items.length, 1)],
      [['users', 'show', email, '--json'], 0, (doc) => { assert.equal(doc.username, 'json_user'); assert.equal(doc.password_hash, undefined) }],
      [['keys', 'list', '--json'], 0, (doc) => assert.deepEqual(doc, { keys: [] })],
      [['outbox', 'stats', '--json'], 0, (doc) => assert.deepEqual(doc, { pending: 0, failed: 0, oldest_pending_seconds: 0 })],
      [['outbox', 'list', '--json'], 0, (doc) => assert.deepEqual(doc, { items: [] })],
      [['import', 'users', file, '--json'], 1, (doc) => assert.deepEqual(doc, { imported: 0, rejected: [{ line: 2, code: 'validation_error', reason: 'email: must match format "email"' }] })],
      // Errors: the API's error body, the same codes as the catalogue.
      [['users', 'show', 'nobody@example.com', '--json'], 1, (doc) => assert.deepEqual(doc, { detail: 'User not found', code: 'user_not_found' })],
      [['users', 'create', '--email', 'x@example.com', '--username', 'x', '--json'], 1, (doc) => {
        assert.equal(doc.code, 'validation_error')
        assert.deepEqual(doc.errors.map((e: { field: string }) => e.field), ['username'])
      }],
      [['users', 'list', '--limit', 'lots', '--json'], 2, (doc) => assert.deepEqual(doc, { detail: '--limit must be a whole number from 1 to 1000', code: 'usage_error' })],
      [['--json', 'frobnicate'], 2, (doc) => assert.equal(doc.code, 'usage_error')],
      [['outbox', 'show', 'nope', '--json'], 1, (doc) => assert.deepEqual(doc, { detail: 'No mail with id nope', code: 'not_found' })]
    ]
    const outputs = await Promise.all(results.map(([args]) => run(args)))
    for (const [i, [args, code, check]] of results.entries()) {
      const result = outputs[i]!
      assert.equal(result.code, code, `${label(args)}: ${result.stderr}`)
      check(document(result, label(args)))
      // The human line is on stderr for a failure, and nothing is there for a success.
      if (code === 0) assert.equal(result.stderr, '', label(args))
      else if ((document(result, label(args)) as { code?: string }).code) assert.match(result.stderr, /^(Error|Configuration error): /, label(args))
    }

    const config = await runAdminCli(['users', 'list', '--json'], { env: { DATABASE_URL: 'mysql://nowhere/x' }, via })
    assert.equal(config.code, 2)
    assert.equal(document(config, label(['config error'])).code, 'config_error')
  }
})
