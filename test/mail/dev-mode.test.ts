import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestAppWithDatabase } from '../helpers/build-test-app.js'
import { runAdminCli } from '../helpers/cli.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { signUp } from '../helpers/factories.js'
import { captureLog } from '../helpers/smtp-server.js'

const AUTH = '/api/v1/auth'

/** `authd-admin outbox …`, the built CLI as its own process against the app's database; rejects on a non-zero exit. */
async function outboxCommand (databaseUrl: string, ...args: string[]): Promise<string> {
  const result = await runAdminCli(['outbox', ...args], { env: { DATABASE_URL: databaseUrl } })
  if (result.code !== 0) throw new Error(`outbox ${args.join(' ')}: exit code ${result.code}: ${result.stderr}`)
  return result.stdout
}

test('without SMTP_URL mail goes through the outbox to the log (no link) and the operator command shows it', async (t) => {
  const log = captureLog()
  const { app, databaseUrl } = await buildTestAppWithDatabase(t, { LOG_LEVEL: 'info', OUTBOX_POLL_MS: '20' }, { logStream: log.stream })
  const user = await signUp(app)
  const forgot = await app.inject({ method: 'POST', url: `${AUTH}/forgot-password`, payload: { email: user.email } })
  assert.equal(forgot.statusCode, 200)

  const db = openDirectDb(t, databaseUrl)
  let rows = await db.selectFrom('mail_outbox').select(['id', 'template', 'status']).execute()
  for (let i = 0; i < 500 && rows.some((r) => r.status !== 'logged'); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    rows = await db.selectFrom('mail_outbox').select(['id', 'template', 'status']).execute()
  }
  assert.deepEqual(rows.map((r) => r.status), ['logged', 'logged'])
  const resetRow = rows.find((r) => r.template === 'password_reset')!

  const lines = log.text().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>)
  const mailLines = lines.filter((l) => l.component === 'mail')
  assert.equal(mailLines.length, 2)
  assert.ok(mailLines.every((l) => l.level === 30 && l.to === user.email))
  assert.deepEqual(mailLines.map((l) => l.mailId).sort(), rows.map((r) => r.id).sort())

  const listed = await outboxCommand(databaseUrl, 'list')
  assert.ok(listed.includes(resetRow.id))
  assert.ok(listed.includes('password_reset'))
  const shown = await outboxCommand(databaseUrl, 'show', resetRow.id)
  assert.match(shown, /Subject: {3}Reset your password/)
  const token = /\/reset-password\?token=([A-Za-z0-9_-]+)/.exec(shown)?.[1]
  assert.ok(token, 'the operator sees the link')
  assert.ok(!log.text().includes(token), 'the log never does')
  assert.ok(!log.text().includes('token='))
  const shownJson = JSON.parse(await outboxCommand(databaseUrl, 'show', resetRow.id, '--json'))
  assert.equal(shownJson.id, resetRow.id)
  assert.ok(shownJson.text_body.includes(token))

  const reset = await app.inject({ method: 'POST', url: `${AUTH}/reset-password`, payload: { token, new_password: 'reset from the laptop 2024' } })
  assert.equal(reset.statusCode, 200)

  assert.match(await outboxCommand(databaseUrl, 'stats'), /^pending=\d+ failed=0 /)
  await assert.rejects(outboxCommand(databaseUrl, 'show', 'no-such-id'))
  await assert.rejects(outboxCommand(databaseUrl, 'frobnicate'))
})
