import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sql } from 'kysely'
import { createDb } from '../../src/db/create-db.js'
import { addSeconds } from '../../src/lib/clock.js'
import { randomToken, sha256 } from '../../src/lib/crypto.js'
import { prepareRefreshRotation, type RefreshRotation } from '../../src/sessions/sessions.repository.js'
import { buildTestApp } from '../helpers/build-test-app.js'
import { signUp } from '../helpers/factories.js'
import { waitFor } from '../helpers/processes.js'
import { createTestDatabaseUrl, usePostgres } from '../helpers/test-db.js'

/** A rotation of the session's current token to a new one, within both lifetimes. */
function rotationOf (session: { id: string, hash: string }, now: Date): RefreshRotation {
  return {
    id: session.id,
    oldHash: session.hash,
    newHash: sha256(randomToken(32)),
    now: now.toISOString(),
    expiresAt: addSeconds(now, 3600).toISOString(),
    createdAfter: addSeconds(now, -3600).toISOString()
  }
}

// The rotations of one event-loop turn share a statement (PostgreSQL) or a commit (SQLite).
// Each must still answer as it would alone: its own conditions, one winner per token.
test('refresh rotations made in one turn are decided each on its own conditions, with one winner per token, and commit together', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const app = await buildTestApp(t, { DATABASE_URL: url })
  const users = await Promise.all(Array.from({ length: 5 }, () => signUp(app)))
  const handle = createDb(url)
  t.after(() => handle.close())
  const rotate = prepareRefreshRotation(handle.statements, handle.db)

  const now = new Date()
  const parts = users.map((u) => { const [id, secret] = u.refreshToken.split('.'); return { id: id!, hash: sha256(secret!) } })
  const call = (i: number, extra: Partial<RefreshRotation> = {}): RefreshRotation => ({ ...rotationOf(parts[i]!, now), ...extra })
  const calls = [
    call(0), // 0: wins, or its twin does
    call(0), // 1: the same token again in the same turn
    call(1, { clientId: 'authd', defaultClientId: 'authd' }), // 2: the client it was issued to
    call(2, { clientId: 'another-client', defaultClientId: 'authd' }), // 3: another client's token
    call(3, { createdAfter: addSeconds(now, 60).toISOString() }), // 4: past the session's absolute lifetime
    call(4, { oldHash: sha256('not the current secret') }), // 5: not the current hash
    call(4, { id: '00000000-0000-4000-8000-000000000000' }) // 6: no such session
  ]
  // All in one synchronous run, so all in one turn.
  const results = await Promise.all(calls.map(rotate))
  assert.equal(results.slice(0, 2).filter((r) => r !== undefined).length, 1, 'one winner for the token presented twice')
  assert.equal(results.find((r) => r !== undefined)?.user_id, users[0]!.userId)
  assert.equal(results[2]?.user_id, users[1]!.userId)
  assert.deepEqual(results.slice(3), [undefined, undefined, undefined, undefined])

  const winner = results[0] ? calls[0]! : calls[1]!
  const sessions = await handle.db.selectFrom('sessions').select(['id', 'refresh_token_hash']).where('id', 'in', parts.map((p) => p.id)).execute()
  const hashOf = new Map(sessions.map((s) => [s.id, s.refresh_token_hash]))
  assert.equal(hashOf.get(parts[0]!.id), winner.newHash)
  assert.equal(hashOf.get(parts[1]!.id), calls[2]!.newHash)
  for (const i of [2, 3, 4]) assert.equal(hashOf.get(parts[i]!.id), parts[i]!.hash, `session ${i} not rotated`)
  const family = await handle.db.selectFrom('rotated_refresh_tokens').select(['token_hash', 'session_id']).execute()
  assert.deepEqual(family.map((r) => [r.session_id, r.token_hash]).sort(), [[parts[0]!.id, parts[0]!.hash], [parts[1]!.id, parts[1]!.hash]].sort(),
    'exactly the two rotated-out hashes joined their families')

  if (usePostgres) {
    // One statement: both rows were written by one transaction.
    const { rows } = await sql<{ id: string, xmin: string }>`select id, xmin::text as xmin from sessions where id in (${parts[0]!.id}, ${parts[1]!.id})`.execute(handle.db)
    assert.equal(new Set(rows.map((r) => r.xmin)).size, 1, 'the two rotations share one transaction')
  }

  // Over HTTP: the losing twin's token is now a rotated-out one, and ends the session.
  const reused = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: users[0]!.refreshToken } })
  assert.equal(reused.statusCode, 401)
  const me = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: `Bearer ${users[0]!.accessToken}` } })
  assert.equal(me.statusCode, 401, 'the session was revoked')
})

// Two instances' batches lock shared sessions in one order, but another writer (an admin's
// revocation, a migration) can still lock them in the other. PostgreSQL then aborts one side
// with a deadlock; if it aborts the batch, each of its calls is retried alone and none is lost.
test('a batch of rotations that PostgreSQL aborts as a deadlock is retried call by call, and every rotation still succeeds', { skip: !usePostgres && 'deadlocks are a PostgreSQL matter', timeout: 60_000 }, async (t) => {
  const url = await createTestDatabaseUrl(t)
  const app = await buildTestApp(t, { DATABASE_URL: url })
  const users = await Promise.all(Array.from({ length: 2 }, () => signUp(app)))
  const handle = createDb(url)
  t.after(() => handle.close())
  const rotate = prepareRefreshRotation(handle.statements, handle.db)

  const now = new Date()
  // The batch locks its sessions in id order: `first`, then `second`.
  const [first, second] = users.map((u) => { const [id, secret] = u.refreshToken.split('.'); return { id: id!, hash: sha256(secret!), userId: u.userId } })
    .sort((a, b) => a.id < b.id ? -1 : 1) as [{ id: string, hash: string, userId: string }, { id: string, hash: string, userId: string }]
  const calls = [rotationOf(first, now), rotationOf(second, now)]

  const { rotations } = await handle.db.transaction().execute(async (other) => {
    // The other writer waits far longer than the server's deadlock_timeout before it checks,
    // so the batch's backend finds the cycle first and aborts itself.
    await sql`set local deadlock_timeout = '60s'`.execute(other)
    await sql`select id from sessions where id = ${second.id} for update`.execute(other)
    const rotations = Promise.all(calls.map(rotate)) // one turn: one batch
    // The batch has locked `first` and waits for `second`.
    await waitFor('the batch waits for the locked session', async () => {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query like 'with input as%'`.execute(handle.db)
      return rows[0]!.n > 0
    })
    // Now the other writer needs `first`: a cycle, which PostgreSQL breaks by aborting the batch.
    await sql`update sessions set last_used_at = last_used_at where id = ${first.id}`.execute(other)
    // Not awaited here: the retries wait for this transaction's locks, released by its commit.
    return { rotations }
  })
  const results = await rotations

  assert.deepEqual(results.map((r) => r?.user_id), [first.userId, second.userId], 'both rotations won after the retry')
  const rows = await handle.db.selectFrom('sessions').select(['id', 'refresh_token_hash']).where('id', 'in', [first.id, second.id]).execute()
  const hashOf = new Map(rows.map((r) => [r.id, r.refresh_token_hash]))
  assert.equal(hashOf.get(first.id), calls[0]!.newHash)
  assert.equal(hashOf.get(second.id), calls[1]!.newHash)
  const family = await handle.db.selectFrom('rotated_refresh_tokens').select(['session_id', 'token_hash']).execute()
  assert.deepEqual(family.map((r) => [r.session_id, r.token_hash]).sort(), [[first.id, first.hash], [second.id, second.hash]].sort())
  // Committed by the retries, one transaction each, not by the batch's single statement.
  const { rows: versions } = await sql<{ xmin: string }>`select xmin::text as xmin from sessions where id in (${first.id}, ${second.id})`.execute(handle.db)
  assert.equal(new Set(versions.map((r) => r.xmin)).size, 2, 'the batch was aborted and its calls retried one by one')
})
