import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createArgon2Hasher, type PasswordHasher } from '../../src/passwords/password-hasher.js'
import { buildTestAppWithDatabase } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { signUp } from '../helpers/factories.js'
import { fakeClock } from '../helpers/fake-clock.js'
import { enableTotp } from '../helpers/mfa.js'

/**
 * A hasher whose next successful verification runs `during` before it answers: what a
 * password change committing while a sign-in checks the old password looks like to the
 * sign-in (the hash check takes about 25 ms in production).
 */
function hasherWithHook (): PasswordHasher & { armed?: () => Promise<void> } {
  const inner = createArgon2Hasher({ memoryKib: 1024, timeCost: 1, parallelism: 1 })
  const hasher: PasswordHasher & { armed?: () => Promise<void> } = {
    ...inner,
    verify: async (hash, password) => {
      const ok = await inner.verify(hash, password)
      const during = hasher.armed
      hasher.armed = undefined
      if (ok && during) await during()
      return ok
    }
  }
  return hasher
}

async function changedDuringCheck (t: Parameters<typeof buildTestAppWithDatabase>[0], withMfa: boolean) {
  const clock = fakeClock()
  const hasher = hasherWithHook()
  const { app, databaseUrl } = await buildTestAppWithDatabase(t, {}, { clock, hasher })
  const db = openDirectDb(t, databaseUrl)
  const owner = await signUp(app)
  if (withMfa) await enableTotp(app, owner.accessToken, owner.password, clock.now())
  const count = async (table: 'sessions' | 'mfa_challenges') => (await db.selectFrom(table).select('user_id').where('user_id', '=', owner.userId).execute()).length
  const before = { sessions: await count('sessions'), challenges: await count('mfa_challenges') }
  // The owner's change (another instance, say) commits while this sign-in checks the old password.
  hasher.armed = async () => {
    await db.updateTable('users').set({ password_hash: await hasher.hash('a wholly different passphrase 42'), password_changed_at: clock.now().toISOString() }).where('id', '=', owner.userId).execute()
  }
  const response = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: owner.email, password: owner.password } })
  return { response, before, after: { sessions: await count('sessions'), challenges: await count('mfa_challenges') } }
}

test('a password change that commits during the sign-in\'s hash check: no session is opened with the old password', async (t) => {
  const { response, before, after } = await changedDuringCheck(t, false)
  assert.equal(response.statusCode, 401, response.body)
  assert.equal(response.json().code, 'invalid_credentials')
  assert.equal(after.sessions, before.sessions)
})

test('a password change that commits during the sign-in\'s hash check: no second step is started with the old password', async (t) => {
  const { response, before, after } = await changedDuringCheck(t, true)
  assert.equal(response.statusCode, 401, response.body)
  assert.equal(response.json().code, 'invalid_credentials')
  assert.equal(after.challenges, before.challenges)
})

test('a hash upgrade that loses to another write re-checks the account as it is now: deactivated meanwhile, no session', async (t) => {
  const clock = fakeClock()
  const inner = createArgon2Hasher({ memoryKib: 1024, timeCost: 1, parallelism: 1 })
  let during: (() => Promise<void>) | undefined
  // Every stored hash asks for an upgrade; the upgrade's hash runs `during` first, as a
  // concurrent sign-in's upgrade and an administrator's deactivation committing then would.
  const hasher: PasswordHasher = {
    ...inner,
    needsRehash: () => during !== undefined,
    hash: async (password) => {
      const run = during
      during = undefined
      if (run) await run()
      return inner.hash(password)
    }
  }
  const { app, databaseUrl } = await buildTestAppWithDatabase(t, {}, { clock, hasher })
  const db = openDirectDb(t, databaseUrl)
  const owner = await signUp(app)
  const sessions = async () => (await db.selectFrom('sessions').select('id').where('user_id', '=', owner.userId).execute()).length
  const before = await sessions()
  const upgradedElsewhere = await inner.hash(owner.password)
  during = async () => {
    await db.updateTable('users').set({ password_hash: upgradedElsewhere, is_active: 0 }).where('id', '=', owner.userId).execute()
  }
  const response = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: owner.email, password: owner.password } })
  assert.equal(during, undefined, 'the upgrade ran')
  assert.equal(response.statusCode, 403, response.body)
  assert.equal(response.json().code, 'inactive_user')
  assert.equal(await sessions(), before)
})
