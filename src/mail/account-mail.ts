import type { Config } from '../config/index.js'
import type { Db } from '../database.js'
import { addSeconds, type Clock } from '../lib/clock.js'
import { newId, randomToken, sha256 } from '../lib/crypto.js'
import { enqueueMail } from './outbox.repository.js'
import { type RenderedMail, templates } from './templates/templates.js'
import type { AccountChangeNotices } from '../users/users.service.js'
import type { UserRow } from '../users/users.table.js'
import { insertOneTimeToken, voidTokens } from '../tokens/one-time-tokens.repository.js'
import type { OneTimeTokenPurpose } from '../tokens/one-time-tokens.table.js'

/**
 * The mails of the account flows, each written to the outbox with the caller's transaction so
 * the mail exists exactly when the action committed. Used by the auth and recovery services.
 */
export interface MailDeps { config: Config, clock: Clock }

/** 256 random bits, URL-safe; only its SHA-256 is stored. */
export async function issueOneTimeToken (trx: Db, deps: MailDeps, user: Pick<UserRow, 'id' | 'email'>, purpose: OneTimeTokenPurpose): Promise<string> {
  const now = deps.clock.now()
  const token = randomToken(32)
  const ttl = purpose === 'password_reset' ? deps.config.tokens.resetTtlSeconds : deps.config.tokens.verifyTtlSeconds
  await insertOneTimeToken(trx, {
    id: newId(),
    user_id: user.id,
    purpose,
    token_hash: sha256(token),
    email: user.email,
    created_at: now.toISOString(),
    expires_at: addSeconds(now, ttl).toISOString(),
    used_at: null
  })
  return token
}

export function linkTo (config: Config, page: 'reset-password' | 'verify-email' | 'forgot-password', token?: string): string {
  return `${config.publicUrl}/${page}${token ? `?token=${encodeURIComponent(token)}` : ''}`
}

async function enqueue (trx: Db, deps: MailDeps, template: string, recipient: string, rendered?: RenderedMail): Promise<void> {
  await enqueueMail(trx, { id: newId(), template, recipient, ...(rendered ? { rendered } : {}), now: deps.clock.now().toISOString() })
}

/** Sign-up: welcome + a verification link. */
export async function enqueueWelcomeMail (trx: Db, deps: MailDeps, user: UserRow, template: 'welcome' | 'verify_email' = 'welcome'): Promise<void> {
  const token = await issueOneTimeToken(trx, deps, user, 'email_verification')
  const args = { verifyUrl: linkTo(deps.config, 'verify-email', token), ttlSeconds: deps.config.tokens.verifyTtlSeconds }
  await enqueue(trx, deps, template, user.email, templates[template](args))
}

/**
 * The name a mail to this user may greet them by: none until the address is verified, since
 * until then whoever chose the name may not own the address (API.md, mail to unverified
 * addresses).
 */
export function addresseeName (user: Pick<UserRow, 'name' | 'is_verified'>): string | null {
  return user.is_verified === 1 ? user.name : null
}

/** After any password change: the "if this wasn't you" notice; older reset links and half-finished sign-ins stop working. */
export async function afterPasswordChange (trx: Db, deps: MailDeps, user: UserRow): Promise<void> {
  await voidTokens(trx, user.id, 'password_reset', deps.clock.now().toISOString())
  // A half-finished sign-in (an mfa_token) stands for the old password: voided in the change's
  // transaction, after the user's row is written and before its sessions are revoked. A token
  // issued while the change was in flight is gone, and a second step that spent one first has
  // committed its session before the revocation runs (it holds the token's row until then).
  // By table, not through mfa/, which builds on this module.
  await trx.deleteFrom('mfa_challenges').where('user_id', '=', user.id).execute()
  await enqueue(trx, deps, 'password_changed', user.email,
    templates.password_changed({ name: addresseeName(user), forgotUrl: linkTo(deps.config, 'forgot-password') }))
}

/** The users module's notices of administrative changes, as mails (see `AccountChangeNotices`). */
export function accountChangeNotices (deps: MailDeps): AccountChangeNotices {
  return {
    emailChanged: (trx, before) => enqueueEmailChangedMail(trx, deps, before),
    passwordChanged: (trx, after) => afterPasswordChange(trx, deps, after)
  }
}

/** An administrator changed the address: the owner is told at the one they had. */
export async function enqueueEmailChangedMail (trx: Db, deps: MailDeps, before: UserRow): Promise<void> {
  await enqueue(trx, deps, 'email_changed', before.email, templates.email_changed({ name: addresseeName(before) }))
}

export async function enqueueEmailVerifiedMail (trx: Db, deps: MailDeps, user: UserRow): Promise<void> {
  await enqueue(trx, deps, 'email_verified', user.email, templates.email_verified({ name: user.name }))
}

/** Enumeration-safe sign-up with a registered address: tell the owner, not the requester. */
export async function enqueueAccountExistsMail (trx: Db, deps: MailDeps, email: string): Promise<void> {
  await enqueue(trx, deps, 'account_exists', email, templates.account_exists({ forgotUrl: linkTo(deps.config, 'forgot-password') }))
}

export async function enqueueUsernameTakenMail (trx: Db, deps: MailDeps, email: string): Promise<void> {
  await enqueue(trx, deps, 'username_taken', email, templates.username_taken())
}

/**
 * A reset request is queued with the address only and rendered by the sender (see
 * `renderPasswordReset`): the request itself does the same single insert whether or not the
 * address has an account.
 */
export async function enqueuePasswordResetRequest (db: Db, deps: MailDeps, email: string): Promise<void> {
  await enqueue(db, deps, 'password_reset', email)
}
