import { AuditEvents, type AuditEventType, type AuditLog } from '../audit/audit.service.js'
import type { Config } from '../config/index.js'
import type { ClientInfo } from '../lib/client-info.js'
import type { Db } from '../database.js'
import type { StatementPreparer } from '../db/prepared-statement.js'
import { signInRefusal } from '../users/sign-in-eligibility.js'
import { uniqueViolationColumn } from '../db/errors.js'
import { AppError, Errors } from '../http/errors.js'
import { signinAttempts } from '../metrics/metrics.js'
import { addSeconds, type Clock, toIso } from '../lib/clock.js'
import { newId, randomToken, sha256 } from '../lib/crypto.js'
import type { SessionLiveness } from '../sessions/session-liveness.js'
import type { SessionRevocation } from '../sessions/session-revocation.js'
import {
  findSession, findSessionByRefreshHash, listLiveSessions, prepareRefreshRotation, sessionOpeningStatements, wasRotatedOut
} from '../sessions/sessions.repository.js'
import { type AuthRateLimits, isRateLimited } from '../rate-limits/rate-limit.js'
import type { TokenSigner } from '../tokens/jwt.js'
import { toUser } from '../users/users.mapper.js'
import { normalizeEmail } from '../lib/email.js'
import { findUserByEmail, findUserById, insertUser, newUserRow, passwordStillCurrent, signInUserLookups, updateUser, upgradePasswordHash } from '../users/users.repository.js'
import type { UserDto } from '../users/users.schemas.js'
import type { UserRow } from '../users/users.table.js'
import { afterPasswordChange, enqueueAccountExistsMail, enqueueUsernameTakenMail, enqueueWelcomeMail } from '../mail/account-mail.js'
import type { PasswordHasher } from '../passwords/password-hasher.js'
import type { PasswordPolicy } from '../passwords/password-policy.js'

export type { ClientInfo }

/** One sign-in attempt with a password, from whichever entry point. */
export interface SignInAttempt {
  email: string
  password: string
  ip: string | null
  userAgent: string | null
  /** The OAuth client named at the token endpoint; absent elsewhere (the default client). */
  clientId?: string | undefined
}

export interface IssuedTokens {
  accessToken: string
  refreshToken: string
  expiresIn: number
  user: UserDto
}

export interface SessionView {
  id: string
  created_at: string
  last_used_at: string
  expires_at: string
  ip: string | null
  user_agent: string | null
  /** RFC 8176 methods the session was opened with. */
  amr: string[]
  current: boolean
}

export interface AuthServiceDeps {
  db: Db
  /** Hot-path statements prepared once per database (the refresh rotation). */
  statements: StatementPreparer
  config: Config
  clock: Clock
  hasher: PasswordHasher
  signer: TokenSigner
  liveness: SessionLiveness
  passwordPolicy: PasswordPolicy
  /** The one way to revoke sessions (database, then every cache). */
  sessions: SessionRevocation
  /** The sign-in limits, enforced by `signIn` for every entry point. */
  rateLimits: AuthRateLimits
  /** Security events go here; absent in callers that do not audit. */
  audit?: AuditLog
  /**
   * Starts the second step for a user with two-step verification on (mfa/): returns the
   * `mfa_token` that /mfa/verify takes. Injected by the composition root, so this flow does
   * not depend on the MFA flow, which builds on it.
   */
  secondStep?: (user: UserRow, client: ClientInfo) => Promise<string>
}

/** Opens a session in the caller's transaction (see `inSessionTransaction`). */
export type SessionOpener = (user: UserDto, client: ClientInfo, amr: readonly string[]) => Promise<IssuedTokens>

/** RFC 8176 values of a session opened by a password alone. */
export const PASSWORD_AMR: readonly string[] = ['pwd']

/** Sessions opened before `amr` was recorded were password sessions. */
export function amrOf (stored: string | null | undefined): string[] {
  return stored ? stored.split(' ') : [...PASSWORD_AMR]
}

/** A refresh token is `<session id>.<secret>`; only SHA-256 of the secret is stored. */
function parseRefreshToken (token: string): { sessionId: string, secret: string } | undefined {
  const match = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/.exec(token)
  return match ? { sessionId: match[1]!, secret: match[2]! } : undefined
}

export type AuthService = ReturnType<typeof createAuthService>

export function createAuthService (deps: AuthServiceDeps) {
  const { db, config, clock, hasher, signer, liveness, sessions, rateLimits } = deps
  const rotateRefreshToken = prepareRefreshRotation(deps.statements, db)
  const { insertSession, liveSessionsBeyond } = sessionOpeningStatements(deps.statements)
  const { userByEmail } = signInUserLookups(deps.statements)

  /**
   * A refresh token that rotated nothing: reused when it is one the session rotated out (any
   * of the family, not only the last), else just invalid. A token never issued for this
   * session (a guess by someone who knows its id, the `sid` of every access token) revokes
   * nothing.
   */
  async function whyNotRotated (sessionId: string, tokenHash: string): Promise<{ kind: 'reused', userId: string } | { kind: 'invalid' }> {
    const session = await findSession(db, sessionId)
    if (session && session.revoked_at === null && await wasRotatedOut(db, session.id, tokenHash)) return { kind: 'reused', userId: session.user_id }
    return { kind: 'invalid' }
  }
  /** Pass `trx` whenever the event records a write: it then commits with it (see AuditLog). */
  const audit = async (type: AuditEventType, userId: string | null, client: ClientInfo | undefined, details?: Record<string, unknown>, trx?: Db): Promise<void> => {
    await deps.audit?.record(type, { userId, actorId: userId, ip: client?.ip ?? null, userAgent: client?.userAgent ?? null, ...(details ? { details } : {}) }, trx)
  }
  const assertPasswordAcceptable = deps.passwordPolicy.assertAcceptable

  function conflict (error: unknown): never {
    const column = uniqueViolationColumn(error)
    if (column === 'email') throw Errors.emailTaken()
    if (column === 'username_lower' || column === 'username') throw Errors.usernameTaken()
    throw error
  }

  async function accessTokenFor (user: UserDto, session: { id: string, clientId: string, amr: readonly string[] }) {
    return signer.signAccessToken({ sub: user.id, sid: session.id, role: user.role, email: user.email, clientId: session.clientId, amr: session.amr })
  }

  /**
   * Opens a session for a verified user and issues its first token pair; `amr` says how it
   * was verified. In `trx` when given, else a statement committed on its own.
   */
  async function startSession (user: UserDto, client: ClientInfo, amr: readonly string[], trx?: Db): Promise<IssuedTokens> {
    const now = clock.now()
    const sessionId = newId()
    const secret = randomToken(32)
    const clientId = client.clientId ?? config.tokens.defaultClientId
    await insertSession({
      id: sessionId,
      user_id: user.id,
      client_id: clientId,
      refresh_token_hash: sha256(secret),
      created_at: now.toISOString(),
      last_used_at: now.toISOString(),
      expires_at: addSeconds(now, Math.min(config.tokens.refreshTtlSeconds, config.tokens.sessionMaxAgeSeconds)).toISOString(),
      ip: client.ip,
      user_agent: client.userAgent?.slice(0, 512) ?? null,
      amr: amr.join(' ')
    }, trx)
    const access = await accessTokenFor(user, { id: sessionId, clientId, amr })
    return { accessToken: access.token, expiresIn: access.expiresIn, refreshToken: `${sessionId}.${secret}`, user }
  }

  /**
   * MAX_SESSIONS_PER_USER: a new sign-in past the cap ends the oldest live sessions (through
   * the sessions module, so every cache forgets them), so a script signing in in a loop
   * cannot grow one user's sessions without bound. Concurrent sign-ins each end the same
   * oldest ones (revocation is idempotent). Runs once the new session is committed, never
   * inside the transaction that opened it: the revocation writes through its own connection
   * and clears the caches after its write, and on SQLite, whose one connection the open
   * transaction holds, that write would wait for it forever.
   */
  async function enforceSessionCap (userId: string): Promise<void> {
    const excess = await liveSessionsBeyond(userId, config.sessions.maxPerUser, clock.now().toISOString())
    for (const id of excess) await sessions.revokeSession(id)
  }

  /**
   * Runs `work` in one transaction in which it may open sessions (`open`), then applies the
   * session cap to each user who got one, after the commit. For the flows that verify a
   * sign-in in a transaction of their own (the second step, passkeys).
   */
  async function inSessionTransaction<T> (work: (trx: Db, open: SessionOpener) => Promise<T>): Promise<T> {
    const opened = new Set<string>()
    const result = await db.transaction().execute((trx) => work(trx, (user, client, amr) => {
      opened.add(user.id)
      return startSession(user, client, amr, trx)
    }))
    for (const userId of opened) await enforceSessionCap(userId)
    return result
  }

  async function confirmPassword (user: UserRow, password: string): Promise<boolean> {
    await rateLimits.changePasswordPerAccount.hit(user.id)
    if (!(await hasher.verify(user.password_hash, password))) return false
    await rateLimits.changePasswordPerAccount.reset(user.id)
    return true
  }

  const service = {
    /**
     * For a flow that verifies a sign-in itself (the second step, a passkey): its transaction,
     * in which it opens the same sessions and tokens as `signin`, under the same cap.
     */
    inSessionTransaction,

    /** Creates an account and signs it in. Uniqueness is enforced by the database's indexes. */
    async signup (input: { email: string, username: string, password: string, name?: string | undefined }, client: ClientInfo): Promise<IssuedTokens> {
      const email = normalizeEmail(input.email)
      await assertPasswordAcceptable('password', input.password, { email, username: input.username })
      const passwordHash = await hasher.hash(input.password)
      const now = clock.now().toISOString()
      return db.transaction().execute(async (trx) => {
        let row: UserRow
        try {
          row = await insertUser(trx, newUserRow({ email, username: input.username, name: input.name, passwordHash, now }))
        } catch (error) {
          conflict(error)
        }
        await enqueueWelcomeMail(trx, { config, clock }, row)
        // A new account's first session: no cap to apply.
        return startSession(toUser(row), client, PASSWORD_AMR, trx)
      })
    },

    /**
     * Sign-up that reveals nothing (SIGNUP_ENUMERATION_SAFE): the caller always gets the same
     * answer, and what happened is told by mail to the address's owner. A taken address costs
     * the same password hash as a new one, so the timing matches too.
     */
    async signupWithoutDisclosure (input: { email: string, username: string, password: string, name?: string | undefined }): Promise<void> {
      const email = normalizeEmail(input.email)
      await assertPasswordAcceptable('password', input.password, { email, username: input.username })
      const passwordHash = await hasher.hash(input.password)
      const now = clock.now().toISOString()
      try {
        await db.transaction().execute(async (trx) => {
          const row = await insertUser(trx, newUserRow({ email, username: input.username, name: input.name, passwordHash, now }))
          await enqueueWelcomeMail(trx, { config, clock }, row)
        })
      } catch (error) {
        if (!uniqueViolationColumn(error)) throw error
        // A new transaction: on PostgreSQL the failed insert aborted the first one. A taken
        // username must not answer 409 either, or a known username would reveal whether the
        // address is registered.
        await db.transaction().execute(async (trx) => {
          if (await findUserByEmail(trx, email)) await enqueueAccountExistsMail(trx, { config, clock }, email)
          else await enqueueUsernameTakenMail(trx, { config, clock }, email)
        })
      }
    },

    /**
     * Checks credentials. The answer for an unknown email and for a wrong password is the same
     * error after the same work (one argon2 verification), and an inactive account is only
     * revealed to someone who knows its password.
     */
    async authenticate (emailInput: string, password: string, client?: ClientInfo): Promise<UserRow> {
      const email = normalizeEmail(emailInput)
      const user = await userByEmail(email)
      // The failure events below have no write of their own to join (see AuditLog.record).
      if (!user) {
        await hasher.verifyDummy(password)
        // Recorded like a wrong password (one write), so the two paths cost the same.
        await audit(AuditEvents.signinFailure, null, client, { email, reason: 'unknown_email' })
        throw Errors.invalidCredentials()
      }
      if (!(await hasher.verify(user.password_hash, password))) {
        await audit(AuditEvents.signinFailure, user.id, client, { email, reason: 'wrong_password' })
        throw Errors.invalidCredentials()
      }
      // Only someone who knows the password learns that the account is inactive or awaits
      // verification: a stranger gets invalid_credentials above, for every address.
      const refusal = signInRefusal(user, config)
      if (refusal) {
        await audit(AuditEvents.signinFailure, user.id, client, { email, reason: refusal.reason })
        throw refusal.error
      }
      if (hasher.needsRehash(user.password_hash)) {
        // Parameters were raised (or the hash came from another system): upgrade it now that
        // we hold the plain password, once, on this successful sign-in. The row returned
        // carries the hash now stored, which is what opens the session (passwordStillCurrent).
        const upgraded = await upgradePasswordHash(db, user.id, user.password_hash, await hasher.hash(password))
        if (upgraded) return upgraded
        // Another write came first: a concurrent sign-in's upgrade, or a password change. The
        // password is checked against the hash stored now.
        const current = await userByEmail(email)
        if (!current || !(await hasher.verify(current.password_hash, password))) throw Errors.invalidCredentials()
        // The other write may also have deactivated the account or changed its e-mail's state.
        const refusalNow = signInRefusal(current, config)
        if (refusalNow) {
          await audit(AuditEvents.signinFailure, current.id, client, { email, reason: refusalNow.reason })
          throw refusalNow.error
        }
        return current
      }
      return user
    },

    /**
     * Sign-in as every entry point does it (/signin, /login, /token's password grant, and the
     * hosted pages and the second step after them): the two rate limits, then the credentials.
     * Every attempt counts against the client IP and against the email, whether or not an
     * account has it, so neither a 401 nor a 429 tells which emails are registered. The email's
     * slot is taken before the password is checked (one atomic increment), so a burst of
     * parallel guesses cannot all pass a not-yet-updated counter; a successful sign-in clears
     * it, so what remains counted are the failures.
     */
    async signIn (attempt: SignInAttempt): Promise<IssuedTokens> {
      const email = normalizeEmail(attempt.email)
      const client: ClientInfo = { ip: attempt.ip, userAgent: attempt.userAgent, clientId: attempt.clientId }
      try {
        await rateLimits.signinPerIp.hit(attempt.ip ?? '')
        await rateLimits.signinPerAccount.hit(email)
      } catch (error) {
        // Recorded once per locked key and window: a flood of refused attempts must not turn
        // into a flood of writes. No user id: the lockout answers alike for any email.
        if (isRateLimited(error) && error.firstInWindow) await audit(AuditEvents.signinLockedOut, null, client, { email })
        throw error
      }
      let user: UserRow
      try {
        user = await service.authenticate(email, attempt.password, client)
      } catch (error) {
        if (error instanceof AppError) signinAttempts.inc({ outcome: error.code })
        throw error
      }
      if (user.mfa_enabled === 1) {
        // The password was right; no tokens until the second step (/mfa/verify). Without a
        // second step wired in, fail closed rather than sign in on the password alone.
        if (!deps.secondStep) throw new Error('two-step verification is on for this user but no second step is configured')
        signinAttempts.inc({ outcome: 'mfa_required' })
        const mfaToken = await deps.secondStep(user, client)
        // What is left to guess is the code, which has limits of its own (per mfa_token and per
        // account): the password's failure count starts again, as after a success.
        await rateLimits.signinPerAccount.reset(email)
        throw Errors.mfaRequired(mfaToken)
      }
      // Opened only while the verified hash is still the user's: a password change that
      // commits during the hash check must not be outlived by the session it would revoke.
      const tokens = await db.transaction().execute(async (trx) => {
        if (!(await passwordStillCurrent(trx, user.id, user.password_hash))) return undefined
        return startSession(toUser(user), client, PASSWORD_AMR, trx)
      })
      if (!tokens) {
        signinAttempts.inc({ outcome: 'invalid_credentials' })
        throw Errors.invalidCredentials()
      }
      await enforceSessionCap(user.id)
      signinAttempts.inc({ outcome: 'success' })
      // Outside the session's transaction, like the failures: that transaction stays one check
      // and one insert, and an audit outage must not turn every sign-in into a 500.
      await audit(AuditEvents.signinSuccess, user.id, client)
      await rateLimits.signinPerAccount.reset(email)
      return tokens
    },

    /**
     * Exchanges a refresh token for a new pair. Presenting a token that was already rotated
     * means two parties hold it: the whole session is revoked (RFC 6819 §5.2.2.3).
     */
    async refresh (refreshToken: string, client?: ClientInfo): Promise<IssuedTokens> {
      const parsed = parseRefreshToken(refreshToken)
      if (!parsed) throw Errors.invalidRefreshToken()
      const now = clock.now()
      const presentedHash = sha256(parsed.secret)
      const newSecret = randomToken(32)
      // The rotation is atomic (see prepareRefreshRotation): of two parallel refreshes with one
      // token exactly one wins, and the other then finds its token rotated out, which revokes
      // the session before it answers. A thief racing the owner looks exactly like that, so
      // the race is not forgiven.
      const rotated = await rotateRefreshToken({
        id: parsed.sessionId,
        oldHash: presentedHash,
        newHash: sha256(newSecret),
        now: now.toISOString(),
        expiresAt: addSeconds(now, config.tokens.refreshTtlSeconds).toISOString(),
        // Past its absolute lifetime a session cannot be refreshed, however active it is.
        createdAfter: addSeconds(now, -config.tokens.sessionMaxAgeSeconds).toISOString(),
        // A refresh token works only for the client it was issued to (RFC 6749 §6); one that
        // names another client rotates nothing, and reads as an invalid token.
        ...(client?.clientId !== undefined ? { clientId: client.clientId, defaultClientId: config.tokens.defaultClientId } : {})
      })
      const outcome = rotated
        ? { kind: 'rotated' as const, clientId: rotated.client_id, amr: rotated.amr }
        : await whyNotRotated(parsed.sessionId, presentedHash)
      if (outcome.kind !== 'rotated') {
        if (outcome.kind === 'reused') {
          // A revocation stands even if its audit write fails, so the event follows it.
          await sessions.revokeSession(parsed.sessionId)
          await audit(AuditEvents.refreshReuseDetected, outcome.userId, client, { session_id: parsed.sessionId })
        }
        throw Errors.invalidRefreshToken()
      }
      const live = await liveness.check(parsed.sessionId)
      if (!live || !live.user.is_active) throw Errors.invalidRefreshToken()
      // A refreshed token says how the session was opened, not that it was refreshed.
      const access = await accessTokenFor(live.user, { id: parsed.sessionId, clientId: outcome.clientId ?? config.tokens.defaultClientId, amr: amrOf(outcome.amr) })
      return { accessToken: access.token, expiresIn: access.expiresIn, refreshToken: `${parsed.sessionId}.${newSecret}`, user: live.user }
    },

    async logout (sessionId: string, context?: { userId: string, client: ClientInfo }): Promise<void> {
      // A revocation stands even if its audit write fails, so the event follows it.
      await sessions.revokeSession(sessionId)
      if (context) await audit(AuditEvents.logout, context.userId, context.client, { session_id: sessionId })
    },

    /**
     * Logout with the refresh token alone, for a client whose access token has expired while
     * its refresh token keeps the session alive. The token must be the session's current one
     * or one it rotated out (which ends the session all the same); anything else is refused
     * and ends nothing, so knowing a session id is not enough to end it.
     */
    async logoutWithRefreshToken (refreshToken: string, client: ClientInfo): Promise<void> {
      const parsed = parseRefreshToken(refreshToken)
      if (!parsed) throw Errors.invalidRefreshToken()
      const hash = sha256(parsed.secret)
      const session = await findSessionByRefreshHash(db, parsed.sessionId, hash) ??
        (await wasRotatedOut(db, parsed.sessionId, hash) ? await findSession(db, parsed.sessionId) : undefined)
      if (!session || session.revoked_at !== null) throw Errors.invalidRefreshToken()
      await sessions.revokeSession(session.id)
      await audit(AuditEvents.logout, session.user_id, client, { session_id: session.id, via: 'refresh_token' })
    },

    async logoutAll (userId: string, client?: ClientInfo): Promise<void> {
      await sessions.revokeUserSessions(userId, (trx) => audit(AuditEvents.logoutAll, userId, client, undefined, trx))
    },

    async updateProfile (userId: string, patch: { name?: string | null | undefined, username?: string | undefined }): Promise<UserDto> {
      const values: Record<string, unknown> = {}
      if (patch.name !== undefined) values.name = patch.name
      if (patch.username !== undefined) {
        values.username = patch.username
        values.username_lower = patch.username.toLowerCase()
      }
      if (Object.keys(values).length === 0) {
        const row = await findUserById(db, userId)
        if (!row) throw Errors.invalidToken()
        return toUser(row)
      }
      const row = await sessions.changeUser(userId, async (trx) => {
        try {
          return await updateUser(trx, userId, { ...values, updated_at: clock.now().toISOString() })
        } catch (error) {
          conflict(error)
        }
      })
      if (!row) throw Errors.invalidToken()
      return toUser(row)
    },

    /**
     * A password the signed-in user enters again to confirm a sensitive change (here, and
     * for two-step verification's management): behind one per-account limit of re-entered
     * passwords (`RATE_LIMIT_CHANGE_PASSWORD_PER_ACCOUNT`), so a stolen access token is not an
     * unlimited oracle for the password. As at sign-in the slot is taken before the check, so
     * parallel guesses cannot outrun the count, and a 429 costs no hash; a right password
     * starts the count again, so only failures add up and the owner is never locked out.
     */
    confirmPassword,

    /** Changes the password and ends every session, this one included. */
    async changePassword (userId: string, oldPassword: string, newPassword: string, client?: ClientInfo): Promise<void> {
      const user = await findUserById(db, userId)
      if (!user) throw Errors.invalidToken()
      if (!(await confirmPassword(user, oldPassword))) {
        // A refusal writes nothing else: no transaction to join.
        await audit(AuditEvents.passwordChanged, userId, client, { outcome: 'incorrect_password' })
        throw Errors.incorrectPassword()
      }
      await assertPasswordAcceptable('new_password', newPassword, { email: user.email, username: user.username })
      const hash = await hasher.hash(newPassword)
      const now = clock.now().toISOString()
      await sessions.revokeUserSessions(userId, async (trx) => {
        const updated = await updateUser(trx, userId, { password_hash: hash, password_changed_at: now, updated_at: now })
        await afterPasswordChange(trx, { config, clock }, updated ?? user)
        await audit(AuditEvents.passwordChanged, userId, client, { outcome: 'changed' }, trx)
      })
    },

    async listSessions (userId: string, currentSessionId: string): Promise<SessionView[]> {
      const rows = await listLiveSessions(db, userId, clock.now().toISOString())
      return rows.map((row) => ({
        id: row.id,
        created_at: toIso(row.created_at),
        last_used_at: toIso(row.last_used_at),
        expires_at: toIso(row.expires_at),
        ip: row.ip,
        user_agent: row.user_agent,
        amr: amrOf(row.amr),
        current: row.id === currentSessionId
      }))
    },

    /** Revokes one of the user's own sessions; someone else's is "not found", never "forbidden". */
    async deleteSession (userId: string, sessionId: string, client?: ClientInfo): Promise<void> {
      const session = await findSession(db, sessionId)
      if (!session || session.user_id !== userId || session.revoked_at !== null) throw Errors.notFound('Session not found')
      // A revocation stands even if its audit write fails, so the event follows it.
      await sessions.revokeSession(sessionId)
      await audit(AuditEvents.sessionRevoked, userId, client, { session_id: sessionId })
    }
  }
  return service
}
