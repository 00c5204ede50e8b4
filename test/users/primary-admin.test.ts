import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ADMIN_PASSWORD, signIn } from '../helpers/admin.js'
import { buildTestApp } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { bearer, signUp, uniqueEmail } from '../helpers/factories.js'
import { createTestDatabaseUrl } from '../helpers/test-db.js'

test('the primary admin is created on start, once, and a password changed since is kept', async (t) => {
  const DATABASE_URL = await createTestDatabaseUrl(t)
  const email = uniqueEmail('Root')
  const env = { DATABASE_URL, ADMIN_EMAIL: email.toUpperCase(), ADMIN_PASSWORD }
  const first = await buildTestApp(t, env)
  const admin = await signIn(first, email, ADMIN_PASSWORD)
  const me = (await first.inject({ method: 'GET', url: '/api/v1/auth/me', headers: admin.headers })).json()
  assert.equal(me.email, email.toLowerCase())
  assert.equal(me.role, 'admin')
  assert.equal(me.is_superuser, true)
  assert.equal(me.is_verified, true)
  assert.equal(me.is_active, true)

  const changed = 'a passphrase changed since start 5'
  const change = await first.inject({ method: 'POST', url: '/api/v1/auth/change-password', headers: admin.headers, payload: { old_password: ADMIN_PASSWORD, new_password: changed } })
  assert.equal(change.statusCode, 200)
  await first.close()

  // A restart with the same environment neither duplicates the admin nor resets its password.
  const second = await buildTestApp(t, env)
  const old = await second.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email, password: ADMIN_PASSWORD } })
  assert.equal(old.statusCode, 401)
  const again = await signIn(second, email, changed)
  const list = await second.inject({ method: 'GET', url: '/api/v1/users', headers: again.headers })
  assert.equal(list.json().total, 1)
  const db = openDirectDb(t, DATABASE_URL)
  const primaries = await db.selectFrom('users').select('id').where('is_primary', '=', 1).execute()
  assert.deepEqual(primaries.map((p) => p.id), [admin.id])
})

test('instances starting at once on one database create exactly one primary admin', async (t) => {
  const DATABASE_URL = await createTestDatabaseUrl(t)
  const email = uniqueEmail('root')
  // One app migrates first, as a deployment does; the bootstraps then race.
  await (await buildTestApp(t, { DATABASE_URL })).close()
  const apps = await Promise.all([1, 2, 3].map(() => buildTestApp(t, { DATABASE_URL, ADMIN_EMAIL: email, ADMIN_PASSWORD })))
  const admin = await signIn(apps[0]!, email, ADMIN_PASSWORD)
  const list = await apps[1]!.inject({ method: 'GET', url: '/api/v1/users', headers: admin.headers })
  assert.equal(list.statusCode, 200)
  assert.equal(list.json().total, 1)
})

test('an account that already holds ADMIN_EMAIL is promoted only if ADMIN_PASSWORD is its password', async (t) => {
  const DATABASE_URL = await createTestDatabaseUrl(t)
  const email = uniqueEmail('squatter')
  const app = await buildTestApp(t, { DATABASE_URL })
  const squatter = await signUp(app, { email })
  await app.close()

  const restarted = await buildTestApp(t, { DATABASE_URL, ADMIN_EMAIL: email, ADMIN_PASSWORD })
  const session = await signIn(restarted, email, squatter.password)
  const refused = await restarted.inject({ method: 'GET', url: '/api/v1/users', headers: session.headers })
  assert.equal(refused.statusCode, 403)
  assert.equal((await restarted.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email, password: ADMIN_PASSWORD } })).statusCode, 401)
  await restarted.close()

  // The owner of the address proves it with the password: then it becomes the primary admin.
  const owned = await buildTestApp(t, { DATABASE_URL, ADMIN_EMAIL: email, ADMIN_PASSWORD: squatter.password })
  const owner = await signIn(owned, email, squatter.password)
  const allowed = await owned.inject({ method: 'GET', url: '/api/v1/users', headers: bearer(owner.accessToken) })
  assert.equal(allowed.statusCode, 200)
})

test('a weak ADMIN_PASSWORD stops start-up with a message naming the variable', async (t) => {
  await assert.rejects(buildTestApp(t, { ADMIN_EMAIL: uniqueEmail(), ADMIN_PASSWORD: 'password' }), /ADMIN_PASSWORD: Password/)
})
