import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { buildTestApp, buildTestAppWithDatabase } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { bearer, signUp } from '../helpers/factories.js'

const refresh = (app: Awaited<ReturnType<typeof buildTestApp>>, token: string) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: token } })

test('presenting a rotated-out refresh token revokes the whole session', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const rotated = await refresh(app, user.refreshToken)
  assert.equal(rotated.statusCode, 200)
  const reuse = await refresh(app, user.refreshToken)
  assert.equal(reuse.statusCode, 401)
  assert.equal(reuse.json().code, 'invalid_token')
  // Every token of that sign-in is dead now, including the newest pair.
  assert.equal((await refresh(app, rotated.json().refresh_token)).statusCode, 401)
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(rotated.json().access_token) })).statusCode, 401)
})

test('a guessed secret for a known session id is refused and revokes nothing (no forced logout)', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  // The session id is not secret: it is the `sid` claim of every access token.
  const sid = JSON.parse(Buffer.from(user.accessToken.split('.')[1]!, 'base64url').toString()).sid as string
  assert.equal(user.refreshToken.split('.')[0], sid)
  for (let i = 0; i < 3; i++) {
    const guess = await refresh(app, `${sid}.${randomBytes(32).toString('base64url')}`)
    assert.equal(guess.statusCode, 401)
  }
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(user.accessToken) })).statusCode, 200)
  assert.equal((await refresh(app, user.refreshToken)).statusCode, 200)
})

/** @see issue 15, item 8: only the last rotated-out token used to count as reuse. */
test('every token the session rotated out revokes it: R0 → R1 → R2, then R0 (or R1) comes back', async (t) => {
  for (const comesBack of [0, 1]) {
    const app = await buildTestApp(t)
    const user = await signUp(app)
    const family = [user.refreshToken]
    let access = user.accessToken
    for (let i = 0; i < 2; i++) {
      const rotated = await refresh(app, family.at(-1)!)
      assert.equal(rotated.statusCode, 200)
      family.push(rotated.json().refresh_token)
      access = rotated.json().access_token
    }
    const reuse = await refresh(app, family[comesBack]!)
    assert.equal(reuse.statusCode, 401, `R${comesBack} is refused`)
    assert.equal(reuse.json().code, 'invalid_token')
    // The session is over: the newest refresh token (R2) and the newest access token too.
    assert.equal((await refresh(app, family[2]!)).statusCode, 401, `R2 dies when R${comesBack} comes back`)
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(access) })).statusCode, 401)
  }
})

test('the family is stored as hashes only: no refresh token secret is in the database', async (t) => {
  const { app, databaseUrl } = await buildTestAppWithDatabase(t)
  const user = await signUp(app)
  const r1 = (await refresh(app, user.refreshToken)).json().refresh_token as string
  await refresh(app, r1)
  const db = openDirectDb(t, databaseUrl)
  const rows = await db.selectFrom('rotated_refresh_tokens').selectAll().execute()
  assert.equal(rows.length, 2)
  const dump = JSON.stringify([rows, await db.selectFrom('sessions').selectAll().execute()])
  for (const token of [user.refreshToken, r1]) assert.ok(!dump.includes(token.split('.')[1]!), 'no secret in clear')
})

/**
 * The rule for a race: two refreshes with the same token, in parallel, cannot both win (the
 * rotation is one conditional update). The loser presents a token that is now rotated out,
 * which is what a thief racing the owner looks like: the session is revoked, and the winner's
 * new tokens die with it.
 */
test('two parallel refreshes of one token: exactly one succeeds, then the session is revoked', async (t) => {
  const app = await buildTestApp(t)
  for (let round = 0; round < 5; round++) {
    const user = await signUp(app)
    const answers = await Promise.all([refresh(app, user.refreshToken), refresh(app, user.refreshToken)])
    const codes = answers.map((a) => a.statusCode).sort()
    assert.deepEqual(codes, [200, 401], 'exactly one success')
    const winner = answers.find((a) => a.statusCode === 200)!.json()
    assert.equal((await refresh(app, winner.refresh_token)).statusCode, 401, 'the winner\'s refresh token died with the session')
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(winner.access_token) })).statusCode, 401)
  }
})

test('two instances on one database: parallel refreshes of one token, one to each, still give exactly one success and a revoked session', async (t) => {
  const { app: first, databaseUrl } = await buildTestAppWithDatabase(t)
  const second = await buildTestApp(t, { DATABASE_URL: databaseUrl })
  for (let round = 0; round < 5; round++) {
    const user = await signUp(first)
    const answers = await Promise.all([refresh(first, user.refreshToken), refresh(second, user.refreshToken)])
    assert.deepEqual(answers.map((a) => a.statusCode).sort(), [200, 401])
    const winner = answers.find((a) => a.statusCode === 200)!.json()
    for (const app of [first, second]) {
      assert.equal((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(winner.access_token) })).statusCode, 401, 'revoked on both instances')
    }
  }
})
