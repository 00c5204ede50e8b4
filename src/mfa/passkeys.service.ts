import {
  type AuthenticationResponseJSON, type AuthenticatorTransport, generateAuthenticationOptions, generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON, type PublicKeyCredentialRequestOptionsJSON, type RegistrationResponseJSON,
  verifyAuthenticationResponse, verifyRegistrationResponse
} from '@simplewebauthn/server'
import { AuditEvents, type AuditLog } from '../audit/audit.service.js'
import type { AuthService, ClientInfo, IssuedTokens } from '../auth/auth.service.js'
import type { Config } from '../config/index.js'
import type { Db } from '../database.js'
import type { StatementPreparer } from '../db/prepared-statement.js'
import { uniqueViolationColumn } from '../db/errors.js'
import { type AppError, Errors } from '../http/errors.js'
import type { RateLimiter } from '../rate-limits/rate-limit.js'
import { addSeconds, type Clock, toIso } from '../lib/clock.js'
import { newId, sha256 } from '../lib/crypto.js'
import { passkeySignins } from '../metrics/metrics.js'
import { toUser } from '../users/users.mapper.js'
import { findUserById, signInUserLookups } from '../users/users.repository.js'
import { signInRefusal } from '../users/sign-in-eligibility.js'
import type { UserDto } from '../users/users.schemas.js'
import type { UserRow } from '../users/users.table.js'
import { enqueueMfaMail } from './mfa-mail.js'
import { assertMayAddWayIn } from './session-assurance.js'
import {
  deletePasskey, insertPasskey, insertWebauthnChallenge, listPasskeys, passkeyStatements, renamePasskey
} from './passkeys.repository.js'
import type { PasskeyRow, WebauthnChallengePurpose } from './passkeys.table.js'

/** Challenges are single use and expire after 5 minutes. */
export const WEBAUTHN_CHALLENGE_TTL_SECONDS = 300

export interface PasskeyView { id: string, name: string, created_at: string, last_used_at: string | null }

export interface PasskeysServiceDeps {
  db: Db
  /** The sign-in's statements are compiled once per database. */
  statements: StatementPreparer
  config: Config
  clock: Clock
  /** Sign-in options and attempts per client IP. */
  limiter: RateLimiter
  /** In the action's transaction; refused sign-ins, which write nothing else, outside one. */
  audit: AuditLog
  /** The sign-in flow's transaction for a completed sign-in: its sessions, its session cap. */
  inSessionTransaction: AuthService['inSessionTransaction']
}

function toView (row: PasskeyRow): PasskeyView {
  return { id: row.id, name: row.name, created_at: toIso(row.created_at), last_used_at: row.last_used_at === null ? null : toIso(row.last_used_at) }
}

/** The challenge a response answers, from its clientDataJSON (verified again by the library). */
function challengeOf (clientDataJson: string): string | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(clientDataJson, 'base64url').toString('utf8')) as { challenge?: unknown }
    return typeof parsed.challenge === 'string' && parsed.challenge.length > 0 && parsed.challenge.length <= 512 ? parsed.challenge : undefined
  } catch {
    return undefined
  }
}

/**
 * RFC 8176 for a passkey sign-in: `hwk` for a key bound to one authenticator, `swk` for a
 * synced one (its private key lives in software outside the device), and `mfa`: user
 * verification is required, so possession came with a PIN or biometric.
 */
function amrFor (deviceType: string): string[] {
  return [deviceType === 'singleDevice' ? 'hwk' : 'swk', 'mfa']
}

export type PasskeysService = ReturnType<typeof createPasskeysService>

export function createPasskeysService (deps: PasskeysServiceDeps) {
  const { db, config, clock, limiter, audit } = deps
  const { takeWebauthnChallenge, findPasskeyByCredentialId, advancePasskeyCounter } = passkeyStatements(deps.statements)
  const { userById } = signInUserLookups(deps.statements)
  const { rpId, rpName, origin } = config.mfa
  const mailDeps = { config, clock }

  async function storeChallenge (challenge: string, purpose: WebauthnChallengePurpose, userId: string | null): Promise<void> {
    const now = clock.now()
    await insertWebauthnChallenge(db, {
      challengeHash: sha256(challenge),
      purpose,
      userId,
      now: now.toISOString(),
      expiresAt: addSeconds(now, WEBAUTHN_CHALLENGE_TTL_SECONDS).toISOString()
    })
  }

  async function take (challenge: string | undefined, purpose: WebauthnChallengePurpose, userId: string | null): Promise<boolean> {
    if (challenge === undefined) return false
    return takeWebauthnChallenge({ challengeHash: sha256(challenge), purpose, userId, now: clock.now().toISOString() })
  }

  async function refused (outcome: string, client: ClientInfo, userId: string | null, reason: string, error: AppError = Errors.passkeyNotRecognised()): Promise<never> {
    passkeySignins.inc({ outcome })
    await audit.record(AuditEvents.passkeySignin, { userId, actorId: userId, ip: client.ip, userAgent: client.userAgent, details: { outcome, reason } })
    throw error
  }

  /** A passkey asks for no password: a recent sign-in, through the second step when it is on. */
  async function assertMayAddPasskey (userId: string, sessionId: string): Promise<UserRow> {
    const user = await findUserById(db, userId)
    if (!user) throw Errors.invalidToken()
    await assertMayAddWayIn(db, clock, user, sessionId, { recentSignIn: true })
    return user
  }

  const service = {
    /** Options for navigator.credentials.create(): a discoverable credential, the user's existing passkeys excluded. */
    async registrationOptions (user: UserDto, sessionId: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
      await assertMayAddPasskey(user.id, sessionId)
      const existing = await listPasskeys(db, user.id)
      const options = await generateRegistrationOptions({
        rpName,
        rpID: rpId,
        // The user handle is the account id: no personal data, and sign-in can check it.
        userID: Buffer.from(user.id, 'utf8'),
        userName: user.email,
        userDisplayName: user.name ?? user.username,
        timeout: WEBAUTHN_CHALLENGE_TTL_SECONDS * 1000,
        attestationType: 'none',
        excludeCredentials: existing.map((row) => ({
          id: row.credential_id,
          ...(row.transports ? { transports: JSON.parse(row.transports) as AuthenticatorTransport[] } : {})
        })),
        authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' }
      })
      await storeChallenge(options.challenge, 'register', user.id)
      return options
    },

    /** Verifies the authenticator's answer to `registrationOptions` and keeps the new passkey. */
    async register (userId: string, sessionId: string, response: RegistrationResponseJSON, name: string | undefined, client: ClientInfo): Promise<PasskeyView> {
      const user = await assertMayAddPasskey(userId, sessionId)
      const challenge = challengeOf(response.response.clientDataJSON)
      const now = clock.now().toISOString()
      // Taken (and committed) before the verification: a failed attempt spends it too.
      if (!(await take(challenge, 'register', userId))) throw Errors.invalidPasskeyRegistration()
      const verification = await verifyRegistrationResponse({
        response,
        expectedChallenge: challenge!,
        expectedOrigin: origin,
        expectedRPID: rpId,
        requireUserVerification: true
      }).catch(() => { throw Errors.invalidPasskeyRegistration() })
      if (!verification.verified) throw Errors.invalidPasskeyRegistration()
      const info = verification.registrationInfo
      try {
        return await db.transaction().execute(async (trx) => {
          const row: PasskeyRow = {
            id: newId(),
            user_id: userId,
            credential_id: info.credential.id,
            public_key: Buffer.from(info.credential.publicKey).toString('base64url'),
            counter: info.credential.counter,
            transports: info.credential.transports ? JSON.stringify(info.credential.transports) : null,
            device_type: info.credentialDeviceType,
            backed_up: info.credentialBackedUp ? 1 : 0,
            name: name ?? 'Passkey',
            created_at: now,
            last_used_at: null
          }
          await insertPasskey(trx, row)
          await enqueueMfaMail(trx, mailDeps, user, 'passkey_added')
          await audit.record(AuditEvents.passkeyAdded, { userId, actorId: userId, ip: client.ip, userAgent: client.userAgent, details: { passkey_id: row.id, device_type: row.device_type } }, trx)
          return toView(row)
        })
      } catch (error) {
        // The same authenticator registered twice (here or to another account).
        if (uniqueViolationColumn(error) === 'credential_id') throw Errors.invalidPasskeyRegistration()
        throw error
      }
    },

    async list (userId: string): Promise<PasskeyView[]> {
      return (await listPasskeys(db, userId)).map(toView)
    },

    /** Someone else's passkey is "not found", never "forbidden". */
    async rename (userId: string, id: string, name: string, client: ClientInfo): Promise<PasskeyView> {
      return db.transaction().execute(async (trx) => {
        const row = await renamePasskey(trx, userId, id, name)
        if (!row) throw Errors.notFound('Passkey not found')
        await audit.record(AuditEvents.passkeyRenamed, { userId, actorId: userId, ip: client.ip, userAgent: client.userAgent, details: { passkey_id: id } }, trx)
        return toView(row)
      })
    },

    async remove (userId: string, id: string, client: ClientInfo): Promise<void> {
      await db.transaction().execute(async (trx) => {
        if (!(await deletePasskey(trx, userId, id))) throw Errors.notFound('Passkey not found')
        const user = await findUserById(trx, userId)
        if (user) await enqueueMfaMail(trx, mailDeps, user, 'passkey_removed')
        await audit.record(AuditEvents.passkeyRemoved, { userId, actorId: userId, ip: client.ip, userAgent: client.userAgent, details: { passkey_id: id } }, trx)
      })
    },

    /**
     * Options for a discoverable sign-in: no allowCredentials, so the answer is the same for
     * everyone and reveals no account. Behind the per-IP limit: each call stores a challenge.
     */
    async signinOptions (client: ClientInfo): Promise<PublicKeyCredentialRequestOptionsJSON> {
      await limiter.hit(client.ip ?? 'unknown').catch((error: unknown) => { passkeySignins.inc({ outcome: 'rate_limited' }); throw error })
      const options = await generateAuthenticationOptions({ rpID: rpId, userVerification: 'required', timeout: WEBAUTHN_CHALLENGE_TTL_SECONDS * 1000 })
      await storeChallenge(options.challenge, 'signin', null)
      return options
    },

    /**
     * Signs in with a passkey: a challenge we issued (taken once), a registered credential,
     * a valid signature from the origin of PUBLIC_URL with user verification, and a counter
     * that moved forward (or stays 0 for authenticators without one). Satisfies two-step
     * verification. An inactive account is only revealed to the key's holder.
     */
    async signin (response: AuthenticationResponseJSON, client: ClientInfo): Promise<IssuedTokens> {
      await limiter.hit(client.ip ?? 'unknown').catch((error: unknown) => { passkeySignins.inc({ outcome: 'rate_limited' }); throw error })
      const challenge = challengeOf(response.response.clientDataJSON)
      // Taken before anything else is looked at: every attempt spends its challenge.
      if (!(await take(challenge, 'signin', null))) return refused('invalid_passkey', client, null, 'unknown_challenge')
      const passkey = await findPasskeyByCredentialId(response.id)
      if (!passkey) return refused('invalid_passkey', client, null, 'unknown_credential')
      const storedCounter = Number(passkey.counter)
      let verification
      try {
        verification = await verifyAuthenticationResponse({
          response,
          expectedChallenge: challenge!,
          expectedOrigin: origin,
          expectedRPID: rpId,
          credential: {
            id: passkey.credential_id,
            publicKey: Buffer.from(passkey.public_key, 'base64url'),
            counter: storedCounter,
            ...(passkey.transports ? { transports: JSON.parse(passkey.transports) as AuthenticatorTransport[] } : {})
          },
          requireUserVerification: true
        })
      } catch {
        verification = undefined
      }
      if (!verification?.verified) return refused('invalid_passkey', client, passkey.user_id, 'verification_failed')
      const userHandle = response.response.userHandle
      if (userHandle !== undefined && Buffer.from(userHandle, 'base64url').toString('utf8') !== passkey.user_id) {
        return refused('invalid_passkey', client, passkey.user_id, 'user_handle_mismatch')
      }
      const user = await userById(passkey.user_id)
      if (!user) return refused('invalid_passkey', client, null, 'unknown_credential')
      // The sign-in rule of every way in, told only to the key's holder.
      const refusal = signInRefusal(user, config)
      if (refusal) return refused(refusal.error.code, client, user.id, refusal.reason, refusal.error)
      const info = verification.authenticationInfo
      const now = clock.now().toISOString()
      const tokens = await deps.inSessionTransaction(async (trx, openSession) => {
        if (!(await advancePasskeyCounter(trx, passkey.id, storedCounter, info.newCounter, now))) return undefined
        await audit.record(AuditEvents.passkeySignin, { userId: user.id, actorId: user.id, ip: client.ip, userAgent: client.userAgent, details: { outcome: 'success', passkey_id: passkey.id } }, trx)
        return openSession(toUser(user), client, amrFor(info.credentialDeviceType))
      })
      // Another assertion of this passkey moved the counter meanwhile.
      if (!tokens) return refused('invalid_passkey', client, user.id, 'counter_race')
      passkeySignins.inc({ outcome: 'success' })
      return tokens
    }
  }
  return service
}
