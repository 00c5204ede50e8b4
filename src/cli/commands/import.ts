import { accessSync, constants, statSync } from 'node:fs'
import { extname } from 'node:path'
import { type AppError, Errors } from '../../http/errors.js'
import { normalizeEmail } from '../../lib/email.js'
import { type ImportUserInput, ImportUserRow } from '../../users/users.schemas.js'
import { choiceOption, integerOption, oneArg } from '../args.js'
import { defineCommand, type GroupSpec } from '../command.js'
import { readCsv, readJsonl, type SourceRow } from '../import-source.js'
import { bodyValidator } from '../validate.js'
import { OPERATOR } from './users.js'

interface Rejected { line: number, code: string, reason: string }

const validateRow = bodyValidator(ImportUserRow)

/** Trimmed; an empty cell (all CSV has for "no value") is an absent field. */
function text (value: unknown): unknown {
  if (typeof value !== 'string') return value
  const trimmed = value.trim()
  return trimmed === '' ? undefined : trimmed
}

/** CSV has only text: "true"/"1" and "false"/"0"/"" are the booleans; anything else fails the schema. */
function flagValue (value: unknown): unknown {
  if (value === undefined || value === null || value === '' || value === 'false' || value === '0' || value === 0) return false
  if (value === 'true' || value === '1' || value === 1) return true
  return value
}

/** A file's fields as the `ImportUserRow` the API's validator checks: trimmed, `password_hash` accepted for `hash`. */
function toInput (fields: Record<string, unknown>): Record<string, unknown> {
  const name = text(fields.name)
  const role = text(fields.role)
  return {
    email: text(fields.email),
    username: text(fields.username),
    hash: text(fields.hash ?? fields.password_hash),
    ...(name !== undefined ? { name } : {}),
    ...(role !== undefined ? { role } : {}),
    is_verified: flagValue(fields.is_verified)
  }
}

/** Reasons name fields and rules, never values: a rejected row may hold a hash. */
function reasonOf (error: AppError): string {
  const fields = error.options.errors?.map((e) => `${e.field}: ${e.message}`).join('; ')
  return error.code === 'validation_error' && fields ? fields : error.message
}

/**
 * Imports users in batches through the users service. A bad row is reported by its line
 * number and skipped; it never costs the good rows around it.
 */
async function importRows (source: AsyncIterable<SourceRow>, batchSize: number, importBatch: (rows: ImportUserInput[]) => Promise<Array<{ error?: AppError | undefined }>>) {
  let imported = 0
  const rejected: Rejected[] = []
  const seenEmails = new Set<string>()
  const seenUsernames = new Set<string>()
  let batch: Array<{ line: number, row: ImportUserInput }> = []
  const reject = (line: number, error: AppError, reason = reasonOf(error)): void => { rejected.push({ line, code: error.code, reason }) }

  async function flush (): Promise<void> {
    if (batch.length === 0) return
    const outcomes = await importBatch(batch.map((b) => b.row))
    for (const [i, { line }] of batch.entries()) {
      const error = outcomes[i]?.error
      if (error) reject(line, error)
      else imported++
    }
    batch = []
  }

  for await (const { line, fields, error } of source) {
    if (!fields) {
      const message = error ?? 'unreadable row'
      reject(line, Errors.validation([{ field: 'row', message }]), message)
      continue
    }
    const input = toInput(fields)
    const problems = validateRow(input)
    if (problems.length > 0) {
      reject(line, Errors.validation(problems))
      continue
    }
    const row = input as ImportUserInput
    // The service's own rule (taken email or username) applies across batches; this catches a
    // file that repeats itself, whose later row would otherwise be reported as taken by itself.
    const email = normalizeEmail(row.email)
    const username = row.username.toLowerCase()
    if (seenEmails.has(email)) {
      reject(line, Errors.validation([{ field: 'email', message: 'duplicate in the file' }]))
      continue
    }
    if (seenUsernames.has(username)) {
      reject(line, Errors.validation([{ field: 'username', message: 'duplicate in the file' }]))
      continue
    }
    seenEmails.add(email)
    seenUsernames.add(username)
    batch.push({ line, row })
    if (batch.length >= batchSize) await flush()
  }
  await flush()
  rejected.sort((a, b) => a.line - b.line)
  return { imported, rejected }
}

export const importGroup: GroupSpec = {
  summary: 'bulk imports from another system',
  commands: {
    users: defineCommand({
      synopsis: '<FILE.jsonl|FILE.csv> [--format jsonl|csv] [--batch-size N]',
      summary: 'import users with their bcrypt or argon2 hashes (upgraded to argon2id at next sign-in)',
      details: [
        'Fields: email, username, hash (or password_hash), and optionally name, role, is_verified.',
        'JSON Lines: one object per line. CSV: a header row naming the columns.',
        'Each row is checked as POST /api/v1/users checks a user (same schema, known role, unique',
        'email and username); a rejected row is reported by line and skipped, the others are',
        'imported. Every user created gets an admin.user.create audit event (details: via cli,',
        'import true), written in the transaction of its batch. Exit code 1 if any row was rejected.'
      ].join('\n'),
      options: { format: { type: 'string' }, 'batch-size': { type: 'string' } },
      parse: (input) => {
        const path = oneArg(input, 'import users', 'file')
        try {
          accessSync(path, constants.R_OK)
          if (!statSync(path).isFile()) throw new Error('not a file')
        } catch {
          throw Errors.usage(`cannot read ${path}`)
        }
        const format = choiceOption(input, 'format', ['jsonl', 'csv'] as const, extname(path).toLowerCase() === '.csv' ? 'csv' : 'jsonl')
        return { path, format, batchSize: integerOption(input, 'batch-size', { fallback: 500, min: 1, max: 2000 }) }
      },
      run: async (ctx, { path, format, batchSize }) => {
        const users = ctx.users()
        const report = await importRows(format === 'csv' ? readCsv(path) : readJsonl(path), batchSize, (rows) => users.importBatch(rows, OPERATOR))
        return {
          json: report,
          text: `imported ${report.imported}, rejected ${report.rejected.length}`,
          notes: report.rejected.map(({ line, reason }) => `line ${line}: ${reason}`),
          failed: report.rejected.length > 0
        }
      }
    })
  }
}
