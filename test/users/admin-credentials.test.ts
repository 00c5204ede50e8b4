import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildAdminApp, createSignedInUser, createUser, signIn } from '../helpers/admin.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { uniqueEmail } from '../helpers/factories.js'

const FORBIDDEN = { detail: 'Superuser privileges required', code: 'forbidden' }
const NEW_PASSWORD = 'an admin-chosen passphrase 31'

/** @see issue 15, item 12 */
test('no superuser sets their own password through the admin API (403: use /change-password)', async (t) => {
  const { app, admin } = await buildAdminApp(t)
  const other = await createSignedInUser(app, admin.headers, { is_superuser: true, role: 'admin' })
  for (const actor of [admin, other]) {
    const response = await app.inject({ method: 'PATCH', url: `/api/v1/users/${actor.id}`, headers: actor.headers, payload: { password: NEW_PASSWORD } })
    assert.equal(response.statusCode, 403)
    assert.deepEqual(response.json(), FORBIDDEN)
    // Nothing changed: the session lives on and the new password does not sign in.
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: actor.headers })).statusCode, 200)
  }
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: other.email, password: NEW_PASSWORD } })).statusCode, 401)
})

test('a non-primary superuser cannot change another superuser\'s email or password; the primary admin can', async (t) => {
  const { app, admin } = await buildAdminApp(t)
  const deputy = await createSignedInUser(app, admin.headers, { is_superuser: true, role: 'admin' })
  const peer = await createSignedInUser(app, admin.headers, { is_superuser: true, role: 'admin' })
  const member = await createUser(app, admin.headers)
  const url = `/api/v1/users/${peer.id}`
  for (const payload of [{ email: uniqueEmail('takeover') }, { password: NEW_PASSWORD }, { email: uniqueEmail('both'), password: NEW_PASSWORD }]) {
    const response = await app.inject({ method: 'PATCH', url, headers: deputy.headers, payload })
    assert.equal(response.statusCode, 403, JSON.stringify(payload))
    assert.deepEqual(response.json(), FORBIDDEN)
  }
  const unchanged = await app.inject({ method: 'GET', url, headers: admin.headers })
  assert.equal(unchanged.json().email, peer.email)
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: peer.headers })).statusCode, 200, 'the peer was not signed out')
  // Other fields of a peer, and a member's credentials, stay within a deputy's reach.
  assert.equal((await app.inject({ method: 'PATCH', url, headers: deputy.headers, payload: { name: 'Peer' } })).statusCode, 200)
  assert.equal((await app.inject({ method: 'PATCH', url: `/api/v1/users/${member.user.id}`, headers: deputy.headers, payload: { password: NEW_PASSWORD } })).statusCode, 200)
  // The primary admin may set them.
  assert.equal((await app.inject({ method: 'PATCH', url, headers: admin.headers, payload: { password: NEW_PASSWORD } })).statusCode, 200)
  await signIn(app, peer.email, NEW_PASSWORD)
})

/** @see issue 15, item 13: a reset token survived an admin email change and verified the new address. */
test('an admin email change voids pending reset and verification links and clears is_verified unless given', async (t) => {
  const { app, admin, databaseUrl } = await buildAdminApp(t)
  const db = openDirectDb(t, databaseUrl)
  const target = await createUser(app, admin.headers, { is_verified: true })
  await app.inject({ method: 'POST', url: '/api/v1/auth/forgot-password', payload: { email: target.email } })
  // The reset mail is rendered (and its token issued) by the outbox sender.
  let resetMail: { text_body: string | null } | undefined
  for (let i = 0; i < 200 && !resetMail?.text_body; i++) {
    resetMail = await db.selectFrom('mail_outbox').select('text_body').where('recipient', '=', target.email).where('template', '=', 'password_reset').executeTakeFirst()
    if (!resetMail?.text_body) await new Promise((resolve) => setTimeout(resolve, 25))
  }
  const resetToken = /reset-password\?token=([A-Za-z0-9_-]+)/.exec(resetMail?.text_body ?? '')?.[1]
  assert.ok(resetToken, 'a reset link was mailed')

  const newEmail = uniqueEmail('moved')
  const changed = await app.inject({ method: 'PATCH', url: `/api/v1/users/${target.user.id}`, headers: admin.headers, payload: { email: newEmail } })
  assert.equal(changed.statusCode, 200)
  assert.equal(changed.json().email, newEmail)
  assert.equal(changed.json().is_verified, false, 'the new address is not verified')

  const reset = await app.inject({ method: 'POST', url: '/api/v1/auth/reset-password', payload: { token: resetToken, new_password: NEW_PASSWORD } })
  assert.equal(reset.statusCode, 400)
  assert.equal(reset.json().code, 'invalid_token')
  const after = await app.inject({ method: 'GET', url: `/api/v1/users/${target.user.id}`, headers: admin.headers })
  assert.equal(after.json().is_verified, false, 'still unverified')
  const live = await db.selectFrom('one_time_tokens').select('id').where('user_id', '=', target.user.id).where('used_at', 'is', null).execute()
  assert.equal(live.length, 0, 'no pending token is left')

  // Stated by the admin: kept as given.
  const stated = await app.inject({ method: 'PATCH', url: `/api/v1/users/${target.user.id}`, headers: admin.headers, payload: { email: uniqueEmail('stated'), is_verified: true } })
  assert.equal(stated.json().is_verified, true)
})

test('the owner is told of an admin email change at the old address, and of an admin-set password', async (t) => {
  const { app, databaseUrl, admin } = await buildAdminApp(t)
  const db = openDirectDb(t, databaseUrl)
  const { user, email: oldEmail } = await createUser(app, admin.headers, { is_verified: true, name: 'Ada' })
  const newEmail = uniqueEmail('moved')
  const mails = async (recipient: string, template: string) =>
    db.selectFrom('mail_outbox').select(['subject', 'text_body']).where('recipient', '=', recipient).where('template', '=', template).execute()

  assert.equal((await app.inject({ method: 'PATCH', url: `/api/v1/users/${user.id}`, headers: admin.headers, payload: { email: newEmail } })).statusCode, 200)
  const notice = await mails(oldEmail, 'email_changed')
  assert.equal(notice.length, 1, 'told at the address its owner still reads')
  assert.equal(notice[0]!.subject, 'The email address of your account was changed')
  assert.ok(!notice[0]!.text_body?.includes(newEmail), 'the new address is not named')
  assert.equal((await mails(newEmail, 'email_changed')).length, 0)

  assert.equal((await app.inject({ method: 'PATCH', url: `/api/v1/users/${user.id}`, headers: admin.headers, payload: { password: NEW_PASSWORD } })).statusCode, 200)
  assert.equal((await mails(newEmail, 'password_changed')).length, 1)
})
