import assert from 'node:assert/strict'
import { type AddressInfo, createServer, type Socket } from 'node:net'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config/index.js'
import type { Db } from '../../src/database.js'
import { newId } from '../../src/lib/crypto.js'
import { enqueueMail, outboxStats, requeueFailedMail } from '../../src/mail/outbox.repository.js'
import { buildTestAppWithDatabase, TEST_ENV } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { signUp } from '../helpers/factories.js'
import { captureLog, mailEnv, startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js'
import { createTestDatabaseUrl, usePostgres } from '../helpers/test-db.js'

const AUTH = '/api/v1/auth'

async function waitUntil (what: string, condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 15_000
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Queues mail while the SMTP server is down: sign-ups (welcome) and reset requests. */
async function queueWhileDown (app: FastifyInstance, count: number): Promise<string[]> {
  const emails: string[] = []
  for (let i = 0; i < count; i++) {
    const user = await signUp(app)
    emails.push(user.email)
    const forgot = await app.inject({ method: 'POST', url: `${AUTH}/forgot-password`, payload: { email: user.email } })
    assert.equal(forgot.statusCode, 200)
  }
  return emails
}

async function waitForFailedAttempts (db: Db, rows: number): Promise<void> {
  await waitUntil('every queued mail failed at least once', async () => {
    const failed = await db.selectFrom('mail_outbox').select('id').where('attempts', '>=', 1).where('last_error', 'is not', null).execute()
    return failed.length === rows
  })
}

/** Waits for the outbox to drain, then checks every row arrived exactly once. */
async function assertEachDeliveredOnce (db: Db, smtp: TestSmtpServer, rows: number): Promise<void> {
  await waitUntil('the outbox is drained', async () => (await outboxStats(db)).pending === 0)
  // A row leaves `pending` only after the server accepted it, and is never sent again after:
  // from here on the received list is final.
  const outbox = await db.selectFrom('mail_outbox').select(['id', 'status']).execute()
  assert.equal(outbox.length, rows)
  assert.ok(outbox.every((r) => r.status === 'sent'), JSON.stringify(outbox))
  const ids = smtp.received.map((m) => /^<([0-9a-f-]{36})@/.exec(m.headers['message-id'] ?? '')?.[1])
  assert.equal(ids.length, rows, 'one message per outbox row')
  assert.deepEqual([...new Set(ids)].sort(), outbox.map((r) => r.id).sort())
}

test('with the SMTP server down, sign-up and forgot-password still succeed; every mail arrives once it is back', async (t) => {
  const smtp = await startSmtpServer(t)
  await smtp.stop()
  const { app, databaseUrl } = await buildTestAppWithDatabase(t, mailEnv(smtp))
  const db = openDirectDb(t, databaseUrl)
  const emails = await queueWhileDown(app, 3)
  await waitForFailedAttempts(db, 6)
  assert.equal((await outboxStats(db)).pending, 6)
  assert.equal(smtp.received.length, 0)

  await smtp.start()
  await assertEachDeliveredOnce(db, smtp, 6)
  for (const email of emails) {
    assert.deepEqual(smtp.received.filter((m) => m.to.includes(email)).map((m) => m.headers.subject).sort(),
      ['Reset your password', 'Welcome! Please verify your email'])
  }
})

test('mail queued before a restart is delivered once by the restarted process', async (t) => {
  const smtp = await startSmtpServer(t)
  await smtp.stop()
  // Both apps close before the database is removed (`after` hooks run in order).
  const apps: FastifyInstance[] = []
  t.after(() => Promise.all(apps.map((app) => app.close())))
  const databaseUrl = await createTestDatabaseUrl(t)
  const db = openDirectDb(t, databaseUrl)
  const config = loadConfig({ ...TEST_ENV, ...mailEnv(smtp), DATABASE_URL: databaseUrl })

  const first = await buildApp(config)
  apps.push(first)
  await queueWhileDown(first, 2)
  await waitForFailedAttempts(db, 4)
  await first.close()

  await smtp.start()
  const second = await buildApp(config)
  apps.push(second)
  await second.ready()
  await assertEachDeliveredOnce(db, smtp, 4)
})

// Several instances share PostgreSQL; SQLite is one process's database (two connections in one
// process would block each other's event loop on the file lock), so this runs on PostgreSQL.
test('two instances draining one outbox never send the same mail twice', { skip: !usePostgres && 'several instances need PostgreSQL' }, async (t) => {
  const smtp = await startSmtpServer(t)
  await smtp.stop()
  const apps: FastifyInstance[] = []
  t.after(() => Promise.all(apps.map((app) => app.close())))
  const databaseUrl = await createTestDatabaseUrl(t)
  const config = loadConfig({ ...TEST_ENV, ...mailEnv(smtp), DATABASE_URL: databaseUrl, OUTBOX_POLL_MS: '10', OUTBOX_RETRY_BASE_MS: '10', OUTBOX_RETRY_MAX_MS: '10' })
  const one = await buildApp(config)
  apps.push(one)
  const two = await buildApp(config)
  apps.push(two)
  const db = openDirectDb(t, databaseUrl)
  await two.ready()
  await queueWhileDown(one, 10)
  await waitForFailedAttempts(db, 20)
  await smtp.start()
  await assertEachDeliveredOnce(db, smtp, 20)
})

test('after the last attempt a mail is marked failed and counted; an operator can queue it again', async (t) => {
  const smtp = await startSmtpServer(t)
  await smtp.stop()
  const log = captureLog()
  const { app, databaseUrl } = await buildTestAppWithDatabase(t, { ...mailEnv(smtp), OUTBOX_MAX_ATTEMPTS: '2', LOG_LEVEL: 'info' }, { logStream: log.stream })
  const db = openDirectDb(t, databaseUrl)
  const user = await signUp(app)
  await waitUntil('the mail is given up on', async () => (await outboxStats(db)).failed === 1)
  const row = await db.selectFrom('mail_outbox').selectAll().executeTakeFirstOrThrow()
  assert.equal(row.status, 'failed')
  assert.equal(row.attempts, 2)
  assert.match(row.last_error ?? '', /ECONNREFUSED/)
  assert.deepEqual(await outboxStats(db), { pending: 0, failed: 1, oldestPendingSeconds: 0 })
  assert.ok(log.text().includes('mail delivery failed for good'))
  assert.ok(log.text().includes('mail delivery failed, will retry'))

  await smtp.start()
  assert.equal(await requeueFailedMail(db, row.id, new Date().toISOString()), true)
  const [mail] = await smtp.waitForCount(1)
  assert.deepEqual(mail!.to, [user.email])
  assert.equal(mail!.headers.subject, 'Welcome! Please verify your email')
  await assertEachDeliveredOnce(db, smtp, 1)
})

test('a mail claimed by a sender that died is sent once its lease runs out', async (t) => {
  const smtp = await startSmtpServer(t)
  const { app, databaseUrl } = await buildTestAppWithDatabase(t, mailEnv(smtp))
  await app.ready()
  const db = openDirectDb(t, databaseUrl)
  const id = newId()
  const past = new Date(Date.now() - 60_000).toISOString()
  await enqueueMail(db, { id, template: 'email_verified', recipient: 'lease@example.com', rendered: { subject: 'Leased', text: 'text', html: '<p>html</p>' }, now: past })
  await db.updateTable('mail_outbox').set({ claimed_by: 'a-sender-that-died', claimed_until: new Date(Date.now() + 300).toISOString(), attempts: 1 }).where('id', '=', id).execute()
  const [mail] = await smtp.waitForCount(1)
  assert.equal(mail!.headers.subject, 'Leased')
  await assertEachDeliveredOnce(db, smtp, 1)
})

test('closing the app during a hung delivery gives the rest of the batch back, untried', async (t) => {
  // A server that accepts connections and never greets: the send in flight ends by timeout.
  const sockets: Socket[] = []
  const hung = createServer((socket) => { sockets.push(socket) })
  await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); hung.close(() => resolve()) }))
  const port = (hung.address() as AddressInfo).port

  const { app, databaseUrl } = await buildTestAppWithDatabase(t, { ...mailEnv({ url: `smtp://127.0.0.1:${port}` }) })
  const db = openDirectDb(t, databaseUrl)
  const now = new Date().toISOString()
  for (let i = 0; i < 3; i++) {
    await enqueueMail(db, { id: newId(), template: 'email_verified', recipient: `r${i}@example.com`, rendered: { subject: 's', text: 't', html: 'h' }, now })
  }
  await app.ready()
  await waitUntil('a delivery is in flight', async () => sockets.length > 0)
  await app.close()

  const rows = await db.selectFrom('mail_outbox').select(['attempts', 'claimed_by', 'status', 'last_error']).orderBy('recipient').execute()
  assert.ok(rows.every((r) => r.status === 'pending' && r.claimed_by === null), JSON.stringify(rows))
  // The hung one counts one failed attempt; the others were never tried.
  assert.deepEqual(rows.map((r) => r.attempts).sort(), [0, 0, 1])
})
