import { createReadStream } from 'node:fs'
import { extname } from 'node:path'
import { createInterface } from 'node:readline'
import { parse } from 'csv-parse'
import type { Insertable } from 'kysely'
import { isSupportedHash } from '../passwords/password-hasher.js'
import { ConfigError, loadConfig } from '../config/index.js'
import { createDb } from '../db/create-db.js'
import type { Db } from '../database.js'
import { migrateToLatest } from '../db/migrate.js'
import { newUserRow } from '../users/users.repository.js'
import { normalizeEmail } from '../lib/email.js'
import { insertUsersSkippingTaken } from '../users/users-import.repository.js'
import { USERNAME_PATTERN } from '../users/users.schemas.js'
import type { UsersTable } from '../users/users.table.js'

const USAGE = 'usage: npm run import-users -- FILE.jsonl|FILE.csv [--format jsonl|csv] [--batch-size N]'
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const USERNAME = new RegExp(USERNAME_PATTERN)

interface SourceRow { line: number, fields: Record<string, unknown> | undefined, error?: string }

interface ImportReport { imported: number, rejected: Array<{ line: number, reason: string }> }

/** JSON Lines: one object per line; blank lines are skipped, a line that is not JSON is reported. */
async function * readJsonl (path: string): AsyncGenerator<SourceRow> {
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity })
  let line = 0
  for await (const text of lines) {
    line++
    if (text.trim() === '') continue
    try {
      const value: unknown = JSON.parse(text)
      if (value === null || typeof value !== 'object' || Array.isArray(value)) yield { line, fields: undefined, error: 'not a JSON object' }
      else yield { line, fields: value as Record<string, unknown> }
    } catch {
      yield { line, fields: undefined, error: 'not valid JSON' }
    }
  }
}

/** CSV with a header row (email,username,hash[,name][,is_verified]); line numbers count the header. */
async function * readCsv (path: string): AsyncGenerator<SourceRow> {
  const parser = createReadStream(path).pipe(parse({
    columns: (header: string[]) => header.map((name) => name.trim().toLowerCase()),
    bom: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count: true,
    info: true
  }))
  for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>, info: { lines: number } }>) {
    yield { line: info.lines, fields: record }
  }
}

function text (value: unknown): string | undefined {
  return typeof value === 'string' ? value.trim() : undefined
}

/** Validates one source row into a users row, or says what is wrong with it. */
function toUserRow (fields: Record<string, unknown>, now: string): Insertable<UsersTable> | string {
  const email = text(fields.email)
  const username = text(fields.username)
  const hash = text(fields.hash) ?? text(fields.password_hash)
  const name = text(fields.name)
  const verified = fields.is_verified
  if (!email) return 'missing email'
  if (email.length > 254 || !EMAIL.test(email)) return 'invalid email'
  if (!username) return 'missing username'
  if (!USERNAME.test(username)) return 'invalid username (3-32 of A-Z a-z 0-9 _ . -)'
  if (!hash) return 'missing hash'
  if (!isSupportedHash(hash)) return 'unsupported hash format (bcrypt $2a$/$2b$/$2y$ or argon2 expected)'
  if (name !== undefined && name.length > 100) return 'name longer than 100 characters'
  const isVerified = verified === true || verified === 'true' || verified === '1' || verified === 1
  return newUserRow({ email: normalizeEmail(email), username, name: name || null, passwordHash: hash, isVerified, now })
}

/**
 * Imports users in batches. A bad row is reported by its line number and skipped; it never
 * costs the good rows around it (each batch skips taken emails/usernames instead of failing).
 * Hashes are stored as they are and upgraded to argon2id at each user's next sign-in.
 */
async function importUsers (db: Db, source: AsyncIterable<SourceRow>, batchSize: number): Promise<ImportReport> {
  const report: ImportReport = { imported: 0, rejected: [] }
  const seenEmails = new Set<string>()
  const seenUsernames = new Set<string>()
  let batch: Array<{ line: number, row: Insertable<UsersTable> }> = []

  async function flush (): Promise<void> {
    if (batch.length === 0) return
    const inserted = await insertUsersSkippingTaken(db, batch.map((b) => b.row))
    for (const { line, row } of batch) {
      if (inserted.has(row.email)) report.imported++
      else report.rejected.push({ line, reason: 'email or username already exists' })
    }
    batch = []
  }

  for await (const { line, fields, error } of source) {
    if (!fields) {
      report.rejected.push({ line, reason: error ?? 'unreadable row' })
      continue
    }
    const row = toUserRow(fields, new Date().toISOString())
    if (typeof row === 'string') {
      report.rejected.push({ line, reason: row })
      continue
    }
    if (seenEmails.has(row.email)) {
      report.rejected.push({ line, reason: 'duplicate email in file' })
      continue
    }
    if (seenUsernames.has(row.username_lower)) {
      report.rejected.push({ line, reason: 'duplicate username in file' })
      continue
    }
    seenEmails.add(row.email)
    seenUsernames.add(row.username_lower)
    batch.push({ line, row })
    if (batch.length >= batchSize) await flush()
  }
  await flush()
  report.rejected.sort((a, b) => a.line - b.line)
  return report
}

function option (args: string[], name: string): string | undefined {
  const index = args.indexOf(name)
  return index >= 0 ? args[index + 1] : undefined
}

/** Exit codes: 0 all imported, 1 some rows rejected (the rest imported), 2 bad configuration, 64 usage. */
async function main (): Promise<void> {
  const args = process.argv.slice(2)
  const path = args.find((arg, i) => !arg.startsWith('--') && !args[i - 1]?.startsWith('--'))
  const format = option(args, '--format') ?? (extname(path ?? '').toLowerCase() === '.csv' ? 'csv' : 'jsonl')
  const batchSize = Number(option(args, '--batch-size') ?? 500)
  if (!path || !['jsonl', 'csv'].includes(format) || !Number.isInteger(batchSize) || batchSize < 1 || batchSize > 2000) {
    process.stderr.write(`${USAGE}\n`)
    process.exit(64)
  }
  const config = loadConfig()
  const { db, close } = createDb(config.databaseUrl)
  try {
    await migrateToLatest(db)
    const report = await importUsers(db, format === 'csv' ? readCsv(path) : readJsonl(path), batchSize)
    // Reasons only, never the row: a rejected row may hold a hash.
    for (const { line, reason } of report.rejected) process.stderr.write(`line ${line}: ${reason}\n`)
    process.stdout.write(`imported ${report.imported}, rejected ${report.rejected.length}\n`)
    process.exitCode = report.rejected.length > 0 ? 1 : 0
  } finally {
    await close()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? 'Configuration error' : 'Import failed'}: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(error instanceof ConfigError ? 2 : 3)
})
