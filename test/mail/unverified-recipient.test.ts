import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { buildAdminApp } from '../helpers/admin.js'
import { buildTestApp, buildTestAppWithDatabase } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { bearer, PASSWORD, signUp, uniqueEmail, uniqueUsername } from '../helpers/factories.js'
import { mailEnv, startSmtpServer } from '../helpers/smtp-server.js'
import { createTestDatabaseUrl } from '../helpers/test-db.js'
import { runCli } from '../tokens/helpers.js'

const AUTH = '/api/v1/auth'
const NAME = 'Mallory Chosen-Words'
const USERNAME = 'visit_evil_example'

/** @see issue 15, item 14: a signer's name arrived inside our trusted template. */
test('mail to an unverified address carries no name or username the signer chose (welcome, verification, reset)', async (t) => {
  const smtp = await startSmtpServer(t)
  const app = await buildTestApp(t, mailEnv(smtp))
  const email = uniqueEmail()
  const user = await signUp(app, { email, username: USERNAME, name: NAME })
  assert.equal((await app.inject({ method: 'POST', url: `${AUTH}/resend-verification`, headers: bearer(user.accessToken) })).statusCode, 202)
  await app.inject({ method: 'POST', url: `${AUTH}/forgot-password`, payload: { email } })
  const mails = [
    ...await smtp.waitForMail(email, 'Welcome! Please verify your email'),
    ...await smtp.waitForMail(email, 'Verify your email'),
    ...await smtp.waitForMail(email, 'Reset your password')
  ]
  for (const mail of mails) {
    for (const chosen of [NAME, 'Mallory', USERNAME]) {
      assert.ok(!mail.text.includes(chosen) && !mail.html.includes(chosen) && !mail.raw.includes(chosen), `"${mail.headers.subject}" holds "${chosen}"`)
    }
    assert.match(mail.text, /^Hello,\r?\n/)
  }
})

test('enumeration-safe sign-up: the "already have an account" and "username taken" mails carry nothing the signer chose', async (t) => {
  const smtp = await startSmtpServer(t)
  const app = await buildTestApp(t, { ...mailEnv(smtp), SIGNUP_ENUMERATION_SAFE: 'true' })
  const owner = uniqueEmail('owner')
  const taken = uniqueUsername('taken')
  await app.inject({ method: 'POST', url: `${AUTH}/signup`, payload: { email: owner, username: taken, password: PASSWORD } })
  // Someone else tries the owner's address, and a fresh address with the owner's username.
  await app.inject({ method: 'POST', url: `${AUTH}/signup`, payload: { email: owner, username: USERNAME, password: PASSWORD, name: NAME } })
  const victim = uniqueEmail('victim')
  await app.inject({ method: 'POST', url: `${AUTH}/signup`, payload: { email: victim, username: taken, password: PASSWORD, name: NAME } })
  const mails = [
    ...await smtp.waitForMail(owner, 'You already have an account'),
    ...await smtp.waitForMail(victim, 'Finish signing up')
  ]
  for (const mail of mails) {
    for (const chosen of [NAME, USERNAME, taken]) assert.ok(!mail.raw.includes(chosen), `"${mail.headers.subject}" holds "${chosen}"`)
  }
})

test('once the address is verified, mail may greet the user by name', async (t) => {
  const { app, databaseUrl } = await buildTestAppWithDatabase(t)
  const db = openDirectDb(t, databaseUrl)
  const user = await signUp(app, { name: 'Alice' })
  await db.updateTable('users').set({ is_verified: 1 }).where('id', '=', user.userId).execute()
  const changed = await app.inject({ method: 'POST', url: `${AUTH}/change-password`, headers: bearer(user.accessToken), payload: { old_password: PASSWORD, new_password: 'another long passphrase 7' } })
  assert.equal(changed.statusCode, 200)
  const mail = await db.selectFrom('mail_outbox').select('text_body').where('recipient', '=', user.email).where('template', '=', 'password_changed').executeTakeFirstOrThrow()
  assert.match(mail.text_body ?? '', /^Hello Alice,/)
})

const HOSTILE_NAMES = [
  'Security Team\n\nURGENT: visit http://evil.example',
  'Security Team\r\nBcc: someone@example.com',
  'tab\there',
  'bell\u0007',
  'del\u007f',
  'next line\u0085(C1)',
  'csi\u009b31m',
  'line\u2028separator'
]

test('names with control characters (C0, C1, CR/LF) are 422 at sign-up, PATCH /me and the admin API', async (t) => {
  const { app, admin } = await buildAdminApp(t)
  const user = await signUp(app)
  for (const name of HOSTILE_NAMES) {
    const attempts = [
      await app.inject({ method: 'POST', url: `${AUTH}/signup`, payload: { email: uniqueEmail(), username: uniqueUsername(), password: PASSWORD, name } }),
      await app.inject({ method: 'PATCH', url: `${AUTH}/me`, headers: bearer(user.accessToken), payload: { name } }),
      await app.inject({ method: 'POST', url: '/api/v1/users', headers: admin.headers, payload: { email: uniqueEmail(), username: uniqueUsername(), password: PASSWORD, name } }),
      await app.inject({ method: 'PATCH', url: `/api/v1/users/${user.userId}`, headers: admin.headers, payload: { name } })
    ]
    for (const answer of attempts) {
      assert.equal(answer.statusCode, 422, JSON.stringify(name))
      assert.equal(answer.json().code, 'validation_error')
      assert.equal(answer.json().errors[0].field, 'name')
    }
  }
  // Usernames are [A-Za-z0-9_.-] already; a control character there is 422 too.
  for (const username of ['abc\ndef', 'abc\u0085def', 'abc\rdef']) {
    const answer = await app.inject({ method: 'PATCH', url: `${AUTH}/me`, headers: bearer(user.accessToken), payload: { username } })
    assert.equal(answer.statusCode, 422)
    assert.equal(answer.json().errors[0].field, 'username')
  }
  const me = await app.inject({ method: 'GET', url: `${AUTH}/me`, headers: bearer(user.accessToken) })
  assert.equal(me.json().name, null, 'nothing was stored')
  // Ordinary Unicode names stay welcome.
  const fine = await app.inject({ method: 'PATCH', url: `${AUTH}/me`, headers: bearer(user.accessToken), payload: { name: 'Zoë Ångström-Łukasz 李' } })
  assert.equal(fine.statusCode, 200)
})

test('the bulk import refuses rows whose name holds control characters, as the admin API does', async (t) => {
  const url = await createTestDatabaseUrl(t)
  await buildTestApp(t, { DATABASE_URL: url })
  const dir = mkdtempSync(join(tmpdir(), 'authd-import-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'users.jsonl')
  const hash = '$argon2id$v=19$m=1024,p=1,t=1$B0YXoM6HPn5aNqhYFEV8nA$73JYhS/V+XaqkfloORfYZsjOgp9JvW0pbg27GUnvsjc'
  writeFileSync(path, [
    JSON.stringify({ email: 'fine@example.com', username: 'fine_user', hash, name: 'Fine Name' }),
    ...HOSTILE_NAMES.map((name, i) => JSON.stringify({ email: `evil${i}@example.com`, username: `evil_user_${i}`, hash, name }))
  ].join('\n') + '\n')
  const result = await runCli('src/cli/main.ts', ['import', 'users', path], { DATABASE_URL: url })
  assert.equal(result.stdout.trim(), `imported 1, rejected ${HOSTILE_NAMES.length}`, result.stderr)
  for (const line of HOSTILE_NAMES.map((_, i) => i + 2)) assert.match(result.stderr, new RegExp(`^line ${line}: name: `, 'm'))
  const db = openDirectDb(t, url)
  const stored = await db.selectFrom('users').select('email').where('email', 'like', 'evil%').execute()
  assert.deepEqual(stored, [], 'no hostile row was stored')
})
