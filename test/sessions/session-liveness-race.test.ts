import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely'
import { systemClock } from '../../src/lib/clock.js'
import { createSessionLiveness } from '../../src/sessions/session-liveness.js'
import { buildTestApp } from '../helpers/build-test-app.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { signUp } from '../helpers/factories.js'
import { createTestDatabaseUrl } from '../helpers/test-db.js'

/** Holds every query result until `open()`: a database read that is slow to come back. */
function gate (): { plugin: KyselyPlugin, open: () => void, reached: Promise<void> } {
  let open!: () => void
  let arrive!: () => void
  const opened = new Promise<void>((resolve) => { open = resolve })
  const reached = new Promise<void>((resolve) => { arrive = resolve })
  return {
    plugin: {
      transformQuery: (args: PluginTransformQueryArgs): RootOperationNode => args.node,
      async transformResult (args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
        arrive()
        await opened
        return args.result
      }
    },
    open,
    reached
  }
}

test('a session check whose read overlapped a revocation does not cache its stale answer', async (t) => {
  const databaseUrl = await createTestDatabaseUrl(t)
  const app = await buildTestApp(t, { DATABASE_URL: databaseUrl })
  const user = await signUp(app)
  const db = openDirectDb(t, databaseUrl)
  const session = await db.selectFrom('sessions').select('id').where('user_id', '=', user.userId).executeTakeFirstOrThrow()

  const slowRead = gate()
  const liveness = createSessionLiveness({ db: db.withPlugin(slowRead.plugin), clock: systemClock, ttlMs: 60_000 })
  // The read runs (and finds the session live), but its answer is held back...
  const inFlight = liveness.check(session.id)
  await slowRead.reached
  // ...while the session is revoked and the cache told so.
  // (Through another connection: the held read keeps its own, as a slow query would.)
  await openDirectDb(t, databaseUrl).updateTable('sessions').set({ revoked_at: new Date().toISOString() }).where('id', '=', session.id).execute()
  await liveness.forgetSession(session.id)
  slowRead.open()

  // The overlapping check may answer from its earlier read, but must not have cached it.
  assert.equal((await inFlight)?.sessionId, session.id)
  assert.equal(await liveness.check(session.id), undefined)
})
