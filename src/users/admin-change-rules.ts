import type { Actor } from '../audit/audit.service.js'
import type { Db } from '../database.js'
import { Errors } from '../http/errors.js'
import { findUserById } from './users.repository.js'
import type { UserRow } from './users.table.js'

/** What an administrative change does to its target, for `assertMayChangeUser`. */
export interface AdminChange {
  /** Deactivates, demotes or deletes. */
  disables: boolean
  /**
   * Sets or removes a credential: a new password, or the second factor turned off (an MFA
   * reset). Either is how an account is taken over.
   */
  credentials?: boolean
  email?: boolean
}

/**
 * The one rule for what an administrator may do to a user, for every administrative entry
 * point (users, their second factor). The primary admin is the deployment's root of trust and
 * cannot be changed by anyone else (another superuser could otherwise take it over by setting
 * its email or password, or strip its second factor); no superuser may lock themself out or
 * change their own credentials this way (`/change-password` and `/mfa/totp/disable` ask for
 * the password, and a code); only the primary admin may change another superuser's email or
 * credentials. The operator CLI (no actor) may repair the primary (set its password,
 * activate, promote, reset its second factor) but never disable it.
 */
export async function assertMayChangeUser (db: Db, target: UserRow, actor: Actor, change: AdminChange): Promise<void> {
  const self = actor.userId !== null && actor.userId === target.id
  if (target.is_primary === 1 && (change.disables || (actor.userId !== null && !self))) throw Errors.forbidden()
  // A stolen admin session must not be enough to take the account over for good.
  if (self && (change.disables || change.credentials === true)) throw Errors.forbidden()
  if (!self && actor.userId !== null && target.is_superuser === 1 && (change.email === true || change.credentials === true)) {
    const acting = await findUserById(db, actor.userId)
    if (acting?.is_primary !== 1) throw Errors.forbidden()
  }
}
