import { AuditEvents, type AuditLog } from '../audit/audit.service.js'
import type { AuthService, ClientInfo, IssuedTokens } from '../auth/auth.service.js'
import type { Config } from '../config/index.js'
import type { Db } from '../database.js'
import type { StatementPreparer } from '../db/prepared-statement.js'
import { uniqueViolationColumn } from '../db/errors.js'
import { Errors } from '../http/errors.js'
import type { RateLimiter } from '../rate-limits/rate-limit.js'
import { type Clock, toDate } from '../lib/clock.js'
import { newId, sha256 } from '../lib/crypto.js'
import { createSecretBox } from '../lib/secret-box.js'
import { mfaVerifications } from '../metrics/metrics.js'
import type { SessionRevocation } from '../sessions/session-revocation.js'
import { toUser } from '../users/users.mapper.js'
import { findUserById, signInUserLookups, updateUser } from '../users/users.repository.js'
import { signInRefusal } from '../users/sign-in-eligibility.js'
import { findSession } from '../sessions/sessions.repository.js'
import { assertMayAddWayIn, markSessionTwoStep } from './session-assurance.js'
import type { UserRow } from '../users/users.table.js'
import { enqueueMfaMail } from './mfa-mail.js'
import { MFA_TOKEN_MAX_FAILURES } from './mfa-challenges.js'
import {
  confirmPendingTotp, deleteMfaFactors, insertPendingTotp, mfaStatements, replaceRecoveryCodes, unspendAfterUsedCode, useRecoveryCode
} from './mfa.repository.js'
import { matchRecoveryCode, newRecoveryCodes } from './recovery-codes.js'
import { matchTotp, newTotpSecret, otpauthUri } from './totp.js'

/** RFC 8176: a password, then a one-time code (TOTP or recovery code): two factors. */
export const SECOND_STEP_AMR: readonly string[] = ['pwd', 'otp', 'mfa']

// Checked against when the user has no confirmed TOTP factor, so every verification costs
// the same three HMACs whatever the account's state.
const DECOY_SECRET = newTotpSecret()

export interface MfaServiceDeps {
  db: Db
  /** The second step's statements are compiled once per database. */
  statements: StatementPreparer
  config: Config
  clock: Clock
  /** Cached session answers carry the user object, whose mfa_enabled changes here. */
  sessions: Pick<SessionRevocation, 'changeUser'>
  /** Wrong codes, per account (re-entered passwords have the sign-in flow's limit). */
  limiter: RateLimiter
  /** In the action's transaction; wrong codes, which write nothing else, outside one. */
  audit: AuditLog
  /** The sign-in flow's check of a re-entered password, under its limit. */
  confirmPassword: AuthService['confirmPassword']
  /** The sign-in flow's transaction for a completed sign-in: its sessions, its session cap. */
  inSessionTransaction: AuthService['inSessionTransaction']
}

/** True when the user's password changed after `at` (a time stored as ISO text or Date). */
function passwordChangedSince (user: UserRow, at: string | Date): boolean {
  return toDate(user.password_changed_at) > toDate(at)
}

type FactorMatch = { kind: 'totp', step: number } | { kind: 'recovery_code', id: string }

export type MfaService = ReturnType<typeof createMfaService>

export function createMfaService (deps: MfaServiceDeps) {
  const { db, config, clock, sessions, limiter, audit } = deps
  const { findTotp, listRecoveryCodes, findChallenge, spendChallenge, countWrongCode, useTotpStep } = mfaStatements(deps.statements)
  const { userById } = signInUserLookups(deps.statements)
  const box = createSecretBox(config.mfa.dataEncryptionKey ? Buffer.from(config.mfa.dataEncryptionKey, 'base64') : undefined)
  const mailDeps = { config, clock }

  function event (userId: string, client: ClientInfo, details?: Record<string, unknown>) {
    return { userId, actorId: userId, ip: client.ip, userAgent: client.userAgent, ...(details ? { details } : {}) }
  }

  async function userRow (userId: string): Promise<UserRow> {
    const row = await findUserById(db, userId)
    if (!row) throw Errors.invalidToken()
    return row
  }

  /**
   * Re-authentication for the factor's management: the sign-in flow's rule for re-entered
   * passwords, with its own limit. Codes have theirs (`limiter`): a right password must not
   * clear the count of wrong codes, nor a re-entered password count as a wrong code.
   */
  async function checkPassword (user: UserRow, password: string): Promise<void> {
    if (!(await deps.confirmPassword(user, password))) throw Errors.incorrectPassword()
  }

  function totpSecretOf (user: UserRow, stored: string): string {
    const secret = box.open(stored, user.id)
    // Not the client's mistake: the key was changed or the row tampered with.
    if (secret === undefined) throw new Error('stored TOTP secret cannot be decrypted (was DATA_ENCRYPTION_KEY changed?)')
    return secret
  }

  /**
   * Which factor `code` is: a TOTP code of the confirmed secret, or one of the unused
   * recovery codes. Both checks always run in full (three HMACs, one salted hash per stored
   * recovery code, constant-time comparisons), so the time says nothing about the code.
   * Nothing is consumed here.
   */
  async function matchFactor (user: UserRow, code: string): Promise<FactorMatch | undefined> {
    const totp = await findTotp(user.id)
    const recoveryCodes = await listRecoveryCodes(user.id)
    const secret = totp?.confirmed_at ? totpSecretOf(user, totp.secret) : undefined
    const step = matchTotp(secret ?? DECOY_SECRET, code, clock.now())
    const recovery = matchRecoveryCode(recoveryCodes, code)
    if (secret !== undefined && step !== undefined) return { kind: 'totp', step }
    if (recovery && recovery.used_at === null) return { kind: 'recovery_code', id: recovery.id }
    return undefined
  }

  /** Uses the matched factor up, atomically: false when it was already used (replay, race). */
  async function consume (trx: Db, userId: string, match: FactorMatch): Promise<boolean> {
    if (match.kind === 'totp') return useTotpStep(trx, userId, match.step)
    return useRecoveryCode(trx, match.id, clock.now().toISOString())
  }

  /**
   * Audited outside any transaction: the attempt changed nothing to commit with. `replayed`
   * marks a code that was right but already used (ASVS 2.8.5: logged and refused).
   */
  async function codeFailed (user: UserRow, client: ClientInfo, during: string, replayed = false): Promise<void> {
    await audit.record(AuditEvents.mfaCodeFailed, { userId: user.id, actorId: user.id, ip: client.ip, userAgent: client.userAgent, details: { during, reason: replayed ? 'replayed' : 'wrong_code' } })
  }

  /**
   * A sign-in's code refused: "wrong code" when it was counted against the token, else the
   * token could not take it (spent, expired or out of wrong codes meanwhile) and it is
   * "invalid token", as it would have been a moment later. Only a counted code is audited.
   */
  async function signinCodeRefused (user: UserRow, client: ClientInfo, counted: boolean, replayed: boolean): Promise<never> {
    if (!counted) {
      mfaVerifications.inc({ outcome: 'invalid_token' })
      throw Errors.invalidOneTimeToken()
    }
    await codeFailed(user, client, 'signin', replayed)
    mfaVerifications.inc({ outcome: 'invalid_code' })
    throw Errors.invalidCode(401)
  }

  async function issueRecoveryCodes (trx: Db, userId: string): Promise<string[]> {
    const codes = newRecoveryCodes()
    await replaceRecoveryCodes(trx, userId, codes.map((c) => ({ id: newId(), salt: c.salt, codeHash: c.codeHash })), clock.now().toISOString())
    return codes.map((c) => c.code)
  }

  const service = {
    /**
     * The otpauth URI of the pending (not yet confirmed) set-up, to show its QR code again; or
     * undefined when nothing is pending. Reads only: no limit is counted, nothing is audited.
     */
    async pendingTotpUri (userId: string): Promise<string | undefined> {
      const pending = await findTotp(userId)
      if (!pending || pending.confirmed_at) return undefined
      const user = await userRow(userId)
      return otpauthUri(totpSecretOf(user, pending.secret), config.mfa.issuer, user.email)
    },

    /**
     * Starts (or restarts) the TOTP set-up: a new secret, pending until `confirmTotp`. The
     * secret is returned here only, and stored encrypted when DATA_ENCRYPTION_KEY is set.
     */
    async beginTotpSetup (userId: string, password: string): Promise<{ secret: string, otpauthUri: string }> {
      const user = await userRow(userId)
      await checkPassword(user, password)
      if ((await findTotp(userId))?.confirmed_at) throw Errors.mfaAlreadyEnabled()
      const secret = newTotpSecret()
      const sealed = box.seal(secret, userId)
      for (let attempt = 1; ; attempt++) {
        try {
          await db.transaction().execute((trx) => insertPendingTotp(trx, { userId, secret: sealed, now: clock.now().toISOString() }))
          break
        } catch (error) {
          // A concurrent set-up or confirmation of this user took the row between our delete
          // and insert: a confirmed factor is a 409; another pending set-up is replaced.
          if (!uniqueViolationColumn(error)) throw error
          if ((await findTotp(userId))?.confirmed_at) throw Errors.mfaAlreadyEnabled()
          if (attempt === 3) throw error
        }
      }
      return { secret, otpauthUri: otpauthUri(secret, config.mfa.issuer, user.email) }
    },

    /**
     * Confirms the pending set-up with a first code: two-step verification is on, the owner
     * is told by mail, and the 10 recovery codes are returned (only their hashes are kept).
     */
    async confirmTotp (userId: string, sessionId: string, code: string, client: ClientInfo): Promise<{ recoveryCodes: string[] }> {
      const user = await userRow(userId)
      await limiter.hit(userId)
      const pending = await findTotp(userId)
      const step = pending && !pending.confirmed_at ? matchTotp(totpSecretOf(user, pending.secret), code, clock.now()) : undefined
      if (step === undefined) {
        await codeFailed(user, client, 'confirm')
        throw Errors.invalidCode()
      }
      const now = clock.now().toISOString()
      const recoveryCodes = await sessions.changeUser(userId, async (trx) => {
        // Of two concurrent confirmations one changes the row; the other finds nothing pending.
        if (!(await confirmPendingTotp(trx, userId, step, now))) throw Errors.invalidCode()
        const codes = await issueRecoveryCodes(trx, userId)
        const session = await findSession(trx, sessionId)
        if (session?.user_id === userId) await markSessionTwoStep(trx, sessionId, session.amr)
        const updated = await updateUser(trx, userId, { mfa_enabled: 1, updated_at: now })
        await enqueueMfaMail(trx, mailDeps, updated ?? user, 'mfa_enabled')
        await audit.record(AuditEvents.mfaEnabled, event(userId, client), trx)
        return codes
      })
      await limiter.reset(userId)
      return { recoveryCodes }
    },

    /** A new set of recovery codes; the old set stops working. */
    async regenerateRecoveryCodes (userId: string, sessionId: string, password: string, client: ClientInfo): Promise<{ recoveryCodes: string[] }> {
      const user = await userRow(userId)
      // New codes are a second factor: a password-only session cannot mint one, even with the
      // password (which a thief of it may well have). The password shows the sign-in is recent.
      await assertMayAddWayIn(db, clock, user, sessionId, { recentSignIn: false })
      await checkPassword(user, password)
      if (!(await findTotp(userId))?.confirmed_at) throw Errors.mfaNotEnabled()
      const recoveryCodes = await db.transaction().execute(async (trx) => {
        const codes = await issueRecoveryCodes(trx, userId)
        await enqueueMfaMail(trx, mailDeps, user, 'mfa_recovery_codes_regenerated')
        await audit.record(AuditEvents.mfaRecoveryCodesRegenerated, event(userId, client), trx)
        return codes
      })
      return { recoveryCodes }
    },

    /** Turns two-step verification off: needs the password and a code (TOTP or recovery code). */
    async disableTotp (userId: string, password: string, code: string, client: ClientInfo): Promise<void> {
      const user = await userRow(userId)
      await checkPassword(user, password)
      if (!(await findTotp(userId))?.confirmed_at) throw Errors.mfaNotEnabled()
      await limiter.hit(userId)
      const match = await matchFactor(user, code)
      const now = clock.now().toISOString()
      const done = match !== undefined && await sessions.changeUser(userId, async (trx) => {
        if (!(await consume(trx, userId, match))) return false
        await deleteMfaFactors(trx, userId)
        const updated = await updateUser(trx, userId, { mfa_enabled: 0, updated_at: now })
        await enqueueMfaMail(trx, mailDeps, updated ?? user, 'mfa_disabled')
        await audit.record(AuditEvents.mfaDisabled, event(userId, client, { with: match.kind }), trx)
        return true
      })
      if (!done) {
        await codeFailed(user, client, 'disable', match !== undefined)
        throw Errors.invalidCode()
      }
      await limiter.reset(userId)
    },

    /**
     * The second step of a sign-in: the mfa_token from /signin, /login or /token and a code.
     * The token is spent by the first right code, in the transaction that opens the session,
     * and dies after 5 wrong codes; wrong codes also count against the account (429 beyond
     * the limit), whatever token they came with. Both the spending and the count of a wrong
     * code are single statements on a live token, so concurrent attempts with one token
     * cannot count past the limit, nor succeed after it: an attempt answered "wrong code" has
     * been counted, and one the token can no longer take is answered "invalid token", right
     * code or not.
     */
    async verifySignin (mfaToken: string, code: string, client: ClientInfo): Promise<IssuedTokens> {
      const tokenHash = sha256(mfaToken)
      const now = clock.now()
      const nowIso = now.toISOString()
      const challenge = await findChallenge(tokenHash)
      if (!challenge) {
        mfaVerifications.inc({ outcome: 'invalid_token' })
        throw Errors.invalidOneTimeToken()
      }
      try {
        await limiter.hit(challenge.user_id)
      } catch (error) {
        mfaVerifications.inc({ outcome: 'rate_limited' })
        throw error
      }
      // A token already dead costs no code check. The same conditions are checked again,
      // atomically, by the statement that spends the token or counts the wrong code.
      const live = challenge.used_at === null && toDate(challenge.expires_at) > now && challenge.failed_attempts < MFA_TOKEN_MAX_FAILURES
      const user = live ? await userById(challenge.user_id) : undefined
      // An mfa_token stands for the password as it was when it was issued: once the password
      // is changed or reset (the owner's answer to a leaked one), a sign-in begun with the old
      // password cannot be completed.
      if (!user || passwordChangedSince(user, challenge.created_at)) {
        mfaVerifications.inc({ outcome: 'invalid_token' })
        throw Errors.invalidOneTimeToken()
      }
      const match = await matchFactor(user, code)
      if (!match) {
        const counted = await countWrongCode(tokenHash, nowIso, MFA_TOKEN_MAX_FAILURES)
        return await signinCodeRefused(user, client, counted, false)
      }
      // Deactivated (or made unverified) since the password step; only revealed with a right
      // code, and the token is spent.
      const refusal = signInRefusal(user, config)
      if (refusal) {
        if (!(await spendChallenge(undefined, tokenHash, nowIso, MFA_TOKEN_MAX_FAILURES))) return await signinCodeRefused(user, client, false, false)
        mfaVerifications.inc({ outcome: refusal.error.code })
        throw refusal.error
      }
      const outcome = await deps.inSessionTransaction(async (trx, openSession): Promise<{ tokens: IssuedTokens } | { refused: 'dead_token' | 'used_code' }> => {
        const spent = await spendChallenge(trx, tokenHash, nowIso, MFA_TOKEN_MAX_FAILURES)
        if (!spent) return { refused: 'dead_token' }
        if (!(await consume(trx, user.id, match))) {
          // Right, but used up by a concurrent sign-in: a wrong code for this token.
          await unspendAfterUsedCode(trx, tokenHash)
          return { refused: 'used_code' }
        }
        if (match.kind === 'recovery_code') await audit.record(AuditEvents.mfaRecoveryCodeUsed, event(user.id, client, { during: 'signin' }), trx)
        await audit.record(AuditEvents.signinSuccess, event(user.id, client, { method: match.kind }), trx)
        return { tokens: await openSession(toUser(user), { ...client, clientId: spent.client_id ?? undefined }, SECOND_STEP_AMR) }
      })
      if ('refused' in outcome) return await signinCodeRefused(user, client, outcome.refused === 'used_code', outcome.refused === 'used_code')
      await limiter.reset(user.id)
      mfaVerifications.inc({ outcome: match.kind === 'totp' ? 'success_totp' : 'success_recovery_code' })
      return outcome.tokens
    }
  }
  return service
}
