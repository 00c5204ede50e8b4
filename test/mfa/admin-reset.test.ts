import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildAdminApp, createSignedInUser } from '../helpers/admin.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { PASSWORD } from '../helpers/factories.js'
import { fakeClock } from '../helpers/fake-clock.js'
import { auditTypes, enableTotp, mailsTo, mfaTokenFor } from '../helpers/mfa.js'
import { runCli } from '../tokens/helpers.js'

test('admin DELETE /users/{id}/mfa turns MFA off, ends the user\'s sessions and mails them; 404 and 403 as the contract says', async (t) => {
  const { app, databaseUrl, admin } = await buildAdminApp(t)
  const db = openDirectDb(t, databaseUrl)
  const clock = fakeClock()
  const member = await createSignedInUser(app, admin.headers)
  await enableTotp(app, member.accessToken, PASSWORD, clock.now())
  await mfaTokenFor(app, member.email, PASSWORD)

  const notAdmin = await app.inject({ method: 'DELETE', url: `/api/v1/users/${member.id}/mfa`, headers: member.headers })
  assert.equal(notAdmin.statusCode, 403)
  assert.deepEqual(notAdmin.json(), { detail: 'Superuser privileges required', code: 'forbidden' })
  const anonymous = await app.inject({ method: 'DELETE', url: `/api/v1/users/${member.id}/mfa` })
  assert.equal(anonymous.statusCode, 401)
  const missing = await app.inject({ method: 'DELETE', url: '/api/v1/users/0190a5b4-0000-7000-8000-000000000000/mfa', headers: admin.headers })
  assert.equal(missing.statusCode, 404)
  assert.deepEqual(missing.json(), { detail: 'User not found', code: 'user_not_found' })

  const filtered = await app.inject({ method: 'GET', url: '/api/v1/users?mfa_enabled=true', headers: admin.headers })
  assert.equal(filtered.statusCode, 200)
  assert.deepEqual(filtered.json().items.map((u: { id: string }) => u.id), [member.id])
  assert.equal(filtered.json().total, 1)
  const without = await app.inject({ method: 'GET', url: '/api/v1/users?mfa_enabled=false', headers: admin.headers })
  assert.ok(!without.json().items.some((u: { id: string }) => u.id === member.id))
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/users?mfa_enabled=maybe', headers: admin.headers })).statusCode, 422)

  const reset = await app.inject({ method: 'DELETE', url: `/api/v1/users/${member.id}/mfa`, headers: admin.headers })
  assert.equal(reset.statusCode, 204)
  const me = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: member.headers })
  assert.equal(me.statusCode, 401, 'the member\'s sessions are revoked')
  const user = await app.inject({ method: 'GET', url: `/api/v1/users/${member.id}`, headers: admin.headers })
  assert.equal(user.json().mfa_enabled, false)
  const signin = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: member.email, password: PASSWORD } })
  assert.equal(signin.statusCode, 200, 'the password alone signs in again')
  const mails = await mailsTo(db, member.email, 'mfa_reset')
  assert.equal(mails.length, 1)
  assert.equal(mails[0]!.subject, 'Two-step verification turned off by an administrator')
  assert.ok((await auditTypes(db, member.id)).includes('admin.user.mfa_reset'))
  const event = await db.selectFrom('audit_events').selectAll().where('type', '=', 'admin.user.mfa_reset').executeTakeFirstOrThrow()
  assert.equal(event.actor_id, admin.id)
})

test('cli reset-mfa turns a user\'s two-step verification off, as the admin API does', async (t) => {
  const { app, databaseUrl, admin } = await buildAdminApp(t)
  const db = openDirectDb(t, databaseUrl)
  const member = await createSignedInUser(app, admin.headers)
  await enableTotp(app, member.accessToken, PASSWORD, new Date())
  const result = await runCli('src/cli/main.ts', ['users', 'reset-mfa', member.email.toUpperCase()], { DATABASE_URL: databaseUrl })
  assert.equal(result.code, 0, result.stderr)
  assert.match(result.stdout, /Two-step verification turned off for/)
  const row = await db.selectFrom('users').select(['mfa_enabled']).where('id', '=', member.id).executeTakeFirstOrThrow()
  assert.equal(row.mfa_enabled, 0)
  assert.equal((await db.selectFrom('mfa_totp').selectAll().where('user_id', '=', member.id).execute()).length, 0)
  const live = await db.selectFrom('sessions').select(['id']).where('user_id', '=', member.id).where('revoked_at', 'is', null).execute()
  assert.equal(live.length, 0)
  const event = await db.selectFrom('audit_events').selectAll().where('type', '=', 'admin.user.mfa_reset').executeTakeFirstOrThrow()
  assert.equal(event.actor_id, null)
  assert.equal((await mailsTo(db, member.email, 'mfa_reset')).length, 1)
  const missing = await runCli('src/cli/main.ts', ['users', 'reset-mfa', 'nobody@example.com'], { DATABASE_URL: databaseUrl })
  assert.equal(missing.code, 1)
  assert.equal(missing.stderr.trim().split('\n').length, 1)
})

test('an MFA reset is a credential change: not the primary admin\'s, not one\'s own, another superuser\'s only by the primary admin', async (t) => {
  const { app, admin } = await buildAdminApp(t)
  const clock = fakeClock()
  const superuser = await createSignedInUser(app, admin.headers, { is_superuser: true })
  const other = await createSignedInUser(app, admin.headers, { is_superuser: true })
  await enableTotp(app, superuser.accessToken, PASSWORD, clock.now())
  clock.advance(30)
  await enableTotp(app, other.accessToken, PASSWORD, clock.now())
  await enableTotp(app, admin.accessToken, 'the primary admin passphrase 7', clock.now())
  const mfaOf = async (id: string) => (await app.inject({ method: 'GET', url: `/api/v1/users/${id}`, headers: admin.headers })).json().mfa_enabled

  const forbidden = { detail: 'Superuser privileges required', code: 'forbidden' }
  const onPrimary = await app.inject({ method: 'DELETE', url: `/api/v1/users/${admin.id}/mfa`, headers: superuser.headers })
  assert.equal(onPrimary.statusCode, 403)
  assert.deepEqual(onPrimary.json(), forbidden)
  const onOther = await app.inject({ method: 'DELETE', url: `/api/v1/users/${other.id}/mfa`, headers: superuser.headers })
  assert.equal(onOther.statusCode, 403, 'only the primary admin resets another superuser\'s second factor')
  const onSelf = await app.inject({ method: 'DELETE', url: `/api/v1/users/${superuser.id}/mfa`, headers: superuser.headers })
  assert.equal(onSelf.statusCode, 403, 'one\'s own: /mfa/totp/disable, with the password and a code')
  const primaryOnSelf = await app.inject({ method: 'DELETE', url: `/api/v1/users/${admin.id}/mfa`, headers: admin.headers })
  assert.equal(primaryOnSelf.statusCode, 403)
  assert.deepEqual([await mfaOf(admin.id), await mfaOf(superuser.id), await mfaOf(other.id)], [true, true, true], 'nothing was turned off')
  // The other superuser's session still works: nothing was revoked either.
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: other.headers })).statusCode, 200)

  const byPrimary = await app.inject({ method: 'DELETE', url: `/api/v1/users/${other.id}/mfa`, headers: admin.headers })
  assert.equal(byPrimary.statusCode, 204)
  assert.equal(await mfaOf(other.id), false)
})
