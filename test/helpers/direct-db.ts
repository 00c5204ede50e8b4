import type { TestContext } from 'node:test'
import { createDb } from '../../src/db/create-db.js'
import type { Db } from '../../src/database.js'

/**
 * A second connection to a test app's database, for arranging state the API cannot (e.g.
 * making the first superuser) and for asserting on rows. Writes here bypass the app's caches:
 * make them before the affected user's first authenticated request.
 */
export function openDirectDb (t: Pick<TestContext, 'after'>, databaseUrl: string): Db {
  const handle = createDb(databaseUrl)
  t.after(() => handle.close())
  return handle.db
}
