import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sql } from 'kysely'
import { migrateDown, migrateToLatest } from '../../src/db/migrate.js'
import { openDirectDb } from '../helpers/direct-db.js'
import { createTestDatabaseUrl, usePostgres } from '../helpers/test-db.js'

const TABLES = ['mfa_totp', 'mfa_recovery_codes', 'mfa_challenges', 'passkeys', 'webauthn_challenges']

test('0007_mfa migrates up, down and up again', async (t) => {
  const db = openDirectDb(t, await createTestDatabaseUrl(t))
  await migrateToLatest(db)
  const tables = async () => usePostgres
    ? (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(db)).rows.map((r) => r.name)
    : (await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db)).rows.map((r) => r.name)
  const columns = async (table: string) => usePostgres
    ? (await sql<{ name: string }>`select column_name as name from information_schema.columns where table_schema = current_schema() and table_name = ${table}`.execute(db)).rows.map((c) => c.name)
    : (await sql<{ name: string }>`select name from pragma_table_info(${table})`.execute(db)).rows.map((c) => c.name)
  const present = async () => {
    const names = await tables()
    return { tables: TABLES.filter((table) => names.includes(table)), mfaEnabled: (await columns('users')).includes('mfa_enabled'), amr: (await columns('sessions')).includes('amr') }
  }
  assert.deepEqual(await present(), { tables: TABLES, mfaEnabled: true, amr: true })
  let down = await migrateDown(db)
  while (down[0] !== undefined && down[0].migrationName > '0007_mfa') down = await migrateDown(db)
  assert.equal(down[0]?.migrationName, '0007_mfa')
  assert.deepEqual(await present(), { tables: [], mfaEnabled: false, amr: false })
  await migrateToLatest(db)
  assert.deepEqual(await present(), { tables: TABLES, mfaEnabled: true, amr: true })
})
