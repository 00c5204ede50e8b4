import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import pg from 'pg'

/** Every test schema starts with this, so the test runner can find and drop them. */
export const TEST_SCHEMA_PREFIX = 'authd_test_'

export const usePostgres = process.env.TEST_DB === 'postgres'

/**
 * A fresh, empty database for one test: a new SQLite file, or (TEST_DB=postgres) a new schema
 * in TEST_DATABASE_URL reached through `search_path`. SQLite files are removed when the test
 * ends.
 */
export async function createTestDatabaseUrl (t: Pick<TestContext, 'after'>): Promise<string> {
  if (!usePostgres) {
    const dir = mkdtempSync(join(tmpdir(), 'authd-test-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    return `sqlite:${join(dir, 'auth.db')}`
  }
  const base = process.env.TEST_DATABASE_URL
  if (!base) throw new Error('TEST_DB=postgres needs TEST_DATABASE_URL')
  // AUTHD_TEST_RUN (set by scripts/run-tests.mjs) lets a run drop its own schemas and no other's.
  const schema = `${TEST_SCHEMA_PREFIX}${process.env.AUTHD_TEST_RUN ?? 'adhoc'}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 10)}`
  const admin = new pg.Client({ connectionString: base })
  await admin.connect()
  await admin.query(`create schema ${schema}`)
  await admin.end()
  // Not dropped here but by scripts/run-tests.mjs before and after the PostgreSQL run: one
  // sweep instead of a DROP per test.
  const url = new URL(base)
  url.searchParams.set('options', `-c search_path=${schema}`)
  return url.toString()
}
