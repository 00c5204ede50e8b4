import { randomBytes } from 'node:crypto'
import { recordAuditEvent } from '../audit/audit.repository.js'
import { AuditEvents } from '../audit/audit.service.js'
import type { PasswordHasher } from '../passwords/password-hasher.js'
import { passwordProblem } from '../passwords/password-policy.js'
import type { Config } from '../config/index.js'
import { ConfigError } from '../config/index.js'
import type { Db } from '../database.js'
import { uniqueViolationColumn } from '../db/errors.js'
import type { Clock } from '../lib/clock.js'
import { normalizeEmail } from '../lib/email.js'
import { findPrimaryUser, findUserByEmail, insertUser, newUserRow, updateUser } from './users.repository.js'

export type PrimaryAdminOutcome = 'created' | 'promoted' | 'exists' | 'email_in_use' | 'other_primary_exists'

/** A valid username from the email's local part, e.g. `ops.team+x@…` → `ops.team_x`. */
function usernameFor (email: string, attempt: number): string {
  let base = (email.split('@')[0] ?? '').replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 32)
  if (base.length < 3) base = `admin_${base}`.slice(0, 32)
  return attempt === 0 ? base : `${base.slice(0, 25)}-${randomBytes(3).toString('hex')}`
}

/**
 * Creates the primary admin from ADMIN_EMAIL / ADMIN_PASSWORD at start-up. Idempotent: an
 * existing primary admin is left alone, so a password changed since is never overwritten.
 * Several instances may start at once: the unique indexes on email and on the primary flag
 * let exactly one insert win, and the others find its row.
 *
 * An ordinary account that already holds ADMIN_EMAIL is promoted only when ADMIN_PASSWORD is
 * its password: otherwise whoever signed up with that address first would become superuser.
 */
export async function ensurePrimaryAdmin (deps: { db: Db, config: Config, clock: Clock, hasher: PasswordHasher }): Promise<PrimaryAdminOutcome | undefined> {
  const { db, config, clock, hasher } = deps
  const { email: rawEmail, password } = config.admin
  if (rawEmail === undefined || password === undefined) return undefined
  const email = normalizeEmail(rawEmail)

  for (let attempt = 0; attempt < 5; attempt++) {
    const existing = await findUserByEmail(db, email)
    if (existing?.is_primary === 1) return 'exists'
    const primary = await findPrimaryUser(db)
    if (primary) return 'other_primary_exists'
    const now = clock.now()

    if (existing) {
      if (!(await hasher.verify(existing.password_hash, password))) return 'email_in_use'
      try {
        await db.transaction().execute(async (trx) => {
          await updateUser(trx, existing.id, { is_primary: 1, is_superuser: 1, is_active: 1, is_verified: 1, role: 'admin', updated_at: now.toISOString() })
          await recordAuditEvent(trx, { type: AuditEvents.adminPrimaryPromote, userId: existing.id, details: { via: 'ADMIN_EMAIL' }, at: now })
        })
        return 'promoted'
      } catch (error) {
        if (uniqueViolationColumn(error) === undefined) throw error
        continue
      }
    }

    const username = usernameFor(email, attempt)
    const problem = await passwordProblem(password, { email, username }, { minLength: config.password.minLength, maxLength: config.password.maxLength })
    if (problem) throw new ConfigError('ADMIN_PASSWORD', problem)
    const passwordHash = await hasher.hash(password)
    try {
      await db.transaction().execute(async (trx) => {
        const row = await insertUser(trx, newUserRow({ email, username, passwordHash, role: 'admin', isSuperuser: true, isVerified: true, isPrimary: true, now: now.toISOString() }))
        await recordAuditEvent(trx, { type: AuditEvents.adminPrimaryCreate, userId: row.id, details: { via: 'ADMIN_EMAIL' }, at: now })
      })
      return 'created'
    } catch (error) {
      // Another instance won the race (email or primary index), or the username is taken:
      // look again, and try another username if that was the clash.
      if (uniqueViolationColumn(error) === undefined) throw error
    }
  }
  throw new Error('Could not create the primary admin: usernames derived from ADMIN_EMAIL are all taken')
}
