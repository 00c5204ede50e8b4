import { recordAuditEvent, recordAuditEvents } from '../audit/audit.repository.js'
import { type Actor, AuditEvents } from '../audit/audit.service.js'
import { isSupportedHash, type PasswordHasher } from '../passwords/password-hasher.js'
import type { PasswordPolicy } from '../passwords/password-policy.js'
import type { Config } from '../config/index.js'
import type { Db } from '../database.js'
import { uniqueViolationColumn } from '../db/errors.js'
import { type AppError, Errors } from '../http/errors.js'
import type { Clock } from '../lib/clock.js'
import { voidTokens } from '../tokens/one-time-tokens.repository.js'
import { findRole } from '../roles/roles.repository.js'
import { normalizeEmail } from '../lib/email.js'
import { assertMayChangeUser } from './admin-change-rules.js'
import { toUser } from './users.mapper.js'
import { deleteUser, findUserByEmail, findUserById, insertUser, listUsers, newUserRow, type UserListQuery, updateUser } from './users.repository.js'
import { insertUsersSkippingTaken } from './users-import.repository.js'
import type { ImportUserInput, UserDto } from './users.schemas.js'
import type { UserRow, UsersTable } from './users.table.js'

export type { Actor }

export interface CreateUserInput {
  email: string
  username: string
  password: string
  name?: string | null | undefined
  role?: string | undefined
  is_active?: boolean | undefined
  is_superuser?: boolean | undefined
  is_verified?: boolean | undefined
}

export type UpdateUserInput = Partial<CreateUserInput>

/** The outcome of one row of an import, in the order of the rows given. */
export type ImportOutcome = { user: UserDto, error?: undefined } | { user?: undefined, error: AppError }

export interface UserPage { items: UserDto[], total: number, limit: number, offset: number }

export interface UsersServiceDeps {
  db: Db
  config: Config
  clock: Clock
  hasher: PasswordHasher
  sessions: UserSessions
  passwordPolicy: PasswordPolicy
  /**
   * Tells the owner of an administrative change to a way into their account, in its
   * transaction (wired to the mail module by the composition root: mail depends on users).
   */
  notify: AccountChangeNotices
}

export interface AccountChangeNotices {
  /** A new email address: told at the old one, which is the one its owner still reads. */
  emailChanged: (trx: Db, before: UserRow) => Promise<void>
  /** A new password set for them. */
  passwordChanged: (trx: Db, after: UserRow) => Promise<void>
}

/**
 * What this service needs of the sessions module, which owns revocation (its
 * `SessionRevocation` fits). Declared here, not imported, so that users does not depend on
 * sessions, which depends on users for the user it attaches to a session.
 */
export interface UserSessions {
  /** Runs `within` and revokes every session of the user in one transaction, then clears every cache. */
  revokeUserSessions: <T>(userId: string, within: (trx: Db) => Promise<T>) => Promise<T>
  /** Runs `within` in a transaction, then drops the cached sessions answers that carry the user. */
  changeUser: <T>(userId: string, within: (trx: Db) => Promise<T>) => Promise<T>
}

const unknownRole = () => Errors.validation([{ field: 'role', message: 'Unknown role' }])

/** Flags stored as 0/1, in the order they are reported in audit details. */
const FLAGS = ['is_active', 'is_superuser', 'is_verified'] as const

export type UsersService = ReturnType<typeof createUsersService>

export function createUsersService (deps: UsersServiceDeps) {
  const { db, clock, hasher, sessions } = deps
  const assertPasswordAcceptable = (password: string, context: { email: string, username: string }): Promise<void> =>
    deps.passwordPolicy.assertAcceptable('password', password, context)

  function conflict (error: unknown): never {
    const column = uniqueViolationColumn(error)
    if (column === 'email') throw Errors.emailTaken()
    if (column === 'username_lower' || column === 'username') throw Errors.usernameTaken()
    throw error
  }

  async function getRow (id: string): Promise<UserRow> {
    const row = await findUserById(db, id)
    if (!row) throw Errors.userNotFound()
    return row
  }

  const service = {
    /** One page of users with the number matching the filters. */
    async list (query: UserListQuery): Promise<UserPage> {
      const search = query.search?.trim()
      const { rows, total } = await listUsers(db, { ...query, search: search === '' ? undefined : search })
      return { items: rows.map(toUser), total, limit: query.limit, offset: query.offset }
    },

    async get (id: string): Promise<UserDto> {
      return toUser(await getRow(id))
    },

    /** Finds a user by id or email (operator CLI). */
    async find (idOrEmail: string): Promise<UserDto> {
      const row = idOrEmail.includes('@') ? await findUserByEmail(db, normalizeEmail(idOrEmail)) : await findUserById(db, idOrEmail)
      if (!row) throw Errors.userNotFound()
      return toUser(row)
    },

    /** Creates a user as an administrator; uniqueness is enforced by the database's indexes. */
    async create (input: CreateUserInput, actor: Actor): Promise<UserDto> {
      const email = normalizeEmail(input.email)
      const role = input.role ?? 'member'
      await assertPasswordAcceptable(input.password, { email, username: input.username })
      const passwordHash = await hasher.hash(input.password)
      const now = clock.now()
      return db.transaction().execute(async (trx) => {
        if (!(await findRole(trx, role))) throw unknownRole()
        let row: UserRow
        try {
          row = await insertUser(trx, newUserRow({
            email,
            username: input.username,
            name: input.name,
            passwordHash,
            role,
            isActive: input.is_active !== false,
            isSuperuser: input.is_superuser === true,
            isVerified: input.is_verified === true,
            now: now.toISOString()
          }))
        } catch (error) {
          conflict(error)
        }
        const user = toUser(row)
        await recordAuditEvent(trx, {
          type: AuditEvents.adminUserCreate,
          actorId: actor.userId,
          userId: user.id,
          ip: actor.ip,
          userAgent: actor.userAgent,
          details: { role: user.role, is_active: user.is_active, is_superuser: user.is_superuser, is_verified: user.is_verified, ...(actor.userId === null ? { via: 'cli' } : {}) },
          at: now
        })
        return user
      })
    },

    /**
     * Creates a batch of users carried over from another system, with their password hashes
     * as they are (bcrypt or argon2; upgraded to argon2id at each user's next sign-in). The
     * rules of `create` apply except the password policy, since there is no password to check:
     * a known role, unique email and username (a taken one refuses that row only, the rest of
     * the batch goes in), and one `admin.user.create` audit event per user created, written in
     * the batch's transaction. Rows must have passed the `ImportUserRow` schema.
     */
    async importBatch (rows: ImportUserInput[], actor: Actor): Promise<ImportOutcome[]> {
      const now = clock.now()
      return db.transaction().execute(async (trx) => {
        const outcomes: Array<ImportOutcome | undefined> = rows.map(() => undefined)
        const knownRoles = new Map<string, boolean>()
        const candidates: Array<{ index: number, row: ReturnType<typeof newUserRow> }> = []
        for (const [index, input] of rows.entries()) {
          if (!isSupportedHash(input.hash)) {
            outcomes[index] = { error: Errors.validation([{ field: 'hash', message: 'unsupported hash format (bcrypt $2a$/$2b$/$2y$ or argon2 expected)' }]) }
            continue
          }
          const role = input.role ?? 'member'
          if (!knownRoles.has(role)) knownRoles.set(role, (await findRole(trx, role)) !== undefined)
          if (knownRoles.get(role) !== true) {
            outcomes[index] = { error: unknownRole() }
            continue
          }
          candidates.push({
            index,
            row: newUserRow({ email: normalizeEmail(input.email), username: input.username, name: input.name || null, passwordHash: input.hash, role, isVerified: input.is_verified === true, now: now.toISOString() })
          })
        }
        const inserted = new Map((await insertUsersSkippingTaken(trx, candidates.map((c) => c.row))).map((row) => [row.id, row]))
        for (const { index, row } of candidates) {
          const created = inserted.get(row.id)
          if (created) outcomes[index] = { user: toUser(created) }
          else outcomes[index] = { error: (await findUserByEmail(trx, row.email)) ? Errors.emailTaken() : Errors.usernameTaken() }
        }
        await recordAuditEvents(trx, [...inserted.values()].map((row) => ({
          type: AuditEvents.adminUserCreate,
          actorId: actor.userId,
          userId: row.id,
          ip: actor.ip,
          userAgent: actor.userAgent,
          details: { role: row.role, is_active: row.is_active === 1, is_superuser: row.is_superuser === 1, is_verified: row.is_verified === 1, ...(actor.userId === null ? { via: 'cli' } : {}), import: true },
          at: now
        })))
        return outcomes.map((outcome) => outcome ?? { error: Errors.internal() })
      })
    },

    /**
     * Changes a user. Deactivation, demotion (losing superuser or changing role) and a new
     * password end every session of the user at once: their access tokens are refused on the
     * very next request, since each request checks its session.
     */
    async update (id: string, patch: UpdateUserInput, actor: Actor): Promise<UserDto> {
      const target = await getRow(id)
      const email = patch.email === undefined ? undefined : normalizeEmail(patch.email)
      const deactivates = patch.is_active === false && target.is_active === 1
      const demotes = (patch.is_superuser === false && target.is_superuser === 1) ||
        (patch.role !== undefined && patch.role !== target.role)
      const newEmail = email !== undefined && email !== target.email
      await assertMayChangeUser(db, target, actor, { disables: deactivates || demotes, credentials: patch.password !== undefined, email: newEmail })

      const values: Partial<UsersTable> = {}
      const changed: string[] = []
      if (email !== undefined && email !== target.email) { values.email = email; changed.push('email') }
      if (patch.username !== undefined && patch.username !== target.username) {
        values.username = patch.username
        values.username_lower = patch.username.toLowerCase()
        changed.push('username')
      }
      if (patch.name !== undefined && patch.name !== target.name) { values.name = patch.name; changed.push('name') }
      if (patch.role !== undefined && patch.role !== target.role) { values.role = patch.role; changed.push('role') }
      // A new address is not verified until its owner says so, unless the admin states it.
      const flagsWanted = { ...patch, ...(newEmail && patch.is_verified === undefined ? { is_verified: false } : {}) }
      for (const flag of FLAGS) {
        const wanted = flagsWanted[flag]
        if (wanted !== undefined && (wanted ? 1 : 0) !== target[flag]) { values[flag] = wanted ? 1 : 0; changed.push(flag) }
      }
      const now = clock.now()
      if (patch.password !== undefined) {
        await assertPasswordAcceptable(patch.password, { email: email ?? target.email, username: patch.username ?? target.username })
        values.password_hash = await hasher.hash(patch.password)
        values.password_changed_at = now.toISOString()
        changed.push('password')
      }
      if (changed.length === 0) return toUser(target)

      const revokes = deactivates || demotes || patch.password !== undefined
      // A revoking change and the revocation commit together; either way the cached session
      // answers (which carry the user) are dropped after the commit.
      const inTransaction = revokes ? sessions.revokeUserSessions : sessions.changeUser
      const row = await inTransaction(id, async (trx) => {
        if (values.role !== undefined && !(await findRole(trx, values.role))) throw unknownRole()
        let updated: UserRow | undefined
        try {
          updated = await updateUser(trx, id, { ...values, updated_at: now.toISOString() })
        } catch (error) {
          conflict(error)
        }
        if (!updated) throw Errors.userNotFound()
        // Links mailed to the old address must not work for the new one (a reset link would
        // also mark the new address verified).
        if (newEmail) {
          await voidTokens(trx, id, 'password_reset', now.toISOString())
          await voidTokens(trx, id, 'email_verification', now.toISOString())
          await deps.notify.emailChanged(trx, target)
        }
        if (patch.password !== undefined) await deps.notify.passwordChanged(trx, updated)
        const facts: Record<string, unknown> = { fields: changed }
        // New values of the authorisation fields; never the password, which is only "changed".
        if (values.role !== undefined) facts.role = values.role
        for (const flag of FLAGS) if (values[flag] !== undefined) facts[flag] = values[flag] === 1
        if (actor.userId === null) facts.via = 'cli'
        await recordAuditEvent(trx, { type: AuditEvents.adminUserUpdate, actorId: actor.userId, userId: id, ip: actor.ip, userAgent: actor.userAgent, details: facts, at: now })
        return updated
      })
      return toUser(row)
    },

    /** Deletes a user; their sessions go with them (foreign key cascade), so do their tokens. */
    async remove (id: string, actor: Actor): Promise<void> {
      const target = await getRow(id)
      await assertMayChangeUser(db, target, actor, { disables: true })
      const now = clock.now()
      // The sessions go with the user (foreign key cascade); the revocation clears the caches.
      await sessions.revokeUserSessions(id, async (trx) => {
        if (!(await deleteUser(trx, id))) throw Errors.userNotFound()
        await recordAuditEvent(trx, {
          type: AuditEvents.adminUserDelete,
          actorId: actor.userId,
          userId: id,
          ip: actor.ip,
          userAgent: actor.userAgent,
          details: { email: target.email, username: target.username, ...(actor.userId === null ? { via: 'cli' } : {}) },
          at: now
        })
      })
    }
  }
  return service
}
